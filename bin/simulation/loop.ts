import { GetMetricStatisticsCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  DescribeModelPackageCommand,
  DescribeModelPackageOutput,
  ListPipelineExecutionsCommand,
  PipelineExecutionSummary,
} from '@aws-sdk/client-sagemaker';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { StateMachine } from 'aws-local-stepfunctions';
import type { RetrainOutcome } from '../../lambda/retrain-trigger';
import type { GateOutcome } from '../../lambda/approval-gate';
import type { TriggerOutcome } from '../../lambda/release-trigger';
import { SimulatedLoop, SimulatedStateMachine } from './synthesized-app';
import { trainingBaseline } from './traffic';
import { Json, SIMULATED_ACCOUNT, SIMULATED_REGION } from './template';
import { EmulatorClients, evaluationReport, handlerEnvironment, registerPackage, snsCall } from './world';

/*
 * The steps of the loop, each running the real code: the drift workflow and the release workflow
 * as synthesized (aws-local-stepfunctions, their Lambda tasks calling the handlers in this process),
 * the retrain trigger, the approval gate and the release trigger as their handlers, configured from
 * their environment. What is simulated: CloudWatch's alarm evaluation (moto does not evaluate
 * alarms: the alarm's own rule is applied to the published data points), EventBridge (the events
 * are built in the documented shapes and handed to the handlers) and the training pipeline's work
 * (moto completes an execution at once; the simulation registers the package it would).
 */

// aws-local-stepfunctions calls Promise.withResolvers, which Node 22 has and Node 20 lacks.
if (!('withResolvers' in Promise)) {
  Object.assign(Promise, {
    withResolvers<T>() {
      let resolve!: (value: T) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

type Handler = (event: Json) => Promise<Json>;

/** The handlers of the loop, loaded once the emulator's environment is set. */
export interface LoopHandlers {
  readonly retrainTrigger: (event: Json, now: () => Date) => Promise<RetrainOutcome>;
  readonly approvalGate: Handler;
  readonly releaseTrigger: Handler;
  /** The Lambda functions the state machines call, by the role of their logical id. */
  readonly functions: Record<'plan' | 'drift' | 'step' | 'health', Handler>;
}

/**
 * Loads the handlers with their environment. The modules read it (and create their clients) when
 * they load, so it is set first; each handler that takes its configuration from `readConfig` gets
 * its own, from its function's environment.
 */
export function loadHandlers(loop: SimulatedLoop, clients: EmulatorClients): LoopHandlers {
  const env = handlerEnvironment(loop);
  const { trigger, step, health } = loop.releaseFunctions;
  Object.assign(process.env, env.retrainTrigger, env.approvalGate, trigger, health, step);
  /* eslint-disable @typescript-eslint/no-require-imports */
  const retrain = require('../../lambda/retrain-trigger') as typeof import('../../lambda/retrain-trigger');
  const gate = require('../../lambda/approval-gate') as typeof import('../../lambda/approval-gate');
  const release = require('../../lambda/release-trigger') as typeof import('../../lambda/release-trigger');
  const runtime =
    require('../../lambda/shared/handler-runtime') as typeof import('../../lambda/shared/handler-runtime');
  const plan = require('../../lambda/drift-plan') as typeof import('../../lambda/drift-plan');
  const drift = require('../../lambda/drift-job') as typeof import('../../lambda/drift-job');
  const releaseStep = require('../../lambda/release-step') as typeof import('../../lambda/release-step');
  const releaseHealth =
    require('../../lambda/release-health') as typeof import('../../lambda/release-health');
  /* eslint-enable @typescript-eslint/no-require-imports */

  const retrainConfig = retrain.readConfig({ ...env.retrainTrigger });
  const gateConfig = gate.readConfig({ ...env.approvalGate });
  const releaseConfig = release.readConfig({ ...trigger });
  const gateHandler = gate.createHandler({
    config: gateConfig,
    sageMaker: clients.sageMaker,
    s3: clients.s3,
    ssm: clients.ssm,
    ...runtime.handlerTelemetry(gateConfig),
  });
  const releaseHandler = release.createHandler({
    config: releaseConfig,
    stepFunctions: clients.sfn,
    ...runtime.handlerTelemetry(releaseConfig),
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
    },
  };
}

/** Which handler a function of the synthesized templates runs, from its logical id. */
function roleOf(logicalId: string): keyof LoopHandlers['functions'] {
  const match = /(Plan|Drift|WorkflowStep|WorkflowHealth)[0-9A-F]{8}$/.exec(logicalId);
  if (!match) {
    throw new Error(`the simulation does not know which handler function ${logicalId} runs`);
  }
  return ({ Plan: 'plan', Drift: 'drift', WorkflowStep: 'step', WorkflowHealth: 'health' } as const)[
    match[1] as 'Plan' | 'Drift' | 'WorkflowStep' | 'WorkflowHealth'
  ];
}

/** What a local execution did: its outcome, the notifications it published, the approvals asked. */
export interface ExecutionRun {
  readonly succeeded: boolean;
  readonly error: string;
  readonly output: Json;
  readonly notifications: Array<{ subject: string; message: string }>;
  readonly approvals: string[];
}

/**
 * Runs one execution of a synthesized state machine locally: Lambda tasks call the handlers, SNS
 * tasks publish to the emulator, a task that waits for a person (a manual approval) is answered
 * with an approval, and waits take no time.
 */
export async function execute(
  machine: SimulatedStateMachine,
  handlers: LoopHandlers,
  motoUrl: string,
  input: Json,
): Promise<ExecutionRun> {
  const notifications: ExecutionRun['notifications'] = [];
  const approvals: string[] = [];
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
      if (resource.endsWith(':lambda:invoke')) {
        const fn = handlers.functions[roleOf(machine.stack.functionLogicalId(state.Parameters.FunctionName))];
        local[name] = async (task) => ({ Payload: await fn(task.Payload) });
      } else if (resource.startsWith('arn:aws:lambda:')) {
        const fn = handlers.functions[roleOf(machine.stack.functionLogicalId(resource))];
        local[name] = (task) => fn(task);
      } else if (resource.endsWith(':sns:publish')) {
        local[name] = publish;
      } else if (resource.endsWith(':sns:publish.waitForTaskToken')) {
        local[name] = async (task) => {
          await publish(task);
          approvals.push(String(task.Subject));
          return {};
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
    context: { Task: { Token: 'simulated-task-token' } },
  });
  return execution.result.then(
    (output: Json) => ({ succeeded: true, error: '', output, notifications, approvals }),
    (error: Error) => ({
      succeeded: false,
      error: `${error.name}: ${error.message} ${String(error.cause ?? '')}`.trim(),
      output: undefined,
      notifications,
      approvals,
    }),
  );
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

/** The value of an SSM parameter in the emulator. */
export async function parameterValue(clients: EmulatorClients, name: string): Promise<string | undefined> {
  const { Parameter } = await clients.ssm.send(new GetParameterCommand({ Name: name }));
  return Parameter?.Value;
}

export type { GateOutcome, RetrainOutcome, TriggerOutcome };
