import { CfnOutput, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AutomationTarget } from '../automation/automation-target';
import { ModelAutomation, ModelAutomationProps } from '../automation/model-automation';
import {
  modelMonitoringAlarmNames,
  onlineGateRoleName,
  productionDataParameterName,
} from '../automation/naming';
import { LiveQualityMetric, OnlineGateWorkflow } from '../automation/online-gate-workflow';
import { ModelMonitoring } from '../monitoring/model-monitoring';
import { EnvironmentReleaseAutomation } from './release-automation';
import { ProblemCollector } from '../private/errors';
import { ENVIRONMENT_NAME } from '../private/patterns';
import { releasePointerParameterName } from '../serving/naming';
import { ReleaseWorkflow } from '../release/release-workflow';
import { ReleasePointer } from '../serving/release-pointer';
import { SERVING_VARIANT_NAME, SHADOW_VARIANT_NAME } from '../serving/serving-slot';
import { ArtifactStore } from '../storage/artifact-store';
import { PlatformModel } from '../tiers/platform-model';
import { ReferenceProductionData } from '../training/reference-workload';

/**
 * The level-4 loop of an environment's models (in the release source, level 2 and up): each model
 * retrains when the level-4 environment's drift or quality alarm enters ALARM (or on a schedule),
 * and its new packages are approved or rejected against the package that environment serves.
 */
export interface EnvironmentModelAutomation extends Pick<
  ModelAutomationProps,
  | 'schedule'
  | 'cooldown'
  | 'maxStartsPerDay'
  | 'dataWindow'
  | 'primaryMetric'
  | 'higherIsBetter'
  | 'marginPercent'
  | 'thresholds'
> {
  /** The level-4 environment whose alarms and champion drive the loop (its EnvironmentStage's name). */
  readonly environmentName: string;
  /**
   * The level-4 environment's account. Only this environment's account is supported.
   *
   * @default - this environment's account
   */
  readonly account?: string;
  /**
   * The level-4 environment's region. Only this environment's region is supported.
   *
   * @default - this environment's region
   */
  readonly region?: string;
  /**
   * The models in the loop, by name; each must be one of this environment's models, monitored in
   * the level-4 environment.
   *
   * @default - every model of this environment
   */
  readonly models?: string[];
  /**
   * Try each challenger the gate approves as the shadow of the level-4 environment first (an
   * OnlineGateWorkflow per model, through the model's release workflow). Needs `releaseAutomation`
   * releasing each model of the loop to that environment, without a manual approval there, and
   * the level-4 environment's `automationSource.onlineGate`.
   *
   * @default - no online gate: the offline gate's verdict is final
   */
  readonly onlineGate?: EnvironmentOnlineGate;
}

/** The online gate of an environment's loop: the challenger judged on live traffic as the shadow. */
export interface EnvironmentOnlineGate {
  /**
   * How long the challenger serves as the shadow before it is judged.
   *
   * @default 24
   */
  readonly windowHours?: number;
  /**
   * The fewest matched labels each of the shadow and the champion needs in the window.
   *
   * @default 100
   */
  readonly minSamples?: number;
  /**
   * The live metric compared; better by the loop's `marginPercent`.
   *
   * @default LiveQualityMetric.RMSE
   */
  readonly liveMetric?: LiveQualityMetric;
  /**
   * The share of the level-4 environment's requests copied to the shadow during a trial.
   *
   * @default - the shadow's weight there as it is (10% until a release writes another)
   */
  readonly shadowWeightPercent?: number;
}

/** The release source whose loop this (level-4) environment drives. */
export interface EnvironmentAutomationSource {
  /** The release source's name: where the models retrain. It must be this environment's `releaseSource`. */
  readonly environmentName: string;
  /**
   * The models in the loop, by name; each must be monitored here.
   *
   * @default - every model released here that is monitored here
   */
  readonly models?: string[];
  /**
   * Whether the source's release workflow waits for a person before releasing here; then
   * `automatic-release` is not provided and the environment does not reach level 4.
   *
   * @default false
   */
  readonly manualApproval?: boolean;
  /**
   * Whether the source runs the online gate (its `modelAutomation.onlineGate`): its evaluation
   * roles are granted read access to the models' captures and ground truth here.
   *
   * @default false
   */
  readonly onlineGate?: boolean;
}

/** Whether `modelName` is in the loop that `automation` describes. */
function inLoop(automation: EnvironmentModelAutomation, modelName: string): boolean {
  return automation.models === undefined || automation.models.includes(modelName);
}

/**
 * The reference workload's production data of a model in the loop: its pipeline then joins the
 * level-4 environment's captured requests of the retraining's data window with their ground truth,
 * and trains on them next to the original data. Undefined for a model outside the loop.
 */
export function loopProductionData(
  environmentName: string,
  automation: EnvironmentModelAutomation | undefined,
  modelName: string,
): ReferenceProductionData | undefined {
  if (!automation || !inLoop(automation, modelName)) {
    return undefined;
  }
  return {
    locationParameterName: productionDataParameterName(automation.environmentName, modelName),
    sourceEnvironment: environmentName,
    modelName,
  };
}

/** One ModelAutomation per model of the loop, in the release source's platform stack. */
export function automateModels(
  scope: Construct,
  automation: EnvironmentModelAutomation,
  options: {
    readonly environmentName: string;
    readonly models: PlatformModel[];
    readonly notificationTopic: sns.ITopic;
    readonly artifactStore: ArtifactStore;
    readonly removalPolicy: RemovalPolicy;
    /** The model's release workflows, for the online gate. */
    readonly releaseWorkflows: ReleaseWorkflow[];
    /** The level-4 environment's endpoint of each model, for the online gate. */
    readonly endpointNames: { readonly [modelName: string]: string | undefined };
  },
): ModelAutomation[] {
  const driver = automation.environmentName;
  return options.models
    .filter((m) => inLoop(automation, m.modelName))
    .map((model) => {
      const modelScope = new Construct(scope, `Automation-${model.modelName}`);
      const loop = new ModelAutomation(modelScope, 'Loop', {
        modelName: model.modelName,
        environmentName: options.environmentName,
        pipeline: model.workload.pipeline,
        modelRegistry: model.modelRegistry,
        artifactStore: options.artifactStore,
        artifactFolder: model.artifactFolder,
        championPointer: ReleasePointer.fromParameterName(
          modelScope,
          'ChampionPointer',
          releasePointerParameterName(driver, model.modelName),
        ),
        watchedAlarmNames: Object.values(modelMonitoringAlarmNames(driver, model.modelName)),
        schedule: automation.schedule,
        cooldown: automation.cooldown,
        maxStartsPerDay: automation.maxStartsPerDay,
        dataWindow: automation.dataWindow,
        primaryMetric: automation.primaryMetric,
        higherIsBetter: automation.higherIsBetter,
        marginPercent: automation.marginPercent,
        thresholds: automation.thresholds,
        notificationTopic: options.notificationTopic,
        removalPolicy: options.removalPolicy,
      });
      if (automation.onlineGate) {
        onlineGate(modelScope, loop, automation, automation.onlineGate, {
          ...options,
          model,
          releaseWorkflow: options.releaseWorkflows.find(
            (w) => w.node.scope?.node.id === `Release-${model.modelName}`,
          )!,
          endpointName: options.endpointNames[model.modelName]!,
        });
      }
      new CfnOutput(modelScope, 'PauseSwitchName', {
        description: `Model ${model.modelName}: pause its retraining with aws ssm put-parameter --name <this> --type String --value paused --overwrite`,
        value: loop.pauseSwitch.parameterName,
      });
      return loop;
    });
}

/**
 * The model's online gate: the approval gate starts a trial through it for each challenger it
 * approves offline, which the gate then approves or rejects on the level-4 environment's traffic.
 */
function onlineGate(
  scope: Construct,
  loop: ModelAutomation,
  automation: EnvironmentModelAutomation,
  settings: EnvironmentOnlineGate,
  options: {
    readonly environmentName: string;
    readonly model: PlatformModel;
    readonly releaseWorkflow: ReleaseWorkflow;
    readonly endpointName: string;
    readonly notificationTopic: sns.ITopic;
    readonly removalPolicy: RemovalPolicy;
  },
): OnlineGateWorkflow {
  const modelName = options.model.modelName;
  const gate = new OnlineGateWorkflow(scope, 'OnlineGate', {
    modelName,
    modelRegistry: options.model.modelRegistry,
    releaseStateMachine: options.releaseWorkflow.stateMachine,
    environmentName: automation.environmentName,
    endpointName: options.endpointName,
    // The names ServingSlot gives the variants of every real-time slot.
    championVariantName: SERVING_VARIANT_NAME,
    shadowVariantName: SHADOW_VARIANT_NAME,
    roleName: onlineGateRoleName(options.environmentName, modelName),
    windowHours: settings.windowHours,
    minSamples: settings.minSamples,
    liveMetric: settings.liveMetric,
    marginPercent: automation.marginPercent,
    shadowWeightPercent: settings.shadowWeightPercent,
    notificationTopic: options.notificationTopic,
    removalPolicy: options.removalPolicy,
  });
  loop.gateFunction.addEnvironment('ONLINE_GATE_STATE_MACHINE_ARN', gate.stateMachine.stateMachineArn);
  gate.grantStartTrial(loop.gateFunction);
  new CfnOutput(scope, 'OnlineGateStateMachineArn', {
    description: `Model ${modelName}: the online trials of its challengers as the shadow in ${automation.environmentName}`,
    value: gate.stateMachine.stateMachineArn,
  });
  return gate;
}

/** One AutomationTarget per monitored model of the loop, in the level-4 environment's platform stack. */
export function driveAutomation(
  scope: Construct,
  source: EnvironmentAutomationSource,
  options: {
    readonly environmentName: string;
    readonly monitoring: ModelMonitoring[];
    readonly models: PlatformModel[];
    readonly artifactStore: ArtifactStore;
    readonly removalPolicy: RemovalPolicy;
  },
): AutomationTarget[] {
  return options.models
    .filter((m) => source.models === undefined || source.models.includes(m.modelName))
    .flatMap((model) => {
      const monitoring = options.monitoring.find((m) => m.node.id === `ModelMonitoring-${model.modelName}`);
      return monitoring ? [{ model, monitoring }] : [];
    })
    .map(
      ({ model, monitoring }) =>
        new AutomationTarget(scope, `AutomationTarget-${model.modelName}`, {
          modelName: model.modelName,
          environmentName: options.environmentName,
          sourceEnvironmentName: source.environmentName,
          modelMonitoring: monitoring,
          artifactStore: options.artifactStore,
          manualApproval: source.manualApproval,
          onlineGate: source.onlineGate,
          removalPolicy: options.removalPolicy,
        }),
    );
}

/** Checks the loop's props of either side against the environment's models and release props. */
export function checkRetrainingLoop(
  problems: ProblemCollector,
  stack: Stack,
  props: {
    readonly environmentName: string;
    readonly modelAutomation?: EnvironmentModelAutomation;
    readonly automationSource?: EnvironmentAutomationSource;
    readonly releaseSource?: { readonly environmentName: string };
    readonly releaseAutomation?: EnvironmentReleaseAutomation;
    readonly modelMonitoring?: unknown;
    readonly account?: string;
    readonly region?: string;
  },
  models: string[],
  monitored: (model: string) => boolean,
): void {
  const automation = props.modelAutomation;
  if (automation) {
    problems.checkPattern(
      'modelAutomation.environmentName',
      automation.environmentName ?? '',
      ENVIRONMENT_NAME,
      'name the level-4 environment whose alarms and champion drive the loop',
    );
    if (automation.environmentName === props.environmentName) {
      problems.add(
        'modelAutomation.environmentName',
        automation.environmentName,
        'the loop retrains here and is driven by another environment (production): name that one',
      );
    }
    for (const [key, value, own] of [
      ['account', automation.account, stack.account],
      ['region', automation.region, stack.region],
    ] as const) {
      if (value !== undefined && !Token.isUnresolved(value) && value !== own) {
        problems.add(
          `modelAutomation.${key}`,
          value,
          `the retraining loop is supported only within one account and region: environment '${props.environmentName}' ` +
            `is in ${Token.isUnresolved(own) ? `the deploying ${key}` : `${key} ${own}`}, and '${automation.environmentName}' ` +
            'must be too',
        );
      }
    }
    if (automation.onlineGate) {
      checkOnlineGate(problems, automation, props.releaseAutomation, automation.models ?? models);
    }
    for (const model of (automation.models ?? []).filter((m) => !models.includes(m))) {
      problems.add(
        'modelAutomation.models',
        model,
        `this environment has no model '${model}': use one of ${models.map((m) => `'${m}'`).join(', ')}`,
      );
    }
  }
  const source = props.automationSource;
  if (source) {
    if (!props.releaseSource || props.releaseSource.environmentName !== source.environmentName) {
      problems.add(
        'automationSource.environmentName',
        source.environmentName,
        `the loop releases here through the release automation: give releaseSource with environmentName '${source.environmentName}'`,
      );
    }
    for (const model of source.models ?? []) {
      if (!models.includes(model)) {
        problems.add(
          'automationSource.models',
          model,
          `this environment has no model '${model}': use one of ${models.map((m) => `'${m}'`).join(', ')}`,
        );
      } else if (!monitored(model)) {
        problems.add(
          'automationSource.models',
          model,
          `model '${model}' is not monitored here, so no alarm could start its retraining: serve it real-time with ` +
            'dataCapture and keep modelMonitoring on',
        );
      }
    }
  }
}

/** The online gate releases each model's trials through its release workflow to the level-4 environment. */
function checkOnlineGate(
  problems: ProblemCollector,
  automation: EnvironmentModelAutomation,
  release: EnvironmentReleaseAutomation | undefined,
  models: readonly string[],
): void {
  const driver = automation.environmentName;
  const target = release?.targets?.find((t) => t.environmentName === driver);
  if (!target) {
    problems.add(
      'modelAutomation.onlineGate',
      driver,
      `the online gate tries each challenger as the shadow in '${driver}' through the release workflow: give ` +
        `releaseAutomation a target '${driver}'`,
    );
    return;
  }
  if (target.manualApproval) {
    problems.add(
      'modelAutomation.onlineGate',
      driver,
      `a person approving each release to '${driver}' (releaseAutomation target manualApproval) would hold every ` +
        'online trial: release to it without manual approval, or leave the online gate out',
    );
  }
  for (const model of models) {
    const check = target.models?.[model];
    if (!check) {
      problems.add(
        'modelAutomation.onlineGate',
        model,
        `the release automation does not release model '${model}' to '${driver}', so it cannot try its challengers ` +
          `there: add it to the target's models`,
      );
    } else if (check.onlineTrials === false) {
      problems.add(
        `releaseAutomation.targets.${driver}.models.${model}.onlineTrials`,
        false,
        `the online gate tries the challengers of '${model}' as the shadow in '${driver}': serve it there with a ` +
          'shadow variant and let the trials release to it',
      );
    }
  }
}
