import {
  MODEL_NAME,
  MODEL_PACKAGE_GROUP_NAME,
  METRICS_NAMESPACE,
  STATE_MACHINE_ARN,
} from './support/release-trigger-env';
import { createHash } from 'node:crypto';
import {
  ExecutionAlreadyExists,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import {
  classifyEvent,
  executionName,
  handler,
  ModelPackageStateChangeDetail,
  ModelPackageStateChangeEvent,
  readConfig,
  TriggerOutcome,
} from '../../lambda/release-trigger';

const ACCOUNT = '123456789012';
const ARN = `arn:aws:sagemaker:us-east-1:${ACCOUNT}:model-package/${MODEL_PACKAGE_GROUP_NAME}/3`;
const EVENT_ID = '5f0c8a7e-3b1d-4c2e-9a6f-1d2e3f4a5b6c';
const EVENT_TIME = '2026-11-20T10:05:00Z';
const EXECUTION_PREFIX = `arn:aws:states:us-east-1:${ACCOUNT}:execution:trip-duration-release`;

// The event in the shape the SageMaker developer guide documents for "SageMaker Model Package
// State Change": the model package, as DescribeModelPackage describes it, in `detail`.
function documentedDetail(arn: string, group: string, version: number) {
  return {
    ModelPackageGroupName: group,
    ModelPackageVersion: version,
    ModelPackageArn: arn,
    CreationTime: '2026-11-20T09:40:12Z',
    InferenceSpecification: {
      Containers: [
        {
          Image: '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1',
          ModelDataUrl: `s3://mlops-dev-artifacts/${group}/model.tar.gz`,
        },
      ],
      SupportedContentTypes: ['text/csv'],
      SupportedResponseMIMETypes: ['text/csv'],
    },
    ModelPackageStatus: 'Completed',
    ModelPackageStatusDetails: { ValidationStatuses: [], ImageScanStatuses: [] },
    CertifyForMarketplace: false,
    ModelApprovalStatus: 'Approved',
    MetadataProperties: {
      GeneratedBy: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:pipeline/${group}/execution/k2v9q1x7m3p4`,
    },
    LastModifiedTime: EVENT_TIME,
  };
}

function stateChange(
  detail: Partial<Record<keyof ModelPackageStateChangeDetail, unknown>> = {},
  event: Partial<Record<keyof ModelPackageStateChangeEvent, unknown>> = {},
): ModelPackageStateChangeEvent {
  const arn = typeof detail.ModelPackageArn === 'string' ? detail.ModelPackageArn : ARN;
  return {
    version: '0',
    id: EVENT_ID,
    'detail-type': 'SageMaker Model Package State Change',
    source: 'aws.sagemaker',
    account: ACCOUNT,
    time: EVENT_TIME,
    region: 'us-east-1',
    resources: [arn],
    detail: { ...documentedDetail(ARN, MODEL_PACKAGE_GROUP_NAME, 3), ...detail },
    ...event,
  } as ModelPackageStateChangeEvent;
}

function expectedName(arn: string, version: number): string {
  return `v${version}-${createHash('sha256').update(arn).digest('hex').slice(0, 32)}`;
}

const sfn = mockClient(SFNClient);

// Powertools writes one JSON object per line: log lines to stdout (errors to stderr), metrics as
// CloudWatch embedded metric format to stdout.
let written: string[] = [];

interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly [key: string]: unknown;
}

function outputLines(): Record<string, unknown>[] {
  return written
    .join('')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function logLines(): LogLine[] {
  return outputLines().filter((line): line is LogLine => typeof line.level === 'string');
}

interface EmfLine {
  readonly _aws: {
    readonly CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[];
  };
  readonly [key: string]: unknown;
}

function metricLines(): EmfLine[] {
  return outputLines().filter((line): line is EmfLine => line._aws !== undefined);
}

function metricNames(): string[] {
  return metricLines().flatMap((line) =>
    line._aws.CloudWatchMetrics.flatMap((set) => set.Metrics.map((metric) => metric.Name)),
  );
}

function startCalls() {
  return sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input);
}

async function invoke(event: unknown): Promise<TriggerOutcome> {
  return handler(event as ModelPackageStateChangeEvent);
}

/** Step Functions' answer to a new execution: started now. */
function startsNow() {
  sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
    executionArn: `${EXECUTION_PREFIX}:${input.name}`,
    startDate: new Date(),
  }));
}

function alreadyExists(name: string) {
  return new ExecutionAlreadyExists({
    $metadata: { httpStatusCode: 400 },
    message: `Execution Already Exists: '${EXECUTION_PREFIX}:${name}'`,
  });
}

beforeEach(() => {
  sfn.reset();
  written = [];
  const capture = (chunk: string | Uint8Array) => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  jest.spyOn(process.stdout, 'write').mockImplementation(capture as typeof process.stdout.write);
  jest.spyOn(process.stderr, 'write').mockImplementation(capture as typeof process.stderr.write);
});

afterEach(() => {
  jest.restoreAllMocks();
});

describe('an approved model package version', () => {
  test('starts exactly one execution of the release workflow, named after the package ARN', async () => {
    startsNow();
    const name = expectedName(ARN, 3);

    const outcome = await invoke(stateChange());

    expect(outcome).toEqual({
      outcome: 'started',
      executionArn: `${EXECUTION_PREFIX}:${name}`,
      executionName: name,
    });
    const calls = startCalls();
    expect(calls).toHaveLength(1);
    expect(calls[0].stateMachineArn).toBe(STATE_MACHINE_ARN);
    expect(calls[0].name).toBe(name);
    expect(calls[0].name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    expect(JSON.parse(calls[0].input ?? '')).toEqual({
      modelPackageArn: ARN,
      modelPackageGroupName: MODEL_PACKAGE_GROUP_NAME,
      modelPackageVersion: 3,
      approvedAt: EVENT_TIME,
      eventId: EVENT_ID,
    });
  });

  test('logs the start as structured JSON with the model, the package and the event', async () => {
    startsNow();

    await invoke(stateChange());

    expect(logLines()).toEqual([
      expect.objectContaining({
        level: 'INFO',
        message: 'Started the release workflow',
        service: 'release-trigger',
        modelName: MODEL_NAME,
        modelPackageArn: ARN,
        eventId: EVENT_ID,
        executionName: expectedName(ARN, 3),
      }),
    ]);
  });

  test('publishes ReleasesStarted with the ModelName dimension', async () => {
    startsNow();

    await invoke(stateChange());

    const [emf] = metricLines();
    expect(metricNames()).toEqual(['ReleasesStarted']);
    expect(emf._aws.CloudWatchMetrics[0].Namespace).toBe(METRICS_NAMESPACE);
    expect(emf._aws.CloudWatchMetrics[0].Dimensions[0]).toContain('ModelName');
    expect(emf).toMatchObject({ ModelName: MODEL_NAME, ReleasesStarted: 1 });
  });

  test('of a group whose name differs from the configured one only in case starts a release', async () => {
    startsNow();

    const outcome = await invoke(stateChange({ ModelPackageGroupName: 'Taxi-Duration' }));

    expect(outcome.outcome).toBe('started');
    expect(startCalls()).toHaveLength(1);
    expect(JSON.parse(startCalls()[0].input ?? '')).toMatchObject({
      modelPackageArn: ARN,
      modelPackageGroupName: 'Taxi-Duration',
    });
  });

  test('of another version starts an execution of another name', async () => {
    startsNow();
    const arn4 = ARN.replace(/\/3$/, '/4');

    await invoke(stateChange({ ModelPackageArn: arn4, ModelPackageVersion: 4 }));

    expect(startCalls().map((call) => call.name)).toEqual([expectedName(arn4, 4)]);
  });
});

describe('events that start nothing', () => {
  test.each([
    [
      'that was rejected',
      { ModelApprovalStatus: 'Rejected' },
      "ModelApprovalStatus is 'Rejected', not 'Approved'",
    ],
    [
      'pending manual approval',
      { ModelApprovalStatus: 'PendingManualApproval' },
      "ModelApprovalStatus is 'PendingManualApproval', not 'Approved'",
    ],
    [
      'of another group',
      {
        ModelPackageGroupName: 'churn',
        ModelPackageArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:model-package/churn/3`,
      },
      "the package is in group 'churn', not in this model's group 'taxi-duration'",
    ],
    [
      'of a package still in progress',
      { ModelPackageStatus: 'InProgress' },
      "ModelPackageStatus is 'InProgress', not 'Completed'",
    ],
  ])('a version %s is ignored, logged at info', async (_case, detail, reason) => {
    startsNow();

    const outcome = await invoke(stateChange(detail));

    expect(outcome).toEqual({ outcome: 'ignored', reason });
    expect(startCalls()).toHaveLength(0);
    expect(logLines()).toEqual([
      expect.objectContaining({ level: 'INFO', message: 'Ignored the event', reason, eventId: EVENT_ID }),
    ]);
    expect(metricNames()).toEqual(['EventsIgnored']);
  });
});

describe('duplicates', () => {
  test('a version whose execution already exists is a duplicate, not a second release', async () => {
    const name = expectedName(ARN, 3);
    sfn.on(StartExecutionCommand).rejects(alreadyExists(name));

    const outcome = await invoke(stateChange());

    expect(outcome).toEqual({ outcome: 'duplicate', executionName: name });
    expect(startCalls()).toHaveLength(1);
    expect(logLines()).toEqual([
      expect.objectContaining({
        level: 'INFO',
        message: expect.stringContaining('already started'),
        executionName: name,
        eventId: EVENT_ID,
      }),
    ]);
    expect(metricNames()).toEqual(['DuplicateEvents']);
  });

  test('the same event delivered twice starts one release', async () => {
    const name = expectedName(ARN, 3);
    sfn
      .on(StartExecutionCommand)
      .resolvesOnce({ executionArn: `${EXECUTION_PREFIX}:${name}`, startDate: new Date() })
      .rejectsOnce(alreadyExists(name));

    const first = await invoke(stateChange());
    const second = await invoke(stateChange());

    expect(first).toEqual({
      outcome: 'started',
      executionArn: `${EXECUTION_PREFIX}:${name}`,
      executionName: name,
    });
    expect(second).toEqual({ outcome: 'duplicate', executionName: name });
    const [call1, call2] = startCalls();
    expect(call2).toEqual(call1);
    expect(metricNames()).toEqual(['ReleasesStarted', 'DuplicateEvents']);
  });

  test('a second event for the same version uses the same execution name', async () => {
    const name = expectedName(ARN, 3);
    sfn.on(StartExecutionCommand).rejects(alreadyExists(name));

    const outcome = await invoke(
      stateChange({}, { id: '0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d', time: '2026-11-20T11:00:00Z' }),
    );

    expect(outcome).toEqual({ outcome: 'duplicate', executionName: name });
    expect(startCalls()[0].name).toBe(name);
  });

  test('the running execution returned for the same name and input is a duplicate', async () => {
    const name = expectedName(ARN, 3);
    const executionArn = `${EXECUTION_PREFIX}:${name}`;
    sfn
      .on(StartExecutionCommand)
      .resolves({ executionArn, startDate: new Date(Date.now() - 10 * 60 * 1000) });

    const outcome = await invoke(stateChange());

    expect(outcome).toEqual({ outcome: 'duplicate', executionName: name, executionArn });
    expect(logLines()).toEqual([
      expect.objectContaining({ level: 'INFO', message: expect.stringContaining('already started') }),
    ]);
    expect(metricNames()).toEqual(['DuplicateEvents']);
  });
});

describe('malformed events', () => {
  const otherGroupArn = `arn:aws:sagemaker:us-east-1:${ACCOUNT}:model-package/churn/3`;
  test.each<[string, unknown, string]>([
    ['null', null, 'the event is not an object'],
    ['a string', 'approved', 'the event is not an object'],
    [
      'missing detail',
      stateChange({}, { detail: undefined }),
      "the event's detail is (undefined), not an object",
    ],
    [
      'a non-numeric version',
      stateChange({ ModelPackageVersion: 'three' }),
      "detail.ModelPackageVersion 'three' is not a version number",
    ],
    [
      'a fractional version',
      stateChange({ ModelPackageVersion: 3.5 }),
      "detail.ModelPackageVersion '3.5' is not a version number",
    ],
    [
      'an ARN of another group than the detail says',
      stateChange({ ModelPackageArn: otherGroupArn }),
      `detail.ModelPackageArn '${otherGroupArn}' is in group 'churn', but detail.ModelPackageGroupName is 'taxi-duration'`,
    ],
    [
      'an ARN of another version than the detail says',
      stateChange({ ModelPackageVersion: 4 }),
      `detail.ModelPackageArn '${ARN}' is version 3, but detail.ModelPackageVersion is 4`,
    ],
    [
      'an unparseable ARN',
      stateChange({ ModelPackageArn: 'taxi-duration/3' }),
      "detail.ModelPackageArn: model package ARN 'taxi-duration/3' is not a model package version ARN",
    ],
    [
      'a group ARN',
      stateChange({
        ModelPackageArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:model-package-group/taxi-duration`,
      }),
      'names a model package group, not one of its versions',
    ],
    ['a missing ARN', stateChange({ ModelPackageArn: undefined }), 'model package ARN (undefined)'],
    [
      'an invalid group name',
      stateChange({ ModelPackageGroupName: 'taxi duration' }),
      "detail.ModelPackageGroupName 'taxi duration' is not a model package group name",
    ],
    [
      'a missing approval status',
      stateChange({ ModelApprovalStatus: undefined }),
      'detail.ModelApprovalStatus (undefined) is not a string',
    ],
    [
      'another source',
      stateChange({}, { source: 'custom.release' }),
      "the event's source is 'custom.release', not 'aws.sagemaker'",
    ],
    [
      'another detail-type',
      stateChange({}, { 'detail-type': 'SageMaker Model State Change' }),
      "the event's detail-type is 'SageMaker Model State Change'",
    ],
    ['a missing time', stateChange({}, { time: undefined }), "the event's time is (undefined)"],
  ])('%s is rejected with an error log line, and nothing is started', async (_case, event, reason) => {
    startsNow();

    const outcome = await invoke(event);

    expect(outcome.outcome).toBe('rejected');
    const rejection = outcome as { reason: string };
    expect(rejection.reason).toContain(reason);
    expect(startCalls()).toHaveLength(0);
    const lines = logLines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'ERROR',
      message: expect.stringContaining('Rejected a malformed event'),
      reason: rejection.reason,
      modelName: MODEL_NAME,
    });
    if (event !== null && typeof event === 'object') {
      expect(lines[0].eventId).toBe(EVENT_ID);
    }
    expect(metricNames()).toEqual(['EventsRejected']);
  });
});

describe('other Step Functions errors', () => {
  test('are logged and rethrown, so that Lambda retries the event', async () => {
    const error = new StateMachineDoesNotExist({
      $metadata: { httpStatusCode: 400 },
      message: `State Machine Does Not Exist: '${STATE_MACHINE_ARN}'`,
    });
    sfn.on(StartExecutionCommand).rejects(error);

    await expect(invoke(stateChange())).rejects.toBe(error);

    expect(startCalls()).toHaveLength(1);
    expect(logLines()).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        message: expect.stringContaining('Could not start the release workflow'),
        eventId: EVENT_ID,
        error: expect.objectContaining({ name: 'StateMachineDoesNotExist' }),
      }),
    ]);
    expect(metricNames()).toEqual(['StartFailures']);
  });

  test('a throttled call is rethrown too', async () => {
    const error = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    sfn.on(StartExecutionCommand).rejects(error);

    await expect(invoke(stateChange())).rejects.toThrow('Rate exceeded');
  });
});

describe('executionName', () => {
  test('is v<version>-<32 hex digits>, within Step Functions limits', () => {
    const name = executionName(ARN);
    expect(name).toBe(expectedName(ARN, 3));
    expect(name).toMatch(/^v3-[0-9a-f]{32}$/);
    expect(name.length).toBeLessThanOrEqual(80);
  });

  test('names the same execution whatever the case of the ARN', () => {
    expect(executionName(ARN.replace('taxi-duration', 'Taxi-Duration'))).toBe(executionName(ARN));
  });

  test('differs between versions and between accounts', () => {
    const names = new Set([
      executionName(ARN),
      executionName(ARN.replace(/\/3$/, '/30')),
      executionName(ARN.replace(ACCOUNT, '210987654321')),
    ]);
    expect(names.size).toBe(3);
  });
});

describe('classifyEvent', () => {
  test('compares the configured group case-insensitively', () => {
    expect(classifyEvent(stateChange(), 'TAXI-DURATION')).toMatchObject({ kind: 'release' });
  });
});

describe('configuration', () => {
  const complete = {
    STATE_MACHINE_ARN,
    MODEL_PACKAGE_GROUP_NAME,
    MODEL_NAME,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  };

  test('is read from the environment', () => {
    expect(readConfig(complete)).toEqual({
      stateMachineArn: STATE_MACHINE_ARN,
      modelPackageGroupName: MODEL_PACKAGE_GROUP_NAME,
      modelName: MODEL_NAME,
      metricsNamespace: METRICS_NAMESPACE,
      serviceName: 'release-trigger',
    });
  });

  test('names every missing variable', () => {
    expect(() => readConfig({ MODEL_NAME: ' ' })).toThrow(
      'The release trigger is misconfigured: ' +
        "STATE_MACHINE_ARN is not set: set it to the ARN of the model's release workflow; " +
        "MODEL_PACKAGE_GROUP_NAME is not set: set it to the name of the model's model package group; " +
        'MODEL_NAME is not set: set it to the name of the model; ' +
        'POWERTOOLS_METRICS_NAMESPACE is not set: set it to the CloudWatch namespace of the metrics',
    );
  });

  test('refuses a state machine ARN that is not one, and an invalid group name', () => {
    expect(() =>
      readConfig({ ...complete, STATE_MACHINE_ARN: 'trip-duration-release', MODEL_PACKAGE_GROUP_NAME: '-x' }),
    ).toThrow(
      /STATE_MACHINE_ARN 'trip-duration-release' is not a state machine ARN: .*; MODEL_PACKAGE_GROUP_NAME '-x' is not a model package group name/,
    );
  });

  test('accepts a state machine alias ARN', () => {
    expect(readConfig({ ...complete, STATE_MACHINE_ARN: `${STATE_MACHINE_ARN}:live` }).stateMachineArn).toBe(
      `${STATE_MACHINE_ARN}:live`,
    );
  });

  test('missing at cold start fails the module load with the message', async () => {
    const saved = { ...process.env };
    delete process.env.STATE_MACHINE_ARN;
    try {
      await jest.isolateModulesAsync(async () => {
        await expect(import('../../lambda/release-trigger')).rejects.toThrow(/STATE_MACHINE_ARN is not set/);
      });
    } finally {
      process.env = saved;
    }
  });
});
