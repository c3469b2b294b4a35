import { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeModelPackageCommand,
  SageMakerClient,
  UpdateModelPackageCommand,
  UpdateModelPackageCommandInput,
} from '@aws-sdk/client-sagemaker';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { sdkStreamMixin } from '@smithy/util-stream';
import { mockClient } from 'aws-sdk-client-mock';
import {
  ApprovalGateSettings,
  DEFAULT_GATE_RULES,
  OnlineGateError,
  OnlineGateSettings,
  runApprovalGate,
  runOnlineGate,
} from '../../lambda/shared/automation';
import { captureLine, labelLine } from '../quality/fixtures';

const GROUP = 'taxi-duration';
const CHALLENGER = `arn:aws:sagemaker:us-east-1:123456789012:model-package/${GROUP}/4`;
const CHAMPION = `arn:aws:sagemaker:us-east-1:123456789012:model-package/${GROUP}/3`;
const BUCKET = 'mlops-prod-artifacts';
const ENDPOINT = 'mlops-prod-trip-duration';
const DATA_PARAMETER = '/mlops/prod/automation/trip-duration/production-data';
const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:trip-duration-online-gate';

const sageMaker = mockClient(SageMakerClient);
const s3 = mockClient(S3Client);
const ssm = mockClient(SSMClient);
const sfn = mockClient(SFNClient);
const clients = {
  sageMaker: new SageMakerClient({}),
  s3: new S3Client({}),
  ssm: new SSMClient({}),
  stepFunctions: new SFNClient({}),
};

const settings: OnlineGateSettings = {
  productionDataParameterName: DATA_PARAMETER,
  endpointName: ENDPOINT,
  championVariantName: 'AllTraffic',
  shadowVariantName: 'Shadow',
  rules: { liveMetric: 'rmse', marginPercent: 1, minSamples: 100 },
};

/** The trial's request: the shadow served from 09:00 for 24 hours. */
const request = {
  modelPackageArn: CHALLENGER,
  offline: {
    reasons: ["rmse 4.1 beats the champion's 4.5 by 8.88889% (margin 1%)"],
    numbers: ['Challenger (s3://mlops-dev-artifacts/c/evaluation.json): rmse 4.1'],
  },
  windowStart: '2026-12-01T09:00:00.000Z',
  windowHours: 24,
};

/** The objects of the production data bucket, by key. */
let objects: Map<string, string>;
let approval: string;

function put(key: string, lines: string[]): void {
  objects.set(key, lines.join('\n') + '\n');
}

/**
 * `n` requests with labels 10-16; the champion misses each by `championError` and the shadow by
 * `shadowError` (alternating signs), so each variant's live RMSE is its error. Captures and labels
 * land in the window's first hour, as SageMaker and the label uploader write them.
 */
function traffic(options: {
  n?: number;
  shadowN?: number;
  championError: number;
  shadowError: number;
}): void {
  const n = options.n ?? 200;
  const shadowN = options.shadowN ?? n;
  const label = (i: number) => 10 + (i % 7);
  const predict = (i: number, error: number) => String(label(i) + (i % 2 === 0 ? error : -error));
  const ids = Array.from({ length: n }, (_, i) => `req-${String(i).padStart(4, '0')}`);
  put(
    `capture/${ENDPOINT}/AllTraffic/2026/12/01/09/part-0.jsonl`,
    ids.map((id, i) => captureLine(id, predict(i, options.championError))),
  );
  put(
    `capture/${ENDPOINT}/Shadow/2026/12/01/09/part-0.jsonl`,
    ids.slice(0, shadowN).map((id, i) => captureLine(id, predict(i, options.shadowError))),
  );
  put(
    `ground-truth/${ENDPOINT}/2026/12/01/10/labels.jsonl`,
    ids.map((id, i) => labelLine(id, String(label(i)))),
  );
}

function updates(): UpdateModelPackageCommandInput[] {
  return sageMaker.commandCalls(UpdateModelPackageCommand).map((c) => c.args[0].input);
}

beforeEach(() => {
  for (const mock of [sageMaker, s3, ssm, sfn]) mock.reset();
  objects = new Map();
  approval = 'PendingManualApproval';
  ssm.on(GetParameterCommand, { Name: DATA_PARAMETER }).resolves({
    Parameter: {
      Name: DATA_PARAMETER,
      Type: 'String',
      Value: JSON.stringify({
        captureUrl: `s3://${BUCKET}/capture/${ENDPOINT}`,
        groundTruthUrl: `s3://${BUCKET}/ground-truth/${ENDPOINT}/`,
        kmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/1b2c3d4e-5f60-4a1b-9c2d-3e4f5a6b7c8d',
      }),
    },
  });
  sageMaker
    .on(DescribeModelPackageCommand)
    .callsFake(async () => ({ ModelPackageArn: CHALLENGER, ModelApprovalStatus: approval }));
  sageMaker.on(UpdateModelPackageCommand).resolves({ ModelPackageArn: CHALLENGER });
  s3.on(ListObjectsV2Command).callsFake(async (input: { Bucket: string; Prefix: string }) => ({
    Contents: [...objects.keys()]
      .filter((k) => input.Bucket === BUCKET && k.startsWith(input.Prefix))
      .sort()
      .map((Key) => ({ Key })),
    IsTruncated: false,
  }));
  s3.on(GetObjectCommand).callsFake(async (input: { Key: string }) => ({
    Body: sdkStreamMixin(Readable.from([Buffer.from(objects.get(input.Key)!)])),
    LastModified: new Date('2026-12-01T10:05:00Z'),
  }));
});

describe('the online gate', () => {
  test('approves a shadow whose live RMSE beats the champion by the margin, recording both sets of numbers', async () => {
    // GIVEN the shadow misses by 0.5 minutes and the champion by 1
    traffic({ championError: 1, shadowError: 0.5 });

    // WHEN the gate judges the trial
    const result = await runOnlineGate(clients, settings, request);

    // THEN the package is approved, with the live and the offline numbers
    expect(result.outcome).toBe('approved');
    const [update] = updates();
    expect(update.ModelApprovalStatus).toBe('Approved');
    expect(update.ApprovalDescription).toBe(
      "Approved by the online gate: live rmse 0.5 beats the champion's 1 by 50% (margin 1%); " +
        "offline: rmse 4.1 beats the champion's 4.5 by 8.88889% (margin 1%). " +
        `Live on ${ENDPOINT}, 2026-12-01T09:00:00.000Z to 2026-12-02T09:00:00.000Z: ` +
        'shadow (Shadow) rmse 0.5 on 200 labels, champion (AllTraffic) rmse 1 on 200 labels. ' +
        'Challenger (s3://mlops-dev-artifacts/c/evaluation.json): rmse 4.1.',
    );
  });

  test('rejects a shadow whose live RMSE is worse', async () => {
    traffic({ championError: 1, shadowError: 2 });

    const result = await runOnlineGate(clients, settings, request);

    expect(result.outcome).toBe('rejected');
    expect(updates()[0].ModelApprovalStatus).toBe('Rejected');
    expect(updates()[0].ApprovalDescription).toMatch(
      /^Rejected by the online gate: live rmse 2 does not beat the champion's 1 by the margin of 1% \(worse by 100%; lower is better\)/,
    );
  });

  test('rejects a shadow exactly as good as the champion, even with a margin of 0', async () => {
    traffic({ championError: 1, shadowError: 1 });

    const result = await runOnlineGate(
      clients,
      { ...settings, rules: { ...settings.rules, marginPercent: 0 } },
      request,
    );

    expect(result.outcome).toBe('rejected');
    expect(updates()[0].ApprovalDescription).toMatch(/\(equal; lower is better\)/);
  });

  test('rejects a better shadow with fewer matched labels than MIN_SAMPLES: not enough live traffic', async () => {
    // GIVEN the shadow saw 40 requests only
    traffic({ championError: 1, shadowError: 0.1, shadowN: 40 });

    const result = await runOnlineGate(clients, settings, request);

    expect(result.outcome).toBe('rejected');
    expect(updates()[0].ApprovalDescription).toMatch(
      /^Rejected by the online gate: not enough live traffic: the shadow has 40 matched labels and the champion 200, each needs at least 100/,
    );
  });

  test.each([
    ['no capture', 'capture/'],
    ['no ground truth', 'ground-truth/'],
  ])('rejects when the window has %s: not enough live traffic', async (_, prefix) => {
    traffic({ championError: 1, shadowError: 0.5 });
    for (const key of [...objects.keys()]) if (key.startsWith(prefix)) objects.delete(key);

    const result = await runOnlineGate(clients, settings, request);

    expect(result.outcome).toBe('rejected');
    expect(updates()[0].ApprovalDescription).toMatch(
      /not enough live traffic: the shadow has 0 matched labels/,
    );
  });

  test('leaves malformed lines out, counts them, and judges on the rest', async () => {
    traffic({ championError: 1, shadowError: 0.5 });
    const shadowKey = `capture/${ENDPOINT}/Shadow/2026/12/01/09/part-0.jsonl`;
    objects.set(shadowKey, objects.get(shadowKey) + 'not json\n{"captureData":{}}\n');
    put(`ground-truth/${ENDPOINT}/2026/12/01/11/late.jsonl`, [labelLine('req-0001', 'eleven')]);

    const result = await runOnlineGate(clients, settings, request);

    expect(result.outcome).toBe('approved');
    // The label line is read into both joins, so each variant counts it.
    expect(updates()[0].ApprovalDescription).toContain(
      'shadow (Shadow) rmse 0.5 on 200 labels (3 malformed lines, 0 unreadable objects left out), ' +
        'champion (AllTraffic) rmse 1 on 200 labels (1 malformed lines, 0 unreadable objects left out)',
    );
  });

  test('does not count predictions made before the shadow served', async () => {
    // GIVEN the champion's bad predictions of 08:59 sit in the hour the window starts in
    traffic({ championError: 1, shadowError: 0.5 });
    put(
      `capture/${ENDPOINT}/AllTraffic/2026/12/01/09/part-1.jsonl`,
      Array.from({ length: 50 }, (_, i) =>
        captureLine(`early-${i}`, '100', { time: '2026-12-01T09:10:00Z' }),
      ),
    );
    put(
      `ground-truth/${ENDPOINT}/2026/12/01/10/early.jsonl`,
      Array.from({ length: 50 }, (_, i) => labelLine(`early-${i}`, '10')),
    );

    // WHEN the window starts at 09:20
    const result = await runOnlineGate(clients, settings, {
      ...request,
      windowStart: '2026-12-01T09:20:00Z',
    });

    // THEN only the 200 requests of the window count (captureLine dates them 09:30)
    expect(result.outcome).toBe('approved');
    expect(updates()[0].ApprovalDescription).toContain('champion (AllTraffic) rmse 1 on 200 labels');
  });

  test('accuracy: higher is better', async () => {
    const ids = Array.from({ length: 120 }, (_, i) => `c-${i}`);
    const label = (i: number) => i % 2;
    // The champion is right 90 times in 120, the shadow 110 times.
    const score = (i: number, wrongBelow: number) => (i < wrongBelow ? 1 - label(i) : label(i)).toFixed(1);
    put(
      `capture/${ENDPOINT}/AllTraffic/2026/12/01/09/a.jsonl`,
      ids.map((id, i) => captureLine(id, score(i, 30))),
    );
    put(
      `capture/${ENDPOINT}/Shadow/2026/12/01/09/a.jsonl`,
      ids.map((id, i) => captureLine(id, score(i, 10))),
    );
    put(
      `ground-truth/${ENDPOINT}/2026/12/01/09/a.jsonl`,
      ids.map((id, i) => labelLine(id, String(label(i)))),
    );

    const result = await runOnlineGate(
      clients,
      { ...settings, rules: { liveMetric: 'accuracy', marginPercent: 5, minSamples: 100 } },
      request,
    );

    expect(result.outcome).toBe('approved');
    expect(updates()[0].ApprovalDescription).toMatch(
      /live accuracy 0.916667 beats the champion's 0.75 by 22.2222%/,
    );
  });

  test('a package a person decided during the trial is left alone', async () => {
    traffic({ championError: 1, shadowError: 0.5 });
    approval = 'Rejected';

    const result = await runOnlineGate(clients, settings, request);

    expect(result).toEqual({
      outcome: 'already-decided',
      modelPackageArn: CHALLENGER,
      approvalStatus: 'Rejected',
    });
    expect(updates()).toEqual([]);
    expect(s3.calls()).toHaveLength(0);
  });

  test('a missing production data parameter fails the trial, deciding nothing', async () => {
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));

    await expect(runOnlineGate(clients, settings, request)).rejects.toThrow(
      new OnlineGateError(
        `the production data parameter ${DATA_PARAMETER} does not exist: deploy the level-4 environment's platform stack first`,
      ),
    );
    expect(updates()).toEqual([]);
  });

  test('a malformed production data parameter fails the trial, naming its value', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: '{"captureUrl":"capture/"}' } });

    await expect(runOnlineGate(clients, settings, request)).rejects.toThrow(
      /holds '\{"captureUrl":"capture\/"\}', not/,
    );
    expect(updates()).toEqual([]);
  });

  test.each([
    [{ ...request, modelPackageArn: 'arn:aws:s3:::x' }, /modelPackageArn is invalid/],
    [{ ...request, windowStart: 'yesterday' }, /windowStart 'yesterday' is not an ISO 8601 time/],
    [{ ...request, windowHours: 0 }, /windowHours '0' is not a whole number of hours from 1 to 168/],
    [{ ...request, offline: { reasons: 'fine' } }, /offline must be/],
  ])('a malformed request is refused before anything is read (%#)', async (event, message) => {
    await expect(runOnlineGate(clients, settings, event)).rejects.toThrow(message);
    expect(sageMaker.calls()).toHaveLength(0);
  });
});

describe('the approval gate with an online gate', () => {
  const CHAMPION_POINTER = '/mlops/prod/serving/trip-duration/model-package-arn';
  const gateSettings: ApprovalGateSettings = {
    championPointerName: CHAMPION_POINTER,
    rules: DEFAULT_GATE_RULES,
    onlineGateStateMachineArn: STATE_MACHINE,
  };
  const report = (rmse: number) =>
    JSON.stringify({ regression_metrics: { rmse: { value: rmse }, mae: { value: rmse / 2 } } });

  /** The registry: the pending challenger (report rmse `challengerRmse`) and the champion (rmse 4.5). */
  function offlineEvidence(challengerRmse: number): void {
    const described = (arn: string, status: string, key: string) => ({
      ModelPackageArn: arn,
      ModelPackageStatus: 'Completed',
      ModelApprovalStatus: status,
      ModelMetrics: {
        ModelQuality: { Statistics: { ContentType: 'application/json', S3Uri: `s3://${BUCKET}/${key}` } },
      },
    });
    sageMaker
      .on(DescribeModelPackageCommand, { ModelPackageName: CHALLENGER })
      .resolves(described(CHALLENGER, 'PendingManualApproval', 'c.json') as never);
    sageMaker
      .on(DescribeModelPackageCommand, { ModelPackageName: CHAMPION })
      .resolves(described(CHAMPION, 'Approved', 'p.json') as never);
    ssm.on(GetParameterCommand, { Name: CHAMPION_POINTER }).resolves({ Parameter: { Value: CHAMPION } });
    objects.set('c.json', report(challengerRmse));
    objects.set('p.json', report(4.5));
  }

  test('an offline approval starts the online trial, named after the package, and leaves the package pending', async () => {
    offlineEvidence(4.1);
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${STATE_MACHINE}:trial`, startDate: new Date() });

    const result = await runApprovalGate(clients, gateSettings, CHALLENGER);

    expect(result.outcome).toBe('trial-started');
    expect(updates()).toEqual([]);
    const [start] = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
    expect(start.stateMachineArn).toBe(STATE_MACHINE);
    expect(start.name).toMatch(/^trial-v4-[0-9a-f]{32}$/);
    expect(JSON.parse(start.input!)).toEqual({
      modelPackageArn: CHALLENGER,
      offline: {
        reasons: ["rmse 4.1 beats the champion's 4.5 by 8.88889% (margin 1%)"],
        numbers: [
          `Challenger (s3://${BUCKET}/c.json): rmse 4.1`,
          `Champion ${CHAMPION} (s3://${BUCKET}/p.json): rmse 4.5`,
        ],
      },
    });
  });

  test('a redelivery finds the trial started: ExecutionAlreadyExists starts nothing and decides nothing', async () => {
    offlineEvidence(4.1);
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));

    const result = await runApprovalGate(clients, gateSettings, CHALLENGER);

    expect(result.outcome).toBe('trial-already-started');
    expect(updates()).toEqual([]);
  });

  test('an offline rejection is recorded as before, with no trial', async () => {
    offlineEvidence(4.49);

    const result = await runApprovalGate(clients, gateSettings, CHALLENGER);

    expect(result.outcome).toBe('rejected');
    expect(updates()[0].ModelApprovalStatus).toBe('Rejected');
    expect(sfn.calls()).toHaveLength(0);
  });

  test('without an online gate an offline approval is recorded', async () => {
    offlineEvidence(4.1);

    const result = await runApprovalGate(
      clients,
      { ...gateSettings, onlineGateStateMachineArn: undefined },
      CHALLENGER,
    );

    expect(result.outcome).toBe('approved');
    expect(updates()[0].ModelApprovalStatus).toBe('Approved');
    expect(sfn.calls()).toHaveLength(0);
  });
});
