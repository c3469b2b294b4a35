import { GetMetricStatisticsCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  DescribeModelPackageCommand,
  DescribeModelPackageOutput,
  ListPipelineExecutionsCommand,
  ListPipelineParametersForExecutionCommand,
  PipelineExecutionSummary,
} from '@aws-sdk/client-sagemaker';
import { DescribeExecutionCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import type { RetrainOutcome } from '../../lambda/retrain-trigger';
import type { GateOutcome } from '../../lambda/approval-gate';
import type { TriggerOutcome } from '../../lambda/release-trigger';
import type { handlerTelemetry } from '../../lambda/shared/handler-runtime';
import { SimulatedLoop, SimulatedStateMachine } from './synthesized-app';
import { trainingBaseline } from './traffic';
import { Json, SIMULATED_ACCOUNT, SIMULATED_REGION } from './template';
import { evaluationReport } from './model-package';
import { EmulatorClients, handlerEnvironment, registerPackage, snsCall } from './world';
import { StateMachine } from './local-step-functions';

/*
 * The steps of the loop, each running the real code: the drift workflow and the release workflow
 * as synthesized (aws-local-stepfunctions, their Lambda tasks calling the handlers in this process),
 * the retrain trigger, the approval gate and the release trigger as their handlers, configured from
 * their environment. What is simulated: CloudWatch's alarm evaluation (moto does not evaluate
 * alarms: the alarm's own rule is applied to the published data points), EventBridge (the events
 * are built in the documented shapes and handed to the handlers) and the training pipeline's work
 * (moto completes an execution at once; the simulation registers the package it would).
 */

type Handler = (event: Json) => Promise<Json>;

/** The roles of the Lambda functions the state machines and the pipeline call. */
export type FunctionRole = 'plan' | 'drift' | 'step' | 'health' | 'productionData' | 'onlineGate';

/** The handlers of the loop, loaded once the emulator's environment is set. */
export interface LoopHandlers {
  readonly retrainTrigger: (event: Json, now: () => Date) => Promise<RetrainOutcome>;
  readonly approvalGate: Handler;
  readonly releaseTrigger: Handler;
  /** The Lambda functions the state machines and the pipeline's Lambda step call, by role. */
  readonly functions: Record<FunctionRole, Handler>;
  /** The metrics the approval gate and the online gate counted, in order, as `<service> <metric>`. */
  readonly countedMetrics: string[];
}

/**
 * Loads the handlers with their environment. The modules read it (and create their clients) when
 * they load, so it is set first; each handler that takes its configuration from `readConfig` gets
 * its own, from its function's environment in the synthesized templates.
 */
export function loadHandlers(loop: SimulatedLoop, clients: EmulatorClients): LoopHandlers {
  const env = handlerEnvironment(loop);
  const { trigger, step, health } = loop.releaseFunctions;
  Object.assign(process.env, env.productionData, env.retrainTrigger, env.approvalGate, trigger, health, step);
  /* eslint-disable @typescript-eslint/no-require-imports */
  const retrain = require('../../lambda/retrain-trigger') as typeof import('../../lambda/retrain-trigger');
  const gate = require('../../lambda/approval-gate') as typeof import('../../lambda/approval-gate');
  const release = require('../../lambda/release-trigger') as typeof import('../../lambda/release-trigger');
  const assemble = require('../../lambda/production-data') as typeof import('../../lambda/production-data');
  const runtime =
    require('../../lambda/shared/handler-runtime') as typeof import('../../lambda/shared/handler-runtime');
  const plan = require('../../lambda/drift-plan') as typeof import('../../lambda/drift-plan');
  const drift = require('../../lambda/drift-job') as typeof import('../../lambda/drift-job');
  const releaseStep = require('../../lambda/release-step') as typeof import('../../lambda/release-step');
  const releaseHealth =
    require('../../lambda/release-health') as typeof import('../../lambda/release-health');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const countedMetrics: string[] = [];
  const counting: typeof handlerTelemetry = (identity) => {
    const telemetry = runtime.handlerTelemetry(identity);
    const add = telemetry.metrics.addMetric.bind(telemetry.metrics);
    telemetry.metrics.addMetric = (name, ...rest) => {
      countedMetrics.push(`${identity.serviceName} ${name}`);
      return add(name, ...rest);
    };
    return telemetry;
  };

  const retrainConfig = retrain.readConfig({ ...env.retrainTrigger });
  const gateConfig = gate.readConfig({ ...env.approvalGate });
  const releaseConfig = release.readConfig({ ...trigger });
  const assembleConfig = assemble.readConfig({ ...env.productionData });
  const gateHandler = gate.createHandler({
    config: gateConfig,
    sageMaker: clients.sageMaker,
    s3: clients.s3,
    ssm: clients.ssm,
    ...(gateConfig.onlineGateStateMachineArn ? { stepFunctions: clients.sfn } : {}),
    ...counting(gateConfig),
  });
  const onlineGate = loadOnlineGate(loop, clients, counting);
  const releaseHandler = release.createHandler({
    config: releaseConfig,
    stepFunctions: clients.sfn,
    ...runtime.handlerTelemetry(releaseConfig),
  });
  const assembleHandler = assemble.createHandler({
    config: assembleConfig,
    s3: clients.s3,
    ssm: clients.ssm,
    ...runtime.handlerTelemetry(assembleConfig),
  });
  const retrainTelemetry = runtime.handlerTelemetry(retrainConfig);
  return {
    retrainTrigger: (event, now) =>
      retrain.createHandler({
        config: retrainConfig,
        sageMaker: clients.sageMaker,
        ssm: clients.ssm,
        ...retrainTelemetry,
        now,
      })(event),
    approvalGate: (event) => gateHandler(event),
    releaseTrigger: (event) => releaseHandler(event),
    functions: {
      plan: (event) => plan.handler(event),
      drift: (event) => drift.handler(event),
      step: (event) => releaseStep.handler(event),
      health: (event) => releaseHealth.handler(event),
      productionData: (event) => assembleHandler(event) as Promise<Json>,
      onlineGate,
    },
    countedMetrics,
  };
}

/**
 * The online gate's evaluation function, configured from its synthesized environment; in an app
 * without the online gate, a function that says so. Its module reads its environment when it
 * loads, so the environment is set first.
 */
function loadOnlineGate(
  loop: SimulatedLoop,
  clients: EmulatorClients,
  telemetry: typeof handlerTelemetry,
): Handler {
  if (loop.onlineGate === undefined) {
    return async () => {
      throw new Error(
        `the app has no online gate for ${loop.modelName} (context mlops.automation.onlineGate)`,
      );
    };
  }
  Object.assign(process.env, loop.onlineGate.evaluation);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const online = require('../../lambda/online-gate') as typeof import('../../lambda/online-gate');
  const config = online.readConfig({ ...loop.onlineGate.evaluation });
  const handler = online.createHandler({
    config,
    sageMaker: clients.sageMaker,
    s3: clients.s3,
    ssm: clients.ssm,
    ...telemetry(config),
  });
  return (event) => handler(event) as Promise<Json>;
}

/** Which handler a function of the synthesized templates runs, from its logical id. */
export function roleOf(logicalId: string): FunctionRole {
  const match = /(Plan|Drift|WorkflowStep|WorkflowHealth|TrainingProductionData|OnlineGate)[0-9A-F]{8}$/.exec(
    logicalId,
  );
  if (!match) {
    throw new Error(`the simulation does not know which handler function ${logicalId} runs`);
  }
  const roles: Record<string, FunctionRole> = {
    Plan: 'plan',
    Drift: 'drift',
    WorkflowStep: 'step',
    WorkflowHealth: 'health',
    TrainingProductionData: 'productionData',
    OnlineGate: 'onlineGate',
  };
  return roles[match[1]];
}

/** What a local execution did: its outcome and the notifications it published. */
export interface ExecutionRun {
  readonly succeeded: boolean;
  readonly error: string;
  readonly output: Json;
  readonly notifications: Array<{ subject: string; message: string }>;
}

/** The states of a definition (nested ones too) whose task waits for a task token: for a person. */
export function statesWaitingForAPerson(definition: Record<string, Json>): string[] {
  const found: string[] = [];
  const visit = (states: Record<string, Json>) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.ItemProcessor?.States) visit(state.ItemProcessor.States);
      if (state.Iterator?.States) visit(state.Iterator.States);
      for (const branch of state.Branches ?? []) visit(branch.States);
      const resource = String(state.Resource ?? '');
      if (
        state.Type === 'Task' &&
        (resource.endsWith('.waitForTaskToken') || resource.includes(':activity:'))
      ) {
        found.push(name);
      }
    }
  };
  visit(definition.States);
  return found;
}

/** How `execute` runs what a definition reaches beyond its own states. */
export interface ExecuteOptions {
  /**
   * The Context Object's fields the definition reads (e.g. `State.EnteredTime`), fixed so that an
   * execution does not depend on the wall clock.
   * @default - only a task token
   */
  readonly context?: Record<string, Json>;
  /**
   * The state machines a `states:startExecution.sync` task may start, by ARN: each runs locally
   * too, and its failure is the task's.
   * @default - none: such a task is not run
   */
  readonly stateMachines?: Record<string, (input: Json) => Promise<ExecutionRun>>;
}

/**
 * Runs one execution of a synthesized state machine locally: Lambda tasks call the handlers, SNS
 * tasks publish to the emulator, a task that starts another state machine and waits for it runs
 * that one locally, and waits take no time. Nobody answers a task that waits for a person (a
 * manual approval): the execution throws, naming the state, whatever the definition's Catch would
 * have done with it.
 */
export async function execute(
  machine: SimulatedStateMachine,
  handlers: LoopHandlers,
  motoUrl: string,
  input: Json,
  options: ExecuteOptions = {},
): Promise<ExecutionRun> {
  const notifications: ExecutionRun['notifications'] = [];
  const waitedFor: string[] = [];
  const local: Record<string, Handler> = {};
  const waits: Record<string, number> = {};
  const publish = async (task: Json) => {
    const message = typeof task.Message === 'string' ? task.Message : JSON.stringify(task.Message);
    const text = await snsCall(motoUrl, {
      Action: 'Publish',
      TopicArn: String(task.TopicArn),
      Subject: String(task.Subject),
      Message: message,
    });
    notifications.push({ subject: String(task.Subject), message });
    return { MessageId: /<MessageId>([^<]+)<\/MessageId>/.exec(text)?.[1] ?? '' };
  };
  const visit = (states: Record<string, Json>) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Wait') waits[name] = 0;
      if (state.ItemProcessor?.States) visit(state.ItemProcessor.States);
      if (state.Iterator?.States) visit(state.Iterator.States);
      if (state.Type !== 'Task') continue;
      const resource = String(state.Resource);
      if (resource.endsWith('.waitForTaskToken')) {
        local[name] = async (task) => {
          waitedFor.push(`${name} (${String(task.Subject ?? resource)})`);
          throw new Error(`${name} waits for a person, and the simulation answers nobody`);
        };
      } else if (resource.endsWith(':lambda:invoke')) {
        const fn = handlers.functions[roleOf(machine.stack.functionLogicalId(state.Parameters.FunctionName))];
        local[name] = async (task) => ({ Payload: await fn(task.Payload) });
      } else if (resource.startsWith('arn:aws:lambda:')) {
        const fn = handlers.functions[roleOf(machine.stack.functionLogicalId(resource))];
        local[name] = (task) => fn(task);
      } else if (resource.endsWith(':sns:publish')) {
        local[name] = publish;
      } else if (/:states:startExecution\.sync(:2)?$/.test(resource)) {
        local[name] = async (task) => {
          const child = options.stateMachines?.[String(task.StateMachineArn)];
          if (child === undefined) {
            throw new Error(
              `state ${name} of ${machine.name} starts ${task.StateMachineArn}, which the simulation does not run`,
            );
          }
          const given = typeof task.Input === 'string' ? JSON.parse(task.Input) : task.Input;
          const ran = await child(given);
          if (!ran.succeeded) {
            throw Object.assign(new Error(`${task.StateMachineArn} failed: ${ran.error}`), {
              name: 'States.TaskFailed',
            });
          }
          return {
            Status: 'SUCCEEDED',
            StateMachineArn: task.StateMachineArn,
            Output: resource.endsWith(':2') ? ran.output : JSON.stringify(ran.output),
          };
        };
      } else {
        throw new Error(
          `state ${name} of ${machine.name} calls ${resource}, which the simulation does not run`,
        );
      }
    }
  };
  visit(machine.definition.States);
  const execution = new StateMachine(machine.definition as never).run(input as never, {
    overrides: { taskResourceLocalHandlers: local as never, waitTimeOverrides: waits },
    context: { Task: { Token: 'simulated-task-token' }, ...options.context },
  });
  const run = await execution.result.then(
    (output: Json) => ({ succeeded: true, error: '', output, notifications }),
    (error: Error) => ({
      succeeded: false,
      error: `${error.name}: ${error.message} ${String(error.cause ?? '')}`.trim(),
      output: undefined,
      notifications,
    }),
  );
  if (waitedFor.length > 0) {
    throw new Error(
      `${machine.name} waited for a person: ${waitedFor.join(', ')}. Nothing in the level-4 loop may wait ` +
        'for a manual approval (an environment at level 4 releases without one)',
    );
  }
  return run;
}

/**
 * Whether `event` matches an EventBridge `pattern` of exact values (arrays of allowed values,
 * nested objects): the only kind the loop's rules use. A content filter (an object in an array)
 * is not simulated and throws.
 */
export function matchesEventPattern(pattern: Record<string, Json>, event: Json): boolean {
  return Object.entries(pattern).every(([key, allowed]) => {
    const value = event?.[key];
    if (!Array.isArray(allowed)) {
      return typeof allowed === 'object' && allowed !== null && matchesEventPattern(allowed, value);
    }
    if (allowed.some((a) => typeof a === 'object' && a !== null)) {
      throw new Error(`the event pattern's ${key} has a content filter, which the simulation does not match`);
    }
    return (Array.isArray(value) ? value : [value]).some((v) => allowed.includes(v));
  });
}

/** One alarm after CloudWatch would have evaluated it on the drift job's data points. */
export interface AlarmEvaluation {
  readonly alarmName: string;
  readonly metricName: string;
  readonly state: 'ALARM' | 'OK';
  readonly reason: string;
  /** The documented "CloudWatch Alarm State Change" event, when the state changed to ALARM. */
  readonly event?: Json;
}

/**
 * Applies each alarm's rule (its statistic over its evaluation periods, its threshold and
 * comparison, DatapointsToAlarm, missing data as the template treats it) to the data points in the
 * emulator, records the new state in the emulator and, for ALARM, builds the event CloudWatch
 * sends to EventBridge.
 */
export async function evaluateAlarms(
  loop: SimulatedLoop,
  clients: EmulatorClients,
  at: Date,
  eventIdPrefix: string,
): Promise<AlarmEvaluation[]> {
  const evaluations: AlarmEvaluation[] = [];
  for (const alarm of loop.alarms) {
    const p = alarm.properties;
    const { Datapoints = [] } = await clients.cloudWatch.send(
      new GetMetricStatisticsCommand({
        Namespace: p.Namespace,
        MetricName: p.MetricName,
        Dimensions: p.Dimensions,
        StartTime: new Date(at.getTime() - p.EvaluationPeriods * p.Period * 1000),
        EndTime: at,
        Period: p.Period,
        Statistics: [p.Statistic],
      }),
    );
    const values = Datapoints.map((d) => Number((d as Record<string, unknown>)[p.Statistic])).filter(
      Number.isFinite,
    );
    const breaches = (v: number) =>
      ({
        GreaterThanThreshold: v > p.Threshold,
        GreaterThanOrEqualToThreshold: v >= p.Threshold,
        LessThanThreshold: v < p.Threshold,
        LessThanOrEqualToThreshold: v <= p.Threshold,
      })[p.ComparisonOperator as string] ?? false;
    const breaching = values.filter(breaches);
    const inAlarm = breaching.length >= (p.DatapointsToAlarm ?? p.EvaluationPeriods);
    const shown =
      values.map((v) => Number(v.toPrecision(4))).join(', ') || 'none (missing data: not breaching)';
    const reason = inAlarm
      ? `Threshold Crossed: ${breaching.length} datapoint [${breaching.map((v) => Number(v.toPrecision(4))).join(', ')}] ` +
        `was ${p.ComparisonOperator.replace(/([A-Z])/g, ' $1')
          .trim()
          .toLowerCase()} (${p.Threshold}).`
      : `datapoints [${shown}] do not cross ${p.Threshold}`;
    const state = inAlarm ? 'ALARM' : 'OK';
    await clients.cloudWatch.send(
      new SetAlarmStateCommand({ AlarmName: alarm.alarmName, StateValue: state, StateReason: reason }),
    );
    const alarmArn = `arn:aws:cloudwatch:${SIMULATED_REGION}:${SIMULATED_ACCOUNT}:alarm:${alarm.alarmName}`;
    const timestamp = at.toISOString().replace('Z', '+0000');
    evaluations.push({
      alarmName: alarm.alarmName,
      metricName: p.MetricName,
      state,
      reason,
      event: inAlarm
        ? {
            version: '0',
            id: `${eventIdPrefix}-${alarm.logicalId}`,
            'detail-type': 'CloudWatch Alarm State Change',
            source: 'aws.cloudwatch',
            account: SIMULATED_ACCOUNT,
            time: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
            region: SIMULATED_REGION,
            resources: [alarmArn],
            detail: {
              alarmName: alarm.alarmName,
              state: { value: 'ALARM', reason, timestamp },
              previousState: { value: 'OK', reason: 'deployed', timestamp },
              configuration: {
                description: p.AlarmDescription,
                metrics: [
                  {
                    id: 'm1',
                    metricStat: {
                      metric: {
                        namespace: p.Namespace,
                        name: p.MetricName,
                        dimensions: Object.fromEntries(
                          (p.Dimensions as Array<{ Name: string; Value: string }>).map((d) => [
                            d.Name,
                            d.Value,
                          ]),
                        ),
                      },
                      period: p.Period,
                      stat: p.Statistic,
                    },
                    returnData: true,
                  },
                ],
              },
            },
          }
        : undefined,
    });
  }
  return evaluations;
}

/** The pipeline's executions in the emulator, newest first. */
export async function pipelineExecutions(
  loop: SimulatedLoop,
  clients: EmulatorClients,
): Promise<PipelineExecutionSummary[]> {
  const { PipelineExecutionSummaries = [] } = await clients.sageMaker.send(
    new ListPipelineExecutionsCommand({ PipelineName: loop.pipelineName, SortOrder: 'Descending' }),
  );
  return PipelineExecutionSummaries;
}

/** A Lambda step of the pipeline as the simulated execution ran it. */
export interface LambdaStepRun {
  readonly name: string;
  /** The function the definition names, and the handler it runs. */
  readonly functionArn: string;
  readonly role: FunctionRole;
  /** The step's Arguments, resolved for the execution. */
  readonly event: Record<string, Json>;
  readonly output: Record<string, Json>;
}

/**
 * Runs the Lambda steps of the synthesized pipeline definition, in definition order, for one
 * execution in the emulator: each step's Arguments resolved against the parameters the execution
 * was started with (ListPipelineParametersForExecution, the definition's defaults for the others)
 * and its execution id, then handed to the real handler of the function the step names. The
 * pipeline's other steps (processing, training, evaluation) are not run: `simulatePipelineResult`
 * writes what they would.
 */
export async function runPipelineLambdaSteps(
  loop: SimulatedLoop,
  clients: EmulatorClients,
  handlers: LoopHandlers,
  executionArn: string,
): Promise<LambdaStepRun[]> {
  const { PipelineParameters = [] } = await clients.sageMaker.send(
    new ListPipelineParametersForExecutionCommand({ PipelineExecutionArn: executionArn }),
  );
  const parameters: Record<string, Json> = Object.fromEntries(
    loop.pipelineDefinition.Parameters.map((p) => [p.Name, p.DefaultValue]),
  );
  for (const p of PipelineParameters) parameters[p.Name!] = p.Value;
  const execution = {
    PipelineExecutionId: executionArn.split('/').pop()!,
    PipelineExecutionArn: executionArn,
  };
  const value = (v: Json, at: string): Json => {
    if (typeof v !== 'object' || v === null) return v;
    const get = typeof v.Get === 'string' ? /^(Parameters|Execution)\.(\w+)$/.exec(v.Get) : null;
    const source: Record<string, Json> | undefined =
      get?.[1] === 'Parameters' ? parameters : get?.[1] === 'Execution' ? execution : undefined;
    if (get === null || source === undefined || !(get[2] in source)) {
      throw new Error(`the pipeline's ${at} is ${JSON.stringify(v)}, which the simulation does not resolve`);
    }
    return source[get[2]];
  };
  const runs: LambdaStepRun[] = [];
  for (const step of loop.pipelineDefinition.Steps.filter((s) => s.Type === 'Lambda')) {
    const functionArn = String(step.FunctionArn);
    const role = roleOf(loop.source.functionLogicalId(functionArn));
    const event = Object.fromEntries(
      Object.entries(step.Arguments as Record<string, Json>).map(([k, v]) => [
        k,
        value(v, `step ${step.Name} argument ${k}`),
      ]),
    );
    const output = (await handlers.functions[role](event)) as Record<string, Json>;
    const declared = ((step.OutputParameters ?? []) as Array<{ OutputName: string }>).map(
      (o) => o.OutputName,
    );
    const missing = declared.filter((name) => !(name in (output ?? {})));
    if (missing.length > 0) {
      throw new Error(`step ${step.Name} returned no ${missing.join(', ')}: ${JSON.stringify(output)}`);
    }
    runs.push({ name: step.Name, functionArn, role, event, output });
  }
  return runs;
}

/**
 * What the training pipeline's execution leaves behind, simulated: its evaluation report (RMSE and
 * MAE given by the scenario), its baseline, and a package registered PendingManualApproval.
 */
export async function simulatePipelineResult(
  loop: SimulatedLoop,
  clients: EmulatorClients,
  execution: string,
  metrics: { rmse: number; mae: number; rows: number },
): Promise<{ arn: string; reportUri: string }> {
  const folder = `pipelines/${loop.modelName}/${execution}`;
  const reportKey = `${folder}/evaluation/evaluation.json`;
  const baselineKey = `${folder}/preprocess/baseline/baseline.json`;
  const put = (Key: string, Body: string) =>
    clients.s3.send(
      new PutObjectCommand({ Bucket: loop.sourceBucket, Key, Body, ContentType: 'application/json' }),
    );
  await put(reportKey, JSON.stringify(evaluationReport(metrics.rmse, metrics.mae, metrics.rows)));
  // The window's data, as the retrained model's baseline would describe it.
  await put(baselineKey, JSON.stringify(trainingBaseline()));
  const reportUri = `s3://${loop.sourceBucket}/${reportKey}`;
  const arn = await registerPackage(
    clients.sageMaker,
    loop,
    'PendingManualApproval',
    reportUri,
    `s3://${loop.sourceBucket}/${baselineKey}`,
  );
  return { arn, reportUri };
}

/** The documented "SageMaker Model Package State Change" event of a package as it stands. */
export async function packageStateChange(
  clients: EmulatorClients,
  arn: string,
  id: string,
  time: string,
): Promise<{ event: Json; described: DescribeModelPackageOutput }> {
  const described = await clients.sageMaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
  return {
    described,
    event: {
      version: '0',
      id,
      'detail-type': 'SageMaker Model Package State Change',
      source: 'aws.sagemaker',
      account: SIMULATED_ACCOUNT,
      time,
      region: SIMULATED_REGION,
      resources: [arn],
      detail: {
        ModelPackageGroupName: described.ModelPackageGroupName,
        ModelPackageVersion: described.ModelPackageVersion,
        ModelPackageArn: described.ModelPackageArn,
        CreationTime: described.CreationTime?.getTime(),
        ModelApprovalStatus: described.ModelApprovalStatus,
        ModelPackageStatus: described.ModelPackageStatus ?? 'Completed',
        ApprovalDescription: described.ApprovalDescription,
      },
    },
  };
}

/** The input the release trigger started the release workflow's execution with. */
export async function executionInput(clients: EmulatorClients, outcome: TriggerOutcome): Promise<Json> {
  if (outcome.outcome !== 'started') {
    throw new Error(`the release trigger started no execution: ${JSON.stringify(outcome)}`);
  }
  const { input } = await clients.sfn.send(
    new DescribeExecutionCommand({ executionArn: outcome.executionArn }),
  );
  return JSON.parse(input ?? '{}');
}

/** An execution a handler started in the emulator, found by its name: its ARN and its input. */
export async function startedExecution(
  clients: EmulatorClients,
  stateMachineArn: string,
  name: string,
): Promise<{ executionArn: string; input: Json } | undefined> {
  const { executions = [] } = await clients.sfn.send(new ListExecutionsCommand({ stateMachineArn }));
  const found = executions.find((e) => e.name === name);
  if (found?.executionArn === undefined) return undefined;
  const { input } = await clients.sfn.send(
    new DescribeExecutionCommand({ executionArn: found.executionArn }),
  );
  return { executionArn: found.executionArn, input: JSON.parse(input ?? '{}') };
}

/** The value of an SSM parameter in the emulator. */
export async function parameterValue(clients: EmulatorClients, name: string): Promise<string | undefined> {
  const { Parameter } = await clients.ssm.send(new GetParameterCommand({ Name: name }));
  return Parameter?.Value;
}

export type { GateOutcome, RetrainOutcome, TriggerOutcome };
