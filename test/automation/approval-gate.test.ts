import {
  CHAMPION_POINTER_NAME,
  METRICS_NAMESPACE,
  MODEL_NAME,
  MODEL_PACKAGE_GROUP_NAME,
} from './support/approval-gate-env';
import { Readable } from 'node:stream';
import { GetObjectCommand, NoSuchKey, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import {
  DescribeModelPackageCommand,
  DescribeModelPackageCommandOutput,
  SageMakerClient,
  SageMakerServiceException,
  UpdateModelPackageCommand,
  UpdateModelPackageCommandInput,
} from '@aws-sdk/client-sagemaker';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { sdkStreamMixin } from '@smithy/util-stream';
import { mockClient } from 'aws-sdk-client-mock';
import { GateOutcome, handler, ModelPackageStateChangeEvent, readConfig } from '../../lambda/approval-gate';
import {
  ApprovalGateRules,
  decide,
  EnvironmentProblems,
  readGateRules,
} from '../../lambda/shared/automation';
import { captureHandlerOutput, logLines, publishedMetrics } from './support/handler-output';

const ACCOUNT = '123456789012';
const PACKAGE_PREFIX = `arn:aws:sagemaker:us-east-1:${ACCOUNT}:model-package/${MODEL_PACKAGE_GROUP_NAME}`;
const CHALLENGER = `${PACKAGE_PREFIX}/4`;
const CHAMPION = `${PACKAGE_PREFIX}/3`;
const BUCKET = 'mlops-dev-artifacts';
const CHALLENGER_KEY = 'pipelines/k2v9q1x7m3p4/evaluation/evaluation.json';
const CHAMPION_KEY = 'pipelines/a8c4e6g2h9j1/evaluation/evaluation.json';
const CHALLENGER_REPORT = `s3://${BUCKET}/${CHALLENGER_KEY}`;
const CHAMPION_REPORT = `s3://${BUCKET}/${CHAMPION_KEY}`;
const EVENT_ID = '0d7e4f3a-6b2c-4d1e-8f9a-2b3c4d5e6f70';

/** evaluation.json as ml/evaluate.py writes it. */
function evaluationJson(rmse: number, mae: number): string {
  return JSON.stringify(
    {
      regression_metrics: {
        mae: { standard_deviation: 2.25, value: mae },
        rmse: { standard_deviation: 'NaN', value: rmse },
      },
      rows: 1200,
    },
    null,
    2,
  );
}

// The event in the shape the SageMaker developer guide documents for "SageMaker Model Package
// State Change" when the pipeline's Register step creates a version: the package, PascalCase.
function registered(
  detail: Record<string, unknown> = {},
  event: Record<string, unknown> = {},
): ModelPackageStateChangeEvent {
  return {
    version: '0',
    id: EVENT_ID,
    'detail-type': 'SageMaker Model Package State Change',
    source: 'aws.sagemaker',
    account: ACCOUNT,
    time: '2026-11-21T03:12:40Z',
    region: 'us-east-1',
    resources: [CHALLENGER],
    detail: {
      ModelPackageGroupName: MODEL_PACKAGE_GROUP_NAME,
      ModelPackageVersion: 4,
      ModelPackageArn: CHALLENGER,
      ModelPackageDescription: 'Trained by pipeline execution k2v9q1x7m3p4',
      CreationTime: '2026-11-21T03:12:38Z',
      ModelPackageStatus: 'Completed',
      ModelApprovalStatus: 'PendingManualApproval',
      ModelMetrics: {
        ModelQuality: { Statistics: { ContentType: 'application/json', S3Uri: CHALLENGER_REPORT } },
      },
      ...detail,
    },
    ...event,
  } as unknown as ModelPackageStateChangeEvent;
}

const sageMaker = mockClient(SageMakerClient);
const s3 = mockClient(S3Client);
const ssm = mockClient(SSMClient);

/** The registry as DescribeModelPackage sees it; UpdateModelPackage changes it, like SageMaker. */
let registry: Map<string, DescribeModelPackageCommandOutput>;
/** The S3 objects the reports live in, by key. */
let objects: Map<string, string>;

function registerPackage(arn: string, reportUri: string | undefined, approval = 'PendingManualApproval') {
  registry.set(arn, {
    ModelPackageName: MODEL_PACKAGE_GROUP_NAME,
    ModelPackageGroupName: MODEL_PACKAGE_GROUP_NAME,
    ModelPackageVersion: Number(arn.split('/').pop()),
    ModelPackageArn: arn,
    CreationTime: new Date('2026-11-21T03:12:38Z'),
    ModelPackageStatus: 'Completed',
    ModelPackageStatusDetails: { ValidationStatuses: [], ImageScanStatuses: [] },
    ModelApprovalStatus: approval as DescribeModelPackageCommandOutput['ModelApprovalStatus'],
    ModelMetrics:
      reportUri === undefined
        ? undefined
        : { ModelQuality: { Statistics: { ContentType: 'application/json', S3Uri: reportUri } } },
    $metadata: {},
  });
}

function championServes(value: string) {
  ssm.on(GetParameterCommand, { Name: CHAMPION_POINTER_NAME }).resolves({
    Parameter: { Name: CHAMPION_POINTER_NAME, Type: 'String', Value: value, Version: 7 },
  });
}

/** A challenger and a champion, each with a report, as most tests start. */
function challengerAndChampion(challenger: string, champion: string) {
  registerPackage(CHALLENGER, CHALLENGER_REPORT);
  registerPackage(CHAMPION, CHAMPION_REPORT, 'Approved');
  objects.set(CHALLENGER_KEY, challenger);
  objects.set(CHAMPION_KEY, champion);
  championServes(CHAMPION);
}

function updateCalls(): UpdateModelPackageCommandInput[] {
  return sageMaker.commandCalls(UpdateModelPackageCommand).map((call) => call.args[0].input);
}

function countedMetrics(): string[] {
  return publishedMetrics().map((m) => m.name);
}

async function invoke(event: unknown): Promise<GateOutcome> {
  return handler(event as ModelPackageStateChangeEvent);
}

function awsError<T extends Error>(Type: new (opts: never) => T, name: string, message: string): T {
  return new Type({ name, message, $fault: 'client', $metadata: { httpStatusCode: 400 } } as never);
}

beforeEach(() => {
  sageMaker.reset();
  s3.reset();
  ssm.reset();
  registry = new Map();
  objects = new Map();
  captureHandlerOutput();
  sageMaker.on(DescribeModelPackageCommand).callsFake((input: { ModelPackageName: string }) => {
    const found = registry.get(input.ModelPackageName);
    if (!found) {
      throw awsError(
        SageMakerServiceException,
        'ValidationException',
        `ModelPackage ${input.ModelPackageName} does not exist.`,
      );
    }
    return found;
  });
  sageMaker.on(UpdateModelPackageCommand).callsFake((input: UpdateModelPackageCommandInput) => {
    const found = registry.get(input.ModelPackageArn ?? '');
    registry.set(input.ModelPackageArn ?? '', {
      ...found!,
      ModelApprovalStatus: input.ModelApprovalStatus,
      ApprovalDescription: input.ApprovalDescription,
    });
    return { ModelPackageArn: input.ModelPackageArn };
  });
  s3.on(GetObjectCommand).callsFake((input: { Bucket: string; Key: string }) => {
    const text = input.Bucket === BUCKET ? objects.get(input.Key) : undefined;
    if (text === undefined) {
      throw new NoSuchKey({
        message: 'The specified key does not exist.',
        $metadata: { httpStatusCode: 404 },
      });
    }
    return {
      Body: sdkStreamMixin(Readable.from([Buffer.from(text)])),
      ContentLength: Buffer.byteLength(text),
    };
  });
});

afterEach(() => {
  jest.restoreAllMocks();
});

describe('a challenger and a champion with reports', () => {
  test('a better challenger, by more than the margin, within the thresholds, is approved with both sets of numbers', async () => {
    challengerAndChampion(evaluationJson(4.1, 3), evaluationJson(4.5, 3.2));

    const outcome = await invoke(registered());

    const description =
      'Approved by the approval gate: every threshold holds (rmse 4.1 <= 6, mae 3 <= 5); ' +
      "rmse 4.1 beats the champion's 4.5 by 8.88889% (margin 1%). " +
      `Challenger (${CHALLENGER_REPORT}): rmse 4.1, mae 3. ` +
      `Champion ${CHAMPION} (${CHAMPION_REPORT}): rmse 4.5, mae 3.2.`;
    expect(updateCalls()).toEqual([
      { ModelPackageArn: CHALLENGER, ModelApprovalStatus: 'Approved', ApprovalDescription: description },
    ]);
    expect(outcome).toEqual({ outcome: 'approved', modelPackageArn: CHALLENGER, description });
  });

  test('reads the champion that the prod release pointer names, and both reports from S3', async () => {
    challengerAndChampion(evaluationJson(4.1, 3), evaluationJson(4.5, 3.2));

    await invoke(registered());

    expect(ssm.commandCalls(GetParameterCommand).map((c) => c.args[0].input)).toEqual([
      { Name: CHAMPION_POINTER_NAME },
    ]);
    expect(sageMaker.commandCalls(DescribeModelPackageCommand).map((c) => c.args[0].input)).toEqual([
      { ModelPackageName: CHALLENGER },
      { ModelPackageName: CHAMPION },
    ]);
    expect(s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: BUCKET, Key: CHALLENGER_KEY },
      { Bucket: BUCKET, Key: CHAMPION_KEY },
    ]);
  });

  test('a worse challenger is rejected, saying by how much', async () => {
    challengerAndChampion(evaluationJson(4.8, 3), evaluationJson(4.5, 3.2));

    const outcome = await invoke(registered());

    expect(updateCalls()).toEqual([
      {
        ModelPackageArn: CHALLENGER,
        ModelApprovalStatus: 'Rejected',
        ApprovalDescription:
          'Rejected by the approval gate: every threshold holds (rmse 4.8 <= 6, mae 3 <= 5); ' +
          "rmse 4.8 does not beat the champion's 4.5 by the margin of 1% (worse by 6.66667%; lower is better). " +
          `Challenger (${CHALLENGER_REPORT}): rmse 4.8, mae 3. ` +
          `Champion ${CHAMPION} (${CHAMPION_REPORT}): rmse 4.5, mae 3.2.`,
      },
    ]);
    expect(outcome.outcome).toBe('rejected');
  });

  test('an equal challenger is not better by the margin: rejected', async () => {
    challengerAndChampion(evaluationJson(4.5, 3), evaluationJson(4.5, 3.2));

    await invoke(registered());

    expect(updateCalls()).toEqual([
      {
        ModelPackageArn: CHALLENGER,
        ModelApprovalStatus: 'Rejected',
        ApprovalDescription:
          'Rejected by the approval gate: every threshold holds (rmse 4.5 <= 6, mae 3 <= 5); ' +
          "rmse 4.5 does not beat the champion's 4.5 by the margin of 1% (equal; lower is better). " +
          `Challenger (${CHALLENGER_REPORT}): rmse 4.5, mae 3. ` +
          `Champion ${CHAMPION} (${CHAMPION_REPORT}): rmse 4.5, mae 3.2.`,
      },
    ]);
  });

  test('a challenger better by less than the margin is rejected', async () => {
    challengerAndChampion(evaluationJson(4.47, 3), evaluationJson(4.5, 3.2));

    await invoke(registered());

    expect(updateCalls()[0].ModelApprovalStatus).toBe('Rejected');
    expect(updateCalls()[0].ApprovalDescription).toContain(
      "rmse 4.47 does not beat the champion's 4.5 by the margin of 1% (better by only 0.666667%; lower is better)",
    );
  });

  test('a challenger better than the champion but above a threshold is rejected', async () => {
    challengerAndChampion(evaluationJson(4.1, 5.5), evaluationJson(4.5, 6.2));

    await invoke(registered());

    expect(updateCalls()).toEqual([
      {
        ModelPackageArn: CHALLENGER,
        ModelApprovalStatus: 'Rejected',
        ApprovalDescription:
          'Rejected by the approval gate: mae 5.5 is above the maximum 5; ' +
          "rmse 4.1 beats the champion's 4.5 by 8.88889% (margin 1%). " +
          `Challenger (${CHALLENGER_REPORT}): rmse 4.1, mae 5.5. ` +
          `Champion ${CHAMPION} (${CHAMPION_REPORT}): rmse 4.5, mae 6.2.`,
      },
    ]);
  });

  test('counts PackagesApproved and PackagesRejected with the ModelName dimension', async () => {
    challengerAndChampion(evaluationJson(4.1, 3), evaluationJson(4.5, 3.2));
    await invoke(registered());
    registerPackage(`${PACKAGE_PREFIX}/5`, CHALLENGER_REPORT);
    objects.set(CHALLENGER_KEY, evaluationJson(4.9, 3));
    await invoke(registered({ ModelPackageArn: `${PACKAGE_PREFIX}/5`, ModelPackageVersion: 5 }));

    expect(publishedMetrics()).toEqual([
      {
        namespace: METRICS_NAMESPACE,
        name: 'PackagesApproved',
        dimensions: { service: 'approval-gate', ModelName: MODEL_NAME },
        value: 1,
      },
      {
        namespace: METRICS_NAMESPACE,
        name: 'PackagesRejected',
        dimensions: { service: 'approval-gate', ModelName: MODEL_NAME },
        value: 1,
      },
    ]);
  });

  test('logs the verdict with its reasons and the package', async () => {
    challengerAndChampion(evaluationJson(4.8, 3), evaluationJson(4.5, 3.2));

    await invoke(registered());

    expect(logLines()).toEqual([
      expect.objectContaining({
        level: 'INFO',
        message: 'Rejected the challenger',
        modelName: MODEL_NAME,
        modelPackageArn: CHALLENGER,
        eventId: EVENT_ID,
        reasons: [
          'every threshold holds (rmse 4.8 <= 6, mae 3 <= 5)',
          "rmse 4.8 does not beat the champion's 4.5 by the margin of 1% (worse by 6.66667%; lower is better)",
        ],
      }),
    ]);
  });
});

describe('no champion (the first model)', () => {
  test('a challenger within the thresholds is approved, without reading any other package', async () => {
    registerPackage(CHALLENGER, CHALLENGER_REPORT);
    objects.set(CHALLENGER_KEY, evaluationJson(5.2, 4));
    championServes('none');

    await invoke(registered());

    expect(updateCalls()).toEqual([
      {
        ModelPackageArn: CHALLENGER,
        ModelApprovalStatus: 'Approved',
        ApprovalDescription:
          'Approved by the approval gate: every threshold holds (rmse 5.2 <= 6, mae 4 <= 5); ' +
          `no champion serves in prod (the pointer ${CHAMPION_POINTER_NAME} is none). ` +
          `Challenger (${CHALLENGER_REPORT}): rmse 5.2, mae 4. Champion: none.`,
      },
    ]);
    expect(sageMaker.commandCalls(DescribeModelPackageCommand)).toHaveLength(1);
  });

  test('a challenger above a threshold is rejected', async () => {
    registerPackage(CHALLENGER, CHALLENGER_REPORT);
    objects.set(CHALLENGER_KEY, evaluationJson(6.5, 5.1));
    championServes('none');

    await invoke(registered());

    expect(updateCalls()).toEqual([
      {
        ModelPackageArn: CHALLENGER,
        ModelApprovalStatus: 'Rejected',
        ApprovalDescription:
          'Rejected by the approval gate: rmse 6.5 is above the maximum 6; mae 5.1 is above the maximum 5; ' +
          `no champion serves in prod (the pointer ${CHAMPION_POINTER_NAME} is none). ` +
          `Challenger (${CHALLENGER_REPORT}): rmse 6.5, mae 5.1. Champion: none.`,
      },
    ]);
  });

  test('a prod release pointer that does not exist rejects rather than judging on thresholds alone', async () => {
    registerPackage(CHALLENGER, CHALLENGER_REPORT);
    objects.set(CHALLENGER_KEY, evaluationJson(4.1, 3));
    ssm
      .on(GetParameterCommand)
      .rejects(new ParameterNotFound({ message: 'Parameter not found', $metadata: { httpStatusCode: 400 } }));

    await invoke(registered());

    expect(updateCalls()).toEqual([
      {
        ModelPackageArn: CHALLENGER,
        ModelApprovalStatus: 'Rejected',
        ApprovalDescription:
          'Rejected by the approval gate: every threshold holds (rmse 4.1 <= 6, mae 3 <= 5); ' +
          "the champion's numbers cannot be read, so the challenger cannot be compared with it: " +
          `the prod release pointer ${CHAMPION_POINTER_NAME} does not exist (deploy prod's serving stack first). ` +
          `Challenger (${CHALLENGER_REPORT}): rmse 4.1, mae 3. Champion: no numbers.`,
      },
    ]);
  });
});

describe('reports that cannot be used are never approved', () => {
  test("a missing challenger report (no such S3 object) rejects, with the champion's numbers kept", async () => {
    registerPackage(CHALLENGER, CHALLENGER_REPORT);
    registerPackage(CHAMPION, CHAMPION_REPORT, 'Approved');
    objects.set(CHAMPION_KEY, evaluationJson(4.5, 3.2));
    championServes(CHAMPION);

    await invoke(registered());

    expect(updateCalls()).toEqual([
      {
        ModelPackageArn: CHALLENGER,
        ModelApprovalStatus: 'Rejected',
        ApprovalDescription:
          "Rejected by the approval gate: the challenger's evaluation report cannot be used: " +
          `the report ${CHALLENGER_REPORT} does not exist (NoSuchKey: The specified key does not exist). ` +
          `Challenger: no numbers. Champion ${CHAMPION} (${CHAMPION_REPORT}): rmse 4.5, mae 3.2.`,
      },
    ]);
  });

  test('a challenger without model metrics rejects', async () => {
    registerPackage(CHALLENGER, undefined);
    championServes('none');

    await invoke(registered());

    expect(updateCalls()).toEqual([
      {
        ModelPackageArn: CHALLENGER,
        ModelApprovalStatus: 'Rejected',
        ApprovalDescription:
          "Rejected by the approval gate: the challenger's evaluation report cannot be used: " +
          'the package has no evaluation report (ModelMetrics.ModelQuality.Statistics); ' +
          `no champion serves in prod (the pointer ${CHAMPION_POINTER_NAME} is none). ` +
          'Challenger: no numbers. Champion: none.',
      },
    ]);
  });

  test.each([
    ['not JSON', '<html>Access Denied</html>', `the report ${CHALLENGER_REPORT} is not JSON`],
    [
      'an RMSE that is not a number',
      JSON.stringify({ regression_metrics: { rmse: { value: 'NaN' }, mae: { value: 3 } } }),
      `the report's regression_metrics.rmse is 'NaN', not a finite number (${CHALLENGER_REPORT})`,
    ],
    [
      'no MAE',
      JSON.stringify({ regression_metrics: { rmse: { value: 4.1 } } }),
      `the report has no metric regression_metrics.mae (${CHALLENGER_REPORT})`,
    ],
    ['a JSON array', '[4.1]', `the report ${CHALLENGER_REPORT} is not a JSON object`],
  ])('a malformed challenger report (%s) rejects, saying what is wrong', async (_, body, reason) => {
    registerPackage(CHALLENGER, CHALLENGER_REPORT);
    objects.set(CHALLENGER_KEY, body);
    championServes('none');

    await invoke(registered());

    expect(updateCalls()).toEqual([
      {
        ModelPackageArn: CHALLENGER,
        ModelApprovalStatus: 'Rejected',
        ApprovalDescription:
          `Rejected by the approval gate: the challenger's evaluation report cannot be used: ${reason}; ` +
          `no champion serves in prod (the pointer ${CHAMPION_POINTER_NAME} is none). ` +
          'Challenger: no numbers. Champion: none.',
      },
    ]);
  });

  test('a malformed champion report rejects even a challenger that would pass: it says so', async () => {
    challengerAndChampion(evaluationJson(4.1, 3), '{"regression_metrics": {}}');

    await invoke(registered());

    expect(updateCalls()).toEqual([
      {
        ModelPackageArn: CHALLENGER,
        ModelApprovalStatus: 'Rejected',
        ApprovalDescription:
          'Rejected by the approval gate: every threshold holds (rmse 4.1 <= 6, mae 3 <= 5); ' +
          "the champion's numbers cannot be read, so the challenger cannot be compared with it: " +
          `the report has no metric regression_metrics.rmse (${CHAMPION_REPORT}). ` +
          `Challenger (${CHALLENGER_REPORT}): rmse 4.1, mae 3. Champion ${CHAMPION}: no numbers.`,
      },
    ]);
  });

  test('a champion pointer holding something other than a package ARN rejects', async () => {
    registerPackage(CHALLENGER, CHALLENGER_REPORT);
    objects.set(CHALLENGER_KEY, evaluationJson(4.1, 3));
    championServes(`arn:aws:sagemaker:us-east-1:${ACCOUNT}:model-package-group/${MODEL_PACKAGE_GROUP_NAME}`);

    await invoke(registered());

    expect(updateCalls()[0].ModelApprovalStatus).toBe('Rejected');
    expect(updateCalls()[0].ApprovalDescription).toContain(
      `the prod release pointer ${CHAMPION_POINTER_NAME} holds 'arn:aws:sagemaker:us-east-1:${ACCOUNT}:model-package-group/${MODEL_PACKAGE_GROUP_NAME}', not a model package ARN or none`,
    );
  });

  test('a report too large to be one is malformed, and not downloaded', async () => {
    registerPackage(CHALLENGER, CHALLENGER_REPORT);
    championServes('none');
    s3.on(GetObjectCommand).resolves({
      Body: sdkStreamMixin(Readable.from([Buffer.from('{}')])),
      ContentLength: 5_000_000,
    });

    await invoke(registered());

    expect(updateCalls()[0]).toMatchObject({ ModelApprovalStatus: 'Rejected' });
    expect(updateCalls()[0].ApprovalDescription).toContain(
      `the report ${CHALLENGER_REPORT} is 5000000 bytes, more than an evaluation report's 1048576`,
    );
  });
});

describe('idempotence', () => {
  test('a duplicate event finds the package decided and changes nothing twice', async () => {
    challengerAndChampion(evaluationJson(4.1, 3), evaluationJson(4.5, 3.2));

    const first = await invoke(registered());
    const second = await invoke(registered());

    expect(first.outcome).toBe('approved');
    expect(second).toEqual({
      outcome: 'already-decided',
      modelPackageArn: CHALLENGER,
      approvalStatus: 'Approved',
    });
    expect(updateCalls()).toHaveLength(1);
    expect(countedMetrics()).toEqual(['PackagesApproved', 'AlreadyDecided']);
  });

  test.each(['Approved', 'Rejected'])(
    'a package already %s (by a person, since the event) is left alone and nothing else is read',
    async (status) => {
      registerPackage(CHALLENGER, CHALLENGER_REPORT, status);

      const outcome = await invoke(registered());

      expect(outcome).toEqual({
        outcome: 'already-decided',
        modelPackageArn: CHALLENGER,
        approvalStatus: status,
      });
      expect(updateCalls()).toEqual([]);
      expect(s3.commandCalls(GetObjectCommand)).toEqual([]);
      expect(ssm.commandCalls(GetParameterCommand)).toEqual([]);
      expect(countedMetrics()).toEqual(['AlreadyDecided']);
    },
  );

  test("the gate's own decision, delivered back as an event, is ignored without a call", async () => {
    const outcome = await invoke(registered({ ModelApprovalStatus: 'Approved' }));

    expect(outcome).toEqual({
      outcome: 'ignored',
      reason: "ModelApprovalStatus is 'Approved', not 'PendingManualApproval'",
    });
    expect(sageMaker.calls()).toEqual([]);
    expect(countedMetrics()).toEqual(['EventsIgnored']);
  });
});

describe('events the gate does not judge', () => {
  test('a package of another group is ignored without any call', async () => {
    const other = `arn:aws:sagemaker:us-east-1:${ACCOUNT}:model-package/taxi-fare/2`;

    const outcome = await invoke(registered({ ModelPackageGroupName: 'taxi-fare', ModelPackageArn: other }));

    expect(outcome).toEqual({
      outcome: 'ignored',
      reason: "the package is in group 'taxi-fare', not in this model's group 'taxi-duration'",
    });
    expect([...sageMaker.calls(), ...s3.calls(), ...ssm.calls()]).toEqual([]);
  });

  test('a package still being registered is ignored: its Completed event is judged', async () => {
    const outcome = await invoke(registered({ ModelPackageStatus: 'InProgress' }));

    expect(outcome).toEqual({
      outcome: 'ignored',
      reason: "ModelPackageStatus is 'InProgress', not 'Completed'",
    });
    expect(sageMaker.calls()).toEqual([]);
  });

  test.each([
    ['not an object', 'a string', /the event is not an object/],
    [
      'of another detail-type',
      registered({}, { 'detail-type': 'SageMaker Pipeline Execution Status Change' }),
      /is not a 'SageMaker Model Package State Change' event/,
    ],
    [
      'without a package ARN',
      registered({ ModelPackageArn: undefined }),
      /detail\.ModelPackageArn: model package ARN \(undefined\)/,
    ],
    [
      'whose ARN is in another group than it says',
      registered({ ModelPackageArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:model-package/taxi-fare/4` }),
      /is in group 'taxi-fare', but detail.ModelPackageGroupName is 'taxi-duration'/,
    ],
  ])('a malformed event (%s) is logged and dropped, with no call', async (_, event, reason) => {
    const outcome = await invoke(event);

    expect(outcome).toEqual({ outcome: 'malformed', reason: expect.stringMatching(reason) });
    expect(sageMaker.calls()).toEqual([]);
    expect(countedMetrics()).toEqual(['MalformedEvents']);
    expect(logLines()).toEqual([
      expect.objectContaining({ level: 'ERROR', message: expect.stringMatching(/malformed/) }),
    ]);
  });

  test('a package deleted since the event is ignored', async () => {
    const outcome = await invoke(registered());

    expect(outcome).toEqual({ outcome: 'ignored', reason: 'the package does not exist any more' });
    expect(updateCalls()).toEqual([]);
  });
});

describe('failures a retry may cure decide nothing', () => {
  test('throttling on DescribeModelPackage is rethrown, counted, and nothing is updated', async () => {
    sageMaker
      .on(DescribeModelPackageCommand)
      .rejects(awsError(SageMakerServiceException, 'ThrottlingException', 'Rate exceeded'));

    await expect(invoke(registered())).rejects.toThrow('Rate exceeded');

    expect(updateCalls()).toEqual([]);
    expect(countedMetrics()).toEqual(['GateFailures']);
  });

  test('access denied on a report is rethrown rather than taken for a missing report', async () => {
    challengerAndChampion(evaluationJson(4.1, 3), evaluationJson(4.5, 3.2));
    s3.on(GetObjectCommand).rejects(awsError(S3ServiceException, 'AccessDenied', 'Access Denied'));

    await expect(invoke(registered())).rejects.toThrow('Access Denied');

    expect(updateCalls()).toEqual([]);
  });
});

describe('the rules', () => {
  const report = (uri: string, metrics: Record<string, number>) => ({
    kind: 'report' as const,
    report: { uri, metrics },
  });
  const champion = (metrics: Record<string, number>) => ({
    kind: 'report' as const,
    modelPackageArn: CHAMPION,
    report: { uri: CHAMPION_REPORT, metrics },
  });
  const rmse: ApprovalGateRules = {
    primaryMetric: 'regression_metrics.rmse',
    higherIsBetter: false,
    marginPercent: 1,
    thresholds: [],
  };

  test('exactly the margin is enough, despite floating point (10 -> 9.9 is 1%)', () => {
    const decision = decide(
      rmse,
      report(CHALLENGER_REPORT, { 'regression_metrics.rmse': 9.9 }),
      champion({ 'regression_metrics.rmse': 10 }),
    );

    expect(decision.approved).toBe(true);
    expect(decision.reasons).toEqual(["rmse 9.9 beats the champion's 10 by 1% (margin 1%)"]);
  });

  test('with higherIsBetter, a larger accuracy wins and a smaller one loses', () => {
    const accuracy: ApprovalGateRules = {
      ...rmse,
      primaryMetric: 'binary_classification_metrics.accuracy',
      higherIsBetter: true,
    };
    const path = 'binary_classification_metrics.accuracy';

    const better = decide(accuracy, report(CHALLENGER_REPORT, { [path]: 0.93 }), champion({ [path]: 0.9 }));
    const worse = decide(accuracy, report(CHALLENGER_REPORT, { [path]: 0.88 }), champion({ [path]: 0.9 }));

    expect(better.reasons).toEqual(["accuracy 0.93 beats the champion's 0.9 by 3.33333% (margin 1%)"]);
    expect(better.approved).toBe(true);
    expect(worse.approved).toBe(false);
    expect(worse.reasons).toEqual([
      "accuracy 0.88 does not beat the champion's 0.9 by the margin of 1% (worse by 2.22222%; higher is better)",
    ]);
  });

  test('with a margin of 0, a strictly better challenger wins and an equal one still loses', () => {
    const noMargin = { ...rmse, marginPercent: 0 };
    const path = 'regression_metrics.rmse';

    expect(
      decide(noMargin, report(CHALLENGER_REPORT, { [path]: 4.49 }), champion({ [path]: 4.5 })).approved,
    ).toBe(true);
    expect(
      decide(noMargin, report(CHALLENGER_REPORT, { [path]: 4.5 }), champion({ [path]: 4.5 })).approved,
    ).toBe(false);
  });

  test('the approval description is cut to the 1024 characters UpdateModelPackage accepts', () => {
    const longUri = `s3://${BUCKET}/${'deep/'.repeat(300)}evaluation.json`;

    const decision = decide(
      rmse,
      report(longUri, { 'regression_metrics.rmse': 4.1 }),
      champion({ 'regression_metrics.rmse': 4.5 }),
    );

    expect(decision.description).toHaveLength(1024);
    expect(
      decision.description.startsWith("Approved by the approval gate: rmse 4.1 beats the champion's 4.5"),
    ).toBe(true);
    expect(decision.description.endsWith('...')).toBe(true);
  });
});

describe('configuration', () => {
  const base = {
    MODEL_PACKAGE_GROUP_NAME,
    CHAMPION_POINTER_NAME,
    MODEL_NAME,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  };

  test('defaults: RMSE, lower is better, a 1% margin, no thresholds', () => {
    expect(readConfig(base).rules).toEqual({
      primaryMetric: 'regression_metrics.rmse',
      higherIsBetter: false,
      marginPercent: 1,
      thresholds: [],
    });
  });

  test('reads the primary metric, its direction, the margin and the thresholds', () => {
    const problems = new EnvironmentProblems('approval gate');

    const rules = readGateRules(
      {
        PRIMARY_METRIC: 'binary_classification_metrics.accuracy',
        HIGHER_IS_BETTER: 'TRUE',
        MARGIN_PERCENT: '0.5',
        THRESHOLDS:
          '{"binary_classification_metrics.accuracy":{"min":0.8},"binary_classification_metrics.auc":{"min":0.7,"max":1}}',
      },
      problems,
    );

    expect(() => problems.throwIfAny()).not.toThrow();
    expect(rules).toEqual({
      primaryMetric: 'binary_classification_metrics.accuracy',
      higherIsBetter: true,
      marginPercent: 0.5,
      thresholds: [
        { metric: 'binary_classification_metrics.accuracy', min: 0.8, max: undefined },
        { metric: 'binary_classification_metrics.auc', min: 0.7, max: 1 },
      ],
    });
  });

  test('a misconfiguration names every variable, its value and the fix', () => {
    const read = () =>
      readConfig({
        MODEL_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        MODEL_PACKAGE_GROUP_NAME: '-taxi',
        MARGIN_PERCENT: '120',
        HIGHER_IS_BETTER: 'yes',
        THRESHOLDS: '{"regression_metrics.rmse":{"max":"6"}}',
      });

    expect(read).toThrow(
      'The approval gate is misconfigured: ' +
        'CHAMPION_POINTER_NAME is not set: set it to the name of the prod release pointer (the SSM parameter naming the package prod serves); ' +
        "MODEL_PACKAGE_GROUP_NAME '-taxi' is not a model package group name: use 1-63 letters, digits and hyphens, not starting or ending with a hyphen; " +
        "HIGHER_IS_BETTER 'yes' is not a boolean: use 'true' (accuracy) or 'false' (RMSE); " +
        "MARGIN_PERCENT '120' is not a percentage: use a number from 0 to below 100; " +
        `THRESHOLDS.regression_metrics.rmse '{"max":"6"}' is not bounds: give "min", "max" or both as numbers`,
    );
  });

  test('a threshold whose min is above its max is refused', () => {
    expect(() =>
      readConfig({ ...base, THRESHOLDS: '{"regression_metrics.rmse":{"min":7,"max":6}}' }),
    ).toThrow('THRESHOLDS.regression_metrics.rmse has min 7 above max 6: no value could pass');
  });
});
