import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createPlatformApp } from '../platform-app';
import { parsePlatformConfig } from '../config';
import { releasePointerParameterName } from '../../lib/serving/naming';
import { CfnTemplate, DeployedTemplate, Json } from './template';

/*
 * The default app (cdk.json's context), synthesized once without bundling the handlers (the
 * simulation runs their sources in-process), and the parts of it the loop of one model runs: the
 * release source's pipeline, registry and release workflow, and the level-4 environment's drift
 * workflow, its schedule's input and its alarms.
 */

const ROOT = path.join(__dirname, '..', '..');

/** A state machine's definition, resolved, and the template it came from (to route its tasks). */
export interface SimulatedStateMachine {
  readonly logicalId: string;
  readonly name: string;
  readonly definition: Record<string, Json>;
  readonly stack: DeployedTemplate;
}

/** An alarm of the synthesized template, with the name the simulation deploys it under. */
export interface SimulatedAlarm {
  readonly logicalId: string;
  readonly alarmName: string;
  readonly properties: Record<string, Json>;
}

/** Everything the loop of one model reads from the synthesized app. */
export interface SimulatedLoop {
  readonly modelName: string;
  /** The release source (trains, registers, judges and releases). */
  readonly sourceEnvironment: string;
  /** The level-4 environment whose alarms and data drive the loop. */
  readonly level4Environment: string;
  /** The environments the release workflow releases to, in order. */
  readonly releaseTargets: readonly string[];
  readonly source: DeployedTemplate;
  readonly monitored: DeployedTemplate;
  readonly serving: Record<string, DeployedTemplate>;
  readonly pipelineName: string;
  /** The parameters the training pipeline defines, with their defaults. */
  readonly pipelineParameters: Record<string, string | number>;
  readonly modelPackageGroupName: string;
  /** The source's artifact store, where the pipeline writes its reports. */
  readonly sourceBucket: string;
  /** The level-4 environment's artifact store, where its endpoint captures. */
  readonly monitoredBucket: string;
  readonly releaseWorkflow: SimulatedStateMachine;
  readonly driftWorkflow: SimulatedStateMachine;
  /** The drift schedule's input for a scheduled time (the rule's input transformer). */
  driftScheduleInput(time: string): Record<string, Json>;
  /** The drift and model-quality alarms of the served slot. */
  readonly alarms: readonly SimulatedAlarm[];
  /**
   * The level-4 environment's rule that delivers its alarms' state changes to the retrain trigger
   * (AutomationTarget): its event pattern, resolved, and the function it targets.
   */
  readonly alarmRule: { readonly eventPattern: Record<string, Json>; readonly targetArn: string };
  /** The ARN of the release source's retrain trigger function (ModelAutomation). */
  readonly retrainTriggerArn: string;
  /** The release source's pause switch of the model's retraining (ModelAutomation), as deployed. */
  readonly pauseSwitch: { readonly parameterName: string; readonly value: string };
  /** What the level-4 environment publishes as the model's production-data location (its SSM parameter). */
  readonly productionData: { readonly parameterName: string; readonly value: string };
  /** The environment variables of the release source's functions, by role. */
  readonly releaseFunctions: Record<'trigger' | 'step' | 'health', Record<string, string>>;
  /**
   * The environment variables of the release source's level-4 functions (ModelAutomation's retrain
   * trigger and approval gate, the pipeline's production-data step), as synthesized.
   */
  readonly automationFunctions: Record<
    'retrainTrigger' | 'approvalGate' | 'productionData',
    Record<string, string>
  >;
  /** The training pipeline's definition, resolved, as the release source deploys it. */
  readonly pipelineDefinition: PipelineDefinition;
  /**
   * The model's online gate in the release source (OnlineGateWorkflow), when the app has it on: its
   * state machine and the environment of its evaluation function, as synthesized.
   */
  readonly onlineGate?: {
    readonly workflow: SimulatedStateMachine;
    readonly evaluation: Record<string, string>;
  };
}

/** The parts of a SageMaker pipeline definition the simulation reads. */
export interface PipelineDefinition {
  readonly Version: string;
  readonly Parameters: Array<{ Name: string; Type: string; DefaultValue: string | number }>;
  readonly Steps: Array<{ Name: string; Type: string } & Record<string, Json>>;
}

/** The model's part of a logical id: CDK drops the hyphens of construct ids. */
const idPart = (modelName: string) => modelName.replace(/[^A-Za-z0-9]/g, '');

/**
 * The context that turns the online gate on in the default app (`-c` on top of cdk.json, as
 * docs/automation.md "Turning it on in the app" gives it): prod's models serve a shadow.
 */
export const ONLINE_GATE_CONTEXT: Readonly<Record<string, string>> = {
  'mlops:automation:onlineGate:enabled': 'true',
  'mlops:prod:models.trip-duration.serving.variant': 'shadow',
  'mlops:prod:models.fare-amount.serving.variant': 'shadow',
};

/**
 * Synthesizes the default app once, bundling skipped, into a temporary directory; `overrides` are
 * context values on top of cdk.json's, as `cdk synth -c key=value` gives them.
 */
export function synthesizeDefaultApp(overrides: Readonly<Record<string, string>> = {}): {
  stacks: Map<string, DeployedTemplate>;
  context: Json;
} {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { context: Json };
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-simulate-'));
  try {
    const context = { ...cdkJson.context, ...overrides, 'aws:cdk:bundling-stacks': [] };
    const { app } = createPlatformApp({ context, outdir, analyticsReporting: false });
    const assembly = app.synth();
    const stacks = new Map<string, DeployedTemplate>();
    for (const nested of assembly.nestedAssemblies) {
      for (const stack of nested.nestedAssembly.stacks) {
        stacks.set(stack.stackName, new DeployedTemplate(stack.stackName, stack.template as CfnTemplate));
      }
    }
    return { stacks, context };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

function stackOf(stacks: Map<string, DeployedTemplate>, name: string): DeployedTemplate {
  const stack = stacks.get(name);
  if (stack === undefined) {
    throw new Error(`the default app has no stack ${name}: it has ${[...stacks.keys()].join(', ')}`);
  }
  return stack;
}

function stateMachine(stack: DeployedTemplate, pattern: RegExp): SimulatedStateMachine {
  const [logicalId, resource] = stack.resource('AWS::StepFunctions::StateMachine', pattern);
  return {
    logicalId,
    name: stack.physicalName(logicalId),
    definition: JSON.parse(stack.resolve(resource.Properties!.DefinitionString)) as Record<string, Json>,
    stack,
  };
}

/** The environment variables of the function whose logical id matches `pattern`, resolved. */
function functionEnvironment(stack: DeployedTemplate, pattern: RegExp): Record<string, string> {
  const [, resource] = stack.resource('AWS::Lambda::Function', pattern);
  return stack.resolve(resource.Properties?.Environment?.Variables ?? {}) as Record<string, string>;
}

/**
 * The loop of `modelName` in the synthesized app. The level-4 environment is `level4Environment`
 * (the app's default, prod); the release source and the targets come from the app's release config.
 */
export function simulatedLoop(
  synthesized: { stacks: Map<string, DeployedTemplate>; context: Json },
  modelName: string,
  level4Environment = 'prod',
): SimulatedLoop {
  const { stacks } = synthesized;
  const config = parsePlatformConfig(synthesized.context);
  const releaseSource = config.release.source;
  if (!config.release.enabled || releaseSource === undefined) {
    throw new Error('the default app has no release automation (context mlops.release): nothing to simulate');
  }
  const sourceEnvironment = releaseSource.environment;
  const releaseTargets = config.release.targets.map((t) => t.environment);
  const model = idPart(modelName);
  const source = stackOf(stacks, `${sourceEnvironment}-Platform`);
  const monitored = stackOf(stacks, `${level4Environment}-Platform`);

  const [pipelineId, pipeline] = source.resource('AWS::SageMaker::Pipeline', new RegExp(`^Level2${model}`));
  const body = JSON.parse(
    source.resolve(pipeline.Properties!.PipelineDefinition.PipelineDefinitionBody),
  ) as PipelineDefinition;
  const [groupId] = source.resource('AWS::SageMaker::ModelPackageGroup', new RegExp(`^Level2${model}`));
  const [sourceBucketId] = source.resource('AWS::S3::Bucket', /^Level0ArtifactStoreBucket/);
  const [monitoredBucketId] = monitored.resource('AWS::S3::Bucket', /^Level0ArtifactStoreBucket/);

  const [, rule] = monitored.resource(
    'AWS::Events::Rule',
    new RegExp(`^ModelMonitoring${model}DriftSchedule`),
  );
  const template = String(monitored.resolve(rule.Properties!.Targets[0].InputTransformer.InputTemplate));

  const alarms = monitored
    .resources(
      'AWS::CloudWatch::Alarm',
      new RegExp(`^ModelMonitoring${model}(MaxFeaturePsi|DriftedFeatureShare|Quality)Alarm`),
    )
    .map(([logicalId, resource]) => ({
      logicalId,
      alarmName: monitored.physicalName(logicalId),
      properties: monitored.resolve(resource.Properties) as Record<string, Json>,
    }));

  const [, alarmRule] = monitored.resource(
    'AWS::Events::Rule',
    new RegExp(`^AutomationTarget${model}AlarmRule[0-9A-F]{8}$`),
  );
  const [, location] = monitored.resource(
    'AWS::SSM::Parameter',
    new RegExp(`^AutomationTarget${model}ProductionData[0-9A-F]{8}$`),
  );

  const gates = source.resources(
    'AWS::StepFunctions::StateMachine',
    new RegExp(`^Automation${model}OnlineGateStateMachine[0-9A-F]{8}$`),
  );
  const onlineGate =
    gates.length === 0
      ? undefined
      : {
          workflow: stateMachine(source, new RegExp(`^Automation${model}OnlineGateStateMachine[0-9A-F]{8}$`)),
          evaluation: functionEnvironment(source, new RegExp(`^Automation${model}OnlineGate[0-9A-F]{8}$`)),
        };

  const [, pauseSwitch] = source.resource(
    'AWS::SSM::Parameter',
    new RegExp(`^Automation${model}LoopPauseSwitch[0-9A-F]{8}$`),
  );

  return {
    modelName,
    sourceEnvironment,
    level4Environment,
    releaseTargets,
    source,
    monitored,
    serving: Object.fromEntries(releaseTargets.map((env) => [env, stackOf(stacks, `${env}-Serving`)])),
    pipelineName: source.physicalName(pipelineId),
    pipelineParameters: Object.fromEntries(body.Parameters.map((p) => [p.Name, p.DefaultValue])),
    modelPackageGroupName: source.physicalName(groupId),
    sourceBucket: source.physicalName(sourceBucketId),
    monitoredBucket: monitored.physicalName(monitoredBucketId),
    releaseWorkflow: stateMachine(source, new RegExp(`^Release${model}WorkflowStateMachine`)),
    driftWorkflow: stateMachine(monitored, new RegExp(`^ModelMonitoring${model}DriftWorkflow`)),
    driftScheduleInput: (time) => JSON.parse(template.replace('<time>', JSON.stringify(time))),
    alarms,
    alarmRule: {
      eventPattern: monitored.resolve(alarmRule.Properties!.EventPattern) as Record<string, Json>,
      targetArn: String(monitored.resolve(alarmRule.Properties!.Targets[0].Arn)),
    },
    pauseSwitch: {
      parameterName: String(source.resolve(pauseSwitch.Properties!.Name)),
      value: String(source.resolve(pauseSwitch.Properties!.Value)),
    },
    productionData: {
      parameterName: String(monitored.resolve(location.Properties!.Name)),
      value: String(monitored.resolve(location.Properties!.Value)),
    },
    releaseFunctions: {
      trigger: functionEnvironment(source, new RegExp(`^Release${model}WorkflowTrigger[0-9A-F]{8}$`)),
      step: functionEnvironment(source, new RegExp(`^Release${model}WorkflowStep[0-9A-F]{8}$`)),
      health: functionEnvironment(source, new RegExp(`^Release${model}WorkflowHealth[0-9A-F]{8}$`)),
    },
    retrainTriggerArn: source.arn(
      source.resource('AWS::Lambda::Function', new RegExp(`^Automation${model}LoopTrigger[0-9A-F]{8}$`))[0],
    ),
    automationFunctions: {
      retrainTrigger: functionEnvironment(source, new RegExp(`^Automation${model}LoopTrigger[0-9A-F]{8}$`)),
      approvalGate: functionEnvironment(source, new RegExp(`^Automation${model}LoopGate[0-9A-F]{8}$`)),
      productionData: functionEnvironment(
        source,
        new RegExp(`^Level2${model}TrainingProductionData[0-9A-F]{8}$`),
      ),
    },
    pipelineDefinition: body,
    ...(onlineGate ? { onlineGate } : {}),
  };
}

/** The release pointer of `environment` for the loop's model: what its serving stack serves. */
export function pointerOf(loop: SimulatedLoop, environment: string): string {
  return releasePointerParameterName(environment, loop.modelName);
}
