import {
  DRIFT_ALARM,
  METRICS_NAMESPACE,
  MODEL_NAME,
  PAUSE_PARAMETER_NAME,
  PIPELINE_NAME,
  QUALITY_ALARM_ARN,
} from './support/retrain-trigger-env';
import { createHash } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  ListPipelineExecutionsCommand,
  ListPipelineExecutionsCommandInput,
  PipelineExecutionSummary,
  ResourceLimitExceeded,
  SageMakerClient,
  StartPipelineExecutionCommand,
  StartPipelineExecutionCommandInput,
} from '@aws-sdk/client-sagemaker';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { createHandler, readConfig, RetrainOutcome } from '../../lambda/retrain-trigger';
import { SCHEDULER_INPUT } from '../../lambda/shared/automation';
import { captureHandlerOutput, logLines, publishedMetrics } from './support/handler-output';

const ACCOUNT = '123456789012';
const NOW = new Date('2026-11-20T10:06:00Z');
const HOUR_MS = 3_600_000;
const EVENT_ID = 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92';
const EXECUTION_PREFIX = `arn:aws:sagemaker:us-east-1:${ACCOUNT}:pipeline/${PIPELINE_NAME}/execution`;
const THRESHOLD_CROSSED =
  'Threshold Crossed: 1 out of the last 1 datapoints [0.31 (20/11/26 10:00:00)] was greater than the ' +
  'threshold (0.25) (minimum 1 datapoint for OK -> ALARM transition).';
const RULE_ARN = `arn:aws:events:us-east-1:${ACCOUNT}:rule/trip-duration-weekly-retraining`;
const SCHEDULE_ARN = `arn:aws:scheduler:us-east-1:${ACCOUNT}:schedule/default/trip-duration-weekly-retraining`;

// The event in the shape the CloudWatch user guide documents for "CloudWatch Alarm State Change".
function alarmChanged(
  options: { alarmName?: string; alarmArn?: string; state?: string; id?: string } = {},
): Record<string, unknown> {
  const alarmName = options.alarmName ?? DRIFT_ALARM;
  return {
    version: '0',
    id: options.id ?? EVENT_ID,
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: ACCOUNT,
    time: '2026-11-20T10:05:00Z',
    region: 'us-east-1',
    resources: [options.alarmArn ?? `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:${alarmName}`],
    detail: {
      alarmName,
      configuration: {
        description: 'Population stability index of the trip distance feature',
        metrics: [
          {
            id: 'm1',
            metricStat: {
              metric: {
                namespace: 'MlopsMonitoring',
                name: 'FeaturePsi',
                dimensions: { EndpointName: 'prod-trip-duration', Feature: 'trip_distance' },
              },
              period: 3600,
              stat: 'Maximum',
            },
            returnData: true,
          },
        ],
      },
      previousState: {
        reason: 'Threshold Crossed: no datapoints were received for 1 period.',
        timestamp: '2026-11-20T09:05:00.412+0000',
        value: 'OK',
      },
      state: {
        reason: THRESHOLD_CROSSED,
        reasonData: '{"version":"1.0","queryDate":"2026-11-20T10:05:00.118+0000"}',
        timestamp: '2026-11-20T10:05:00.123+0000',
        value: options.state ?? 'ALARM',
      },
    },
  };
}

// An EventBridge rule's scheduled event, as the EventBridge user guide documents it.
function ruleScheduled(time = '2026-11-20T10:00:00Z'): Record<string, unknown> {
  return {
    version: '0',
    id: '89d1a02d-5ec7-412e-82f5-13505f849b41',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: ACCOUNT,
    time,
    region: 'us-east-1',
    resources: [RULE_ARN],
    detail: {},
  };
}

// SCHEDULER_INPUT as EventBridge Scheduler fills its context attributes in, for one attempt.
function schedulerInvoked(executionId: string, attempt: number): unknown {
  return JSON.parse(
    JSON.stringify(SCHEDULER_INPUT)
      .replace('<aws.scheduler.execution-id>', executionId)
      .replace('<aws.scheduler.scheduled-time>', '2026-11-20T10:00:00Z')
      .replace('<aws.scheduler.schedule-arn>', SCHEDULE_ARN)
      .replace('<aws.scheduler.attempt-number>', String(attempt)),
  );
}

function tokenOf(key: string): string {
  return createHash('sha256').update(`${PIPELINE_NAME}|${key}`).digest('hex');
}

const sageMaker = mockClient(SageMakerClient);
const ssm = mockClient(SSMClient);

/** The pipeline's executions as SageMaker keeps them; StartPipelineExecution adds to them. */
let executions: PipelineExecutionSummary[];
/** ClientRequestToken -> the execution it started: SageMaker starts at most one per token. */
let started: Map<string, string>;

function execution(
  status: string,
  hoursAgo: number,
  name = `exec-${executions.length}`,
): PipelineExecutionSummary {
  return {
    PipelineExecutionArn: `${EXECUTION_PREFIX}/${name}`,
    PipelineExecutionDisplayName: name,
    PipelineExecutionStatus: status as PipelineExecutionSummary['PipelineExecutionStatus'],
    StartTime: new Date(NOW.getTime() - hoursAgo * HOUR_MS),
  };
}

function pauseSwitch(value: string) {
  ssm.on(GetParameterCommand, { Name: PAUSE_PARAMETER_NAME }).resolves({
    Parameter: { Name: PAUSE_PARAMETER_NAME, Type: 'String', Value: value, Version: 3 },
  });
}

function startCalls(): StartPipelineExecutionCommandInput[] {
  return sageMaker.commandCalls(StartPipelineExecutionCommand).map((call) => call.args[0].input);
}

const handler = createHandler({
  config: readConfig(process.env),
  sageMaker: new SageMakerClient({}),
  ssm: new SSMClient({}),
  logger: new Logger({ serviceName: 'retrain-trigger', persistentKeys: { modelName: MODEL_NAME } }),
  metrics: new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: 'retrain-trigger',
    defaultDimensions: { ModelName: MODEL_NAME },
  }),
  now: () => NOW,
});

async function invoke(event: unknown): Promise<RetrainOutcome> {
  return handler(event as never);
}

beforeEach(() => {
  sageMaker.reset();
  ssm.reset();
  executions = [];
  started = new Map();
  captureHandlerOutput();
  pauseSwitch('active');
  sageMaker.on(ListPipelineExecutionsCommand).callsFake(() => ({
    PipelineExecutionSummaries: [...executions].sort(
      (a, b) => b.StartTime!.getTime() - a.StartTime!.getTime(),
    ),
  }));
  sageMaker.on(StartPipelineExecutionCommand).callsFake((input: StartPipelineExecutionCommandInput) => {
    const token = input.ClientRequestToken ?? '';
    if (!started.has(token)) {
      const arn = `${EXECUTION_PREFIX}/${String(started.size + 1).padStart(12, 'x')}`;
      started.set(token, arn);
      executions.push({
        PipelineExecutionArn: arn,
        PipelineExecutionDisplayName: input.PipelineExecutionDisplayName,
        PipelineExecutionStatus: 'Executing',
        StartTime: NOW,
      });
    }
    return { PipelineExecutionArn: started.get(token) };
  });
});

afterEach(() => {
  jest.restoreAllMocks();
});

describe('a watched alarm entering ALARM', () => {
  test('starts the pipeline with the data window, the reason and a token from the event id', async () => {
    const token = tokenOf(`alarm|${EVENT_ID}`);
    const reason = `alarm ${DRIFT_ALARM} entered ALARM at 2026-11-20T10:05:00.123+0000: ${THRESHOLD_CROSSED.replace(/\.$/, '')}`;

    const outcome = await invoke(alarmChanged());

    expect(startCalls()).toEqual([
      {
        PipelineName: PIPELINE_NAME,
        PipelineExecutionDisplayName: `retrain-alarm-20261120T100500Z-${token.slice(0, 12)}`,
        PipelineExecutionDescription:
          `Retraining on an alarm: ${reason}. Data window 2026-11-06T10:05:00Z to 2026-11-20T10:05:00Z (14 days). ` +
          `Started by the retrain trigger for event ${EVENT_ID}.`,
        PipelineParameters: [
          { Name: 'InputDataUrl', Value: 's3://mlops-dev-artifacts/data/' },
          { Name: 'DataWindowStart', Value: '2026-11-06T10:05:00Z' },
          { Name: 'DataWindowEnd', Value: '2026-11-20T10:05:00Z' },
          { Name: 'RetrainReason', Value: reason },
        ],
        ClientRequestToken: token,
      },
    ]);
    expect(outcome).toEqual({
      outcome: 'started',
      pipelineExecutionArn: `${EXECUTION_PREFIX}/xxxxxxxxxxx1`,
      displayName: `retrain-alarm-20261120T100500Z-${token.slice(0, 12)}`,
    });
  });

  test('reads the pause switch, then the last 28 days of executions, newest first', async () => {
    await invoke(alarmChanged());

    expect(ssm.commandCalls(GetParameterCommand).map((c) => c.args[0].input)).toEqual([
      { Name: PAUSE_PARAMETER_NAME },
    ]);
    expect(sageMaker.commandCalls(ListPipelineExecutionsCommand).map((c) => c.args[0].input)).toEqual([
      {
        PipelineName: PIPELINE_NAME,
        CreatedAfter: new Date('2026-10-23T10:06:00Z'),
        SortBy: 'CreationTime',
        SortOrder: 'Descending',
        MaxResults: 100,
        NextToken: undefined,
      },
    ]);
  });

  test('an alarm watched by its ARN starts the pipeline too', async () => {
    const outcome = await invoke(
      alarmChanged({ alarmName: 'trip-duration-rmse', alarmArn: QUALITY_ALARM_ARN }),
    );

    expect(outcome.outcome).toBe('started');
    expect(startCalls()).toHaveLength(1);
  });

  test('counts RetrainsStarted, with and without the Reason dimension, and logs the start', async () => {
    await invoke(alarmChanged());

    expect(publishedMetrics()).toEqual(
      expect.arrayContaining([
        {
          namespace: METRICS_NAMESPACE,
          name: 'RetrainsStarted',
          dimensions: { service: 'retrain-trigger', ModelName: MODEL_NAME },
          value: 1,
        },
        {
          namespace: METRICS_NAMESPACE,
          name: 'RetrainsStarted',
          dimensions: { service: 'retrain-trigger', ModelName: MODEL_NAME, Reason: 'Alarm' },
          value: 1,
        },
      ]),
    );
    expect(publishedMetrics()).toHaveLength(2);
    expect(logLines()).toEqual([
      expect.objectContaining({
        level: 'INFO',
        message: 'Started the retraining pipeline',
        modelName: MODEL_NAME,
        eventId: EVENT_ID,
        trigger: 'alarm',
        triggerName: DRIFT_ALARM,
        pipelineExecutionArn: `${EXECUTION_PREFIX}/xxxxxxxxxxx1`,
      }),
    ]);
  });
});

describe('schedules', () => {
  test("an EventBridge rule's scheduled event starts the pipeline, its window ending at the scheduled time", async () => {
    const token = tokenOf(`schedule|${RULE_ARN}|2026-11-20T10:00:00.000Z`);

    const outcome = await invoke(ruleScheduled());

    expect(startCalls()).toEqual([
      {
        PipelineName: PIPELINE_NAME,
        PipelineExecutionDisplayName: `retrain-schedule-20261120T100000Z-${token.slice(0, 12)}`,
        PipelineExecutionDescription:
          `Retraining on a schedule: schedule ${RULE_ARN} at 2026-11-20T10:00:00Z. ` +
          'Data window 2026-11-06T10:00:00Z to 2026-11-20T10:00:00Z (14 days). ' +
          'Started by the retrain trigger for event 89d1a02d-5ec7-412e-82f5-13505f849b41.',
        PipelineParameters: [
          { Name: 'InputDataUrl', Value: 's3://mlops-dev-artifacts/data/' },
          { Name: 'DataWindowStart', Value: '2026-11-06T10:00:00Z' },
          { Name: 'DataWindowEnd', Value: '2026-11-20T10:00:00Z' },
          { Name: 'RetrainReason', Value: `schedule ${RULE_ARN} at 2026-11-20T10:00:00Z` },
        ],
        ClientRequestToken: token,
      },
    ]);
    expect(outcome.outcome).toBe('started');
    expect(publishedMetrics()).toContainEqual(
      expect.objectContaining({
        name: 'RetrainsStarted',
        dimensions: expect.objectContaining({ Reason: 'Schedule' }),
      }),
    );
  });

  test('a Scheduler retry (another execution id, the same scheduled time) starts nothing twice', async () => {
    const first = await invoke(schedulerInvoked('d32c5kddcf5bb8c3', 1));
    const retry = await invoke(schedulerInvoked('a81f0e2b9c7d4e65', 2));

    expect(first.outcome).toBe('started');
    expect(retry).toMatchObject({ outcome: 'skipped', reason: 'Duplicate' });
    expect(startCalls()).toHaveLength(1);
    expect(startCalls()[0].ClientRequestToken).toBe(
      tokenOf(`schedule|${SCHEDULE_ARN}|2026-11-20T10:00:00.000Z`),
    );
  });
});

describe('guardrails', () => {
  test('an execution of the pipeline still running skips the start', async () => {
    executions.push(execution('Succeeded', 30), execution('Executing', 9, 'manual-run'));

    const outcome = await invoke(alarmChanged());

    expect(outcome).toEqual({
      outcome: 'skipped',
      reason: 'ExecutionRunning',
      message: `execution ${EXECUTION_PREFIX}/manual-run is Executing`,
      pipelineExecutionArn: `${EXECUTION_PREFIX}/manual-run`,
    });
    expect(startCalls()).toEqual([]);
  });

  test('an execution being stopped counts as running', async () => {
    executions.push(execution('Stopping', 7, 'stopping-run'));

    const outcome = await invoke(alarmChanged());

    expect(outcome).toMatchObject({ outcome: 'skipped', reason: 'ExecutionRunning' });
    expect(startCalls()).toEqual([]);
  });

  test('a start within the cooldown after the last one is skipped, saying when the next can be', async () => {
    executions.push(execution('Succeeded', 2, 'recent'));

    const outcome = await invoke(alarmChanged());

    expect(outcome).toEqual({
      outcome: 'skipped',
      reason: 'Cooldown',
      message:
        `execution ${EXECUTION_PREFIX}/recent started at 2026-11-20T08:06:00.000Z, 120 minutes ago, within the ` +
        'cooldown of 360 minutes: the next start can be after 2026-11-20T14:06:00.000Z',
      pipelineExecutionArn: `${EXECUTION_PREFIX}/recent`,
    });
    expect(startCalls()).toEqual([]);
  });

  test('a failed execution starts the cooldown too', async () => {
    executions.push(execution('Failed', 1, 'failed'));

    expect(await invoke(alarmChanged())).toMatchObject({ outcome: 'skipped', reason: 'Cooldown' });
  });

  test('once the cooldown has passed, the pipeline starts', async () => {
    executions.push(execution('Succeeded', 6, 'six-hours-ago'));

    expect((await invoke(alarmChanged())).outcome).toBe('started');
  });

  test('the daily cap skips a start once as many executions started in the last 24 hours', async () => {
    executions.push(execution('Succeeded', 20, 'morning'), execution('Succeeded', 8, 'evening'));

    const outcome = await invoke(alarmChanged());

    expect(outcome).toEqual({
      outcome: 'skipped',
      reason: 'DailyCap',
      message:
        '2 executions started in the last 24 hours, the cap is 2: the next start can be after 2026-11-20T14:06:00.000Z',
    });
    expect(startCalls()).toEqual([]);
  });

  test('executions older than 24 hours do not count towards the cap', async () => {
    executions.push(execution('Succeeded', 25, 'yesterday'), execution('Succeeded', 8, 'evening'));

    expect((await invoke(alarmChanged())).outcome).toBe('started');
  });

  test.each(['paused', 'PAUSED', ' Paused\n'])(
    'the pause switch at %j stops the start before any execution is listed',
    async (value) => {
      pauseSwitch(value);

      const outcome = await invoke(alarmChanged());

      expect(outcome).toEqual({
        outcome: 'skipped',
        reason: 'Paused',
        message: `retraining is paused: ${PAUSE_PARAMETER_NAME} is '${value}'`,
      });
      expect(sageMaker.calls()).toEqual([]);
    },
  );

  test('the pause switch stops scheduled starts too', async () => {
    pauseSwitch('paused');

    expect(await invoke(ruleScheduled())).toMatchObject({ outcome: 'skipped', reason: 'Paused' });
    expect(startCalls()).toEqual([]);
  });

  test('a missing pause switch stops starts and says how to create it', async () => {
    ssm
      .on(GetParameterCommand)
      .rejects(new ParameterNotFound({ message: 'Parameter not found', $metadata: { httpStatusCode: 400 } }));

    const outcome = await invoke(alarmChanged());

    expect(outcome).toEqual({
      outcome: 'skipped',
      reason: 'PauseSwitchMissing',
      message:
        `the pause switch ${PAUSE_PARAMETER_NAME} does not exist: create it (aws ssm put-parameter ` +
        `--name ${PAUSE_PARAMETER_NAME} --type String --value active) to let retraining start`,
    });
    expect(sageMaker.calls()).toEqual([]);
  });

  test('every skip is counted with its reason and logged', async () => {
    executions.push(execution('Succeeded', 2, 'recent'));

    await invoke(alarmChanged());

    expect(publishedMetrics()).toEqual([
      {
        namespace: METRICS_NAMESPACE,
        name: 'RetrainsSkipped',
        dimensions: { service: 'retrain-trigger', ModelName: MODEL_NAME, Reason: 'Cooldown' },
        value: 1,
      },
      {
        namespace: METRICS_NAMESPACE,
        name: 'RetrainsSkipped',
        dimensions: { service: 'retrain-trigger', ModelName: MODEL_NAME },
        value: 1,
      },
    ]);
    expect(logLines()).toEqual([
      expect.objectContaining({
        level: 'INFO',
        message: 'Skipped the retraining',
        skipReason: 'Cooldown',
        triggerName: DRIFT_ALARM,
        eventId: EVENT_ID,
      }),
    ]);
  });
});

describe('duplicate alarm events', () => {
  test('a second delivery of the event finds its execution and starts nothing', async () => {
    const first = await invoke(alarmChanged());
    const second = await invoke(alarmChanged());

    expect(first.outcome).toBe('started');
    expect(second).toEqual({
      outcome: 'skipped',
      reason: 'Duplicate',
      message: `this event already started execution ${EXECUTION_PREFIX}/xxxxxxxxxxx1 (Executing)`,
      pipelineExecutionArn: `${EXECUTION_PREFIX}/xxxxxxxxxxx1`,
    });
    expect(startCalls()).toHaveLength(1);
  });

  test('two deliveries at once send the same token, so SageMaker starts one execution', async () => {
    const outcomes = await Promise.all([invoke(alarmChanged()), invoke(alarmChanged())]);

    const [a, b] = startCalls();
    expect(a).toEqual(b);
    expect(executions).toHaveLength(1);
    expect(outcomes.map((o) => o.outcome === 'started' && o.pipelineExecutionArn)).toEqual([
      `${EXECUTION_PREFIX}/xxxxxxxxxxx1`,
      `${EXECUTION_PREFIX}/xxxxxxxxxxx1`,
    ]);
  });

  test('another alarm event (another id) is a new request: the running execution skips it', async () => {
    await invoke(alarmChanged());
    const other = await invoke(alarmChanged({ id: '7f3e2d1c-0b9a-4876-a5b4-c3d2e1f0a9b8' }));

    expect(other).toMatchObject({ outcome: 'skipped', reason: 'ExecutionRunning' });
    expect(startCalls()).toHaveLength(1);
  });
});

describe('events that ask for nothing', () => {
  test('an alarm of another resource is ignored without a call', async () => {
    const outcome = await invoke(alarmChanged({ alarmName: 'checkout-api-5xx' }));

    expect(outcome).toEqual({
      outcome: 'ignored',
      reason: "alarm 'checkout-api-5xx' is not one of the alarms that trigger retraining",
    });
    expect([...sageMaker.calls(), ...ssm.calls()]).toEqual([]);
    expect(publishedMetrics()).toContainEqual(
      expect.objectContaining({
        name: 'EventsIgnored',
        dimensions: expect.objectContaining({ Reason: 'AlarmNotWatched' }),
      }),
    );
  });

  test.each(['OK', 'INSUFFICIENT_DATA'])(
    'a watched alarm changing to %s is ignored without a call',
    async (state) => {
      const outcome = await invoke(alarmChanged({ state }));

      expect(outcome).toEqual({
        outcome: 'ignored',
        reason: `alarm '${DRIFT_ALARM}' changed to ${state}, not ALARM`,
      });
      expect([...sageMaker.calls(), ...ssm.calls()]).toEqual([]);
      expect(publishedMetrics()).toContainEqual(
        expect.objectContaining({
          name: 'EventsIgnored',
          dimensions: expect.objectContaining({ Reason: 'NotInAlarm' }),
        }),
      );
    },
  );

  test.each([
    ['not an object', 42, /the event is not an object/],
    ['without an id', { ...alarmChanged(), id: '' }, /the event's id is ''/],
    ['with a bad time', { ...alarmChanged(), time: 'yesterday' }, /the event's time is 'yesterday'/],
    [
      'of another kind',
      { ...ruleScheduled(), source: 'aws.sagemaker', 'detail-type': 'SageMaker Model Package State Change' },
      /is neither a 'CloudWatch Alarm State Change' event of aws.cloudwatch nor a 'Scheduled Event'/,
    ],
    ['a schedule naming no rule', { ...ruleScheduled(), resources: [] }, /resources\[0\] is \(undefined\)/],
  ])('a malformed event (%s) is logged and dropped', async (_, event, reason) => {
    const outcome = await invoke(event);

    expect(outcome).toEqual({ outcome: 'malformed', reason: expect.stringMatching(reason) });
    expect([...sageMaker.calls(), ...ssm.calls()]).toEqual([]);
    expect(logLines()).toEqual([expect.objectContaining({ level: 'ERROR' })]);
  });
});

describe('failures', () => {
  test('a failed start is rethrown and counted, so that the event is retried', async () => {
    sageMaker.on(StartPipelineExecutionCommand).rejects(
      new ResourceLimitExceeded({
        message: 'Too many concurrent executions',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    await expect(invoke(alarmChanged())).rejects.toThrow('Too many concurrent executions');

    expect(publishedMetrics().map((m) => [m.name, m.dimensions.Reason])).toEqual([
      ['TriggerFailures', 'Failed'],
      ['TriggerFailures', undefined],
    ]);
  });

  test('executions are read page by page, and a running one on the second page still counts', async () => {
    sageMaker
      .on(ListPipelineExecutionsCommand)
      .resolvesOnce({ PipelineExecutionSummaries: [execution('Succeeded', 200)], NextToken: 'page-2' })
      .resolvesOnce({ PipelineExecutionSummaries: [execution('Executing', 300, 'stuck')] });

    const outcome = await invoke(alarmChanged());

    expect(outcome).toMatchObject({ outcome: 'skipped', reason: 'ExecutionRunning' });
    const listed: ListPipelineExecutionsCommandInput[] = sageMaker
      .commandCalls(ListPipelineExecutionsCommand)
      .map((c) => c.args[0].input);
    expect(listed.map((input) => input.NextToken)).toEqual([undefined, 'page-2']);
  });
});

describe('configuration', () => {
  const base = {
    PIPELINE_NAME,
    PAUSE_PARAMETER_NAME,
    MODEL_NAME,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  };

  test('defaults: no watched alarm, a 6-hour cooldown, 2 starts a day, a 30-day window, no parameters', () => {
    expect(readConfig(base).settings).toEqual({
      pipelineName: PIPELINE_NAME,
      pauseParameterName: PAUSE_PARAMETER_NAME,
      watchedAlarms: [],
      guardrails: { cooldownMinutes: 360, maxStartsPerDay: 2 },
      dataWindowDays: 30,
      parameterTemplates: {},
    });
  });

  test('a misconfiguration names every variable, its value and the fix', () => {
    expect(() =>
      readConfig({
        PAUSE_PARAMETER_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        COOLDOWN_MINUTES: '90.5',
        MAX_STARTS_PER_DAY: '0',
        WATCHED_ALARMS: 'trip-duration-drift',
        PIPELINE_PARAMETERS: '{"DataWindowStart":"{start}"}',
      }),
    ).toThrow(
      'The retrain trigger is misconfigured: ' +
        "PIPELINE_NAME is not set: set it to the name or ARN of the model's training pipeline; " +
        "COOLDOWN_MINUTES '90.5' is not a number of minutes: use a whole number from 0 to 40320; " +
        "MAX_STARTS_PER_DAY '0' is not a number of starts: use a whole number from 1 to 1000; " +
        `WATCHED_ALARMS 'trip-duration-drift' is not a JSON array of alarm names or ARNs: use e.g. '["trip-duration-drift"]'; ` +
        'PIPELINE_PARAMETERS.DataWindowStart uses {start}: the placeholders are {windowStart}, {windowEnd}, ' +
        '{windowDays}, {trigger}, {triggerName}, {reason}, {eventId}; ' +
        'MODEL_NAME is not set: set it to the name of the model',
    );
  });
});
