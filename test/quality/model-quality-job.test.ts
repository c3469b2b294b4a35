import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { CloudWatchClient, MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/util-stream';
import { mockClient } from 'aws-sdk-client-mock';
import { handler, ModelQualityEvent, windowsOf } from '../../lambda/model-quality';
import { quietHandlerLogs } from '../release-automation/support/quiet-logs';
import { captureLine, labelLine } from './fixtures';

const s3 = mockClient(S3Client);
const cloudWatch = mockClient(CloudWatchClient);

const EVENT: ModelQualityEvent = {
  bucket: 'artifacts',
  capturePrefix: 'capture/',
  groundTruthPrefix: 'ground-truth/',
  reportPrefix: 'reports/',
  endpointName: 'mlops-prod-fare-amount',
  variantName: 'AllTraffic',
  problemType: 'Regression',
  // Capture 09:00-10:00, labels 09:00-12:00 (UTC).
  time: '2026-12-01T12:05:00Z',
  labelDelayHours: 2,
};

const CAPTURE = 'capture/mlops-prod-fare-amount/AllTraffic/2026/12/01/09/';
const LABELS_09 = 'ground-truth/mlops-prod-fare-amount/2026/12/01/09/';
const LABELS_11 = 'ground-truth/mlops-prod-fare-amount/2026/12/01/11/';

interface StoredObject {
  readonly body: Buffer;
  readonly lastModified: Date;
}

// Every inference at 09:30. Errors 1, -2, 3 for a, b, c; d has no label, e no prediction.
const OBJECTS: Record<string, StoredObject> = {
  [`${CAPTURE}part-a.jsonl`]: {
    body: Buffer.from([captureLine('a', '11'), captureLine('b', '18'), captureLine('c', '33')].join('\n')),
    lastModified: new Date('2026-12-01T09:59:00Z'),
  },
  [`${CAPTURE}part-b.jsonl.gz`]: {
    body: zlib.gzipSync([captureLine('d', '4'), '{broken', captureLine('a', '99')].join('\n') + '\n'),
    lastModified: new Date('2026-12-01T09:59:30Z'),
  },
  [`${LABELS_09}labels-1.jsonl`]: {
    body: Buffer.from([labelLine('a', '10'), labelLine('b', '20')].join('\n')),
    lastModified: new Date('2026-12-01T09:45:00Z'),
  },
  // Uploaded 26.5 hours after the inferences: c is late; a is labelled a second time.
  [`${LABELS_11}labels-2.jsonl`]: {
    body: Buffer.from([labelLine('c', '30'), labelLine('e', '5'), labelLine('a', '50')].join('\n')),
    lastModified: new Date('2026-12-02T12:00:00Z'),
  },
};

/** ListObjectsV2's documented answer for the objects under a prefix. */
function listing(prefix: string) {
  const contents = Object.entries(OBJECTS)
    .filter(([key]) => key.startsWith(prefix))
    .map(([Key, o]) => ({
      Key,
      LastModified: o.lastModified,
      ETag: '"6805f2cfc46c0f04559748bb039d69ae"',
      Size: o.body.length,
      StorageClass: 'STANDARD' as const,
    }));
  return {
    IsTruncated: false,
    Contents: contents,
    Name: 'artifacts',
    Prefix: prefix,
    KeyCount: contents.length,
  };
}

beforeEach(() => {
  s3.reset();
  cloudWatch.reset();
  quietHandlerLogs();
  s3.on(ListObjectsV2Command).callsFake((input: { Prefix: string }) => listing(input.Prefix));
  for (const [key, o] of Object.entries(OBJECTS)) {
    s3.on(GetObjectCommand, { Bucket: 'artifacts', Key: key }).callsFake(() => ({
      Body: sdkStreamMixin(Readable.from([o.body])),
      LastModified: o.lastModified,
      ContentLength: o.body.length,
      ETag: '"6805f2cfc46c0f04559748bb039d69ae"',
    }));
  }
  s3.on(PutObjectCommand).resolves({ ETag: '"e"' });
  cloudWatch.on(PutMetricDataCommand).resolves({});
});
afterEach(() => jest.restoreAllMocks());

function published(): MetricDatum[] {
  return cloudWatch.commandCalls(PutMetricDataCommand).flatMap((c) => c.args[0].input.MetricData ?? []);
}

const value = (name: string) => published().find((d) => d.MetricName === name)?.Value;

describe('model quality job: windows', () => {
  test('by default: windowHours of capture ending labelDelayHours before the current hour, labels until now', () => {
    const { capture, groundTruth } = windowsOf(EVENT, new Date(EVENT.time!));
    expect(capture).toEqual({ start: new Date('2026-12-01T09:00:00Z'), hours: 1 });
    expect(groundTruth).toEqual({ start: new Date('2026-12-01T09:00:00Z'), hours: 3 });
    // Across midnight, in UTC.
    expect(
      windowsOf({ ...EVENT, labelDelayHours: 0, windowHours: 2 }, new Date('2026-12-01T00:10:00Z')),
    ).toEqual({
      capture: { start: new Date('2026-11-30T22:00:00Z'), hours: 2 },
      groundTruth: { start: new Date('2026-11-30T22:00:00Z'), hours: 2 },
    });
  });

  test('lists the capture hours under endpoint/variant and the label hours under the endpoint', async () => {
    await handler(EVENT);
    expect(s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input.Prefix)).toEqual([
      CAPTURE,
      LABELS_09,
      'ground-truth/mlops-prod-fare-amount/2026/12/01/10/',
      LABELS_11,
    ]);
  });

  test('explicit windows are taken as given', async () => {
    const result = await handler({
      ...EVENT,
      captureWindow: { start: '2026-12-01T09:00:00Z', hours: 1 },
      groundTruthWindow: { start: '2026-12-01T11:00:00.000Z', hours: 1 },
    });
    expect(s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input.Prefix)).toEqual([
      CAPTURE,
      LABELS_11,
    ]);
    // Only the 11:00 labels: a (its label there is the first read) and c match, e does not.
    expect(result.report).toMatchObject({ matchedLabels: 2, unmatchedLabels: 1, unmatchedPredictions: 2 });
  });
});

describe('model quality job', () => {
  test('publishes the metrics and counters of the window, with the slot as dimensions', async () => {
    const result = await handler(EVENT);
    expect(result).toMatchObject({ captureObjects: 2, groundTruthObjects: 2 });

    const calls = cloudWatch.commandCalls(PutMetricDataCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input.Namespace).toBe('cdk-mlops-maturity/ModelQuality');
    expect(value('Rmse')).toBeCloseTo(Math.sqrt(14 / 3), 12);
    expect(value('Mae')).toBe(2);
    expect(value('MatchedLabels')).toBe(3);
    expect(value('UnmatchedLabels')).toBe(1);
    expect(value('UnmatchedPredictions')).toBe(1);
    expect(value('DuplicateLabels')).toBe(1);
    expect(value('DuplicatePredictions')).toBe(1);
    expect(value('LateLabels')).toBe(1);
    expect(value('MalformedLines')).toBe(1);
    expect(value('UnreadableObjects')).toBe(0);
    expect(value('EmptyWindows')).toBe(0);
    expect(value('Accuracy')).toBeUndefined();
    for (const d of published()) {
      expect(d.Dimensions).toEqual([
        { Name: 'EndpointName', Value: 'mlops-prod-fare-amount' },
        { Name: 'VariantName', Value: 'AllTraffic' },
      ]);
      // At the capture window's end, whenever the job runs.
      expect(d.Timestamp).toEqual(new Date('2026-12-01T10:00:00Z'));
      expect(d.Unit).toBe(['Rmse', 'Mae'].includes(d.MetricName!) ? 'None' : 'Count');
    }
  });

  test('writes the report under the reports prefix, named after the slot and the windows', async () => {
    const result = await handler(EVENT);
    const puts = s3.commandCalls(PutObjectCommand);
    expect(puts).toHaveLength(1);
    const put = puts[0].args[0].input;
    expect(put).toMatchObject({ Bucket: 'artifacts', ContentType: 'application/json' });
    expect(put.Key).toBe(
      'reports/model-quality/mlops-prod-fare-amount/AllTraffic/' +
        'capture-2026-12-01T09:00Z-1h_ground-truth-2026-12-01T09:00Z-3h.json',
    );
    expect(result.reportKey).toBe(put.Key);
    const body = JSON.parse(put.Body as string);
    expect(body).toMatchObject({
      endpointName: 'mlops-prod-fare-amount',
      variantName: 'AllTraffic',
      problemType: 'Regression',
      window: {
        capture: { start: '2026-12-01T09:00:00.000Z', end: '2026-12-01T10:00:00.000Z', objects: 2 },
        groundTruth: { start: '2026-12-01T09:00:00.000Z', end: '2026-12-01T12:00:00.000Z', objects: 2 },
      },
      matchedLabels: 3,
      lateLabels: 1,
      lines: { capture: 6, groundTruth: 5 },
      malformed: { capture: { malformedJson: 1 } },
    });
    expect(body.metrics.mae).toBe(2);
  });

  test('run twice with the same event, it writes the same report to the same key (idempotent)', async () => {
    await handler(EVENT);
    await handler({ ...EVENT });
    const [first, second] = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(second.Key).toBe(first.Key);
    expect(second.Body).toBe(first.Body);
  });

  test('dates labels with GetObject LastModified: a later upload makes more labels late', async () => {
    s3.on(GetObjectCommand, { Key: `${LABELS_09}labels-1.jsonl` }).callsFake(() => ({
      Body: sdkStreamMixin(Readable.from([OBJECTS[`${LABELS_09}labels-1.jsonl`].body])),
      LastModified: new Date('2026-12-03T00:00:00Z'),
    }));
    const result = await handler(EVENT);
    expect(result.report.lateLabels).toBe(3);
  });

  test('binary classification publishes Accuracy and F1', async () => {
    const capture = `${CAPTURE}scores.jsonl`;
    const labels = `${LABELS_09}labels.jsonl`;
    const stored: Record<string, string> = {
      [capture]: [captureLine('p', '0.9'), captureLine('q', '0.6'), captureLine('r', '0.2')].join('\n'),
      [labels]: [labelLine('p', '1'), labelLine('q', '0'), labelLine('r', '1')].join('\n'),
    };
    s3.on(ListObjectsV2Command).callsFake((input: { Prefix: string }) => ({
      Contents: Object.keys(stored)
        .filter((k) => k.startsWith(input.Prefix))
        .map((Key) => ({ Key, LastModified: new Date('2026-12-01T10:00:00Z') })),
    }));
    for (const [key, text] of Object.entries(stored)) {
      s3.on(GetObjectCommand, { Key: key }).callsFake(() => ({
        Body: sdkStreamMixin(Readable.from([text])),
      }));
    }
    await handler({ ...EVENT, problemType: 'BinaryClassification' });
    // TP p, FP q, FN r: accuracy 1/3, F1 2/(2+1+1).
    expect(value('Accuracy')).toBe(1 / 3);
    expect(value('F1')).toBe(0.5);
    expect(value('Rmse')).toBeUndefined();
    expect(published().find((d) => d.MetricName === 'F1')?.Unit).toBe('None');
  });

  test('an empty window publishes zero counts, no quality metric, and writes its report', async () => {
    s3.on(ListObjectsV2Command).resolves({ IsTruncated: false, KeyCount: 0 });
    const result = await handler(EVENT);
    expect(result.report.empty).toBe(true);
    expect(value('EmptyWindows')).toBe(1);
    for (const name of [
      'MatchedLabels',
      'UnmatchedLabels',
      'UnmatchedPredictions',
      'LateLabels',
      'MalformedLines',
    ]) {
      expect(value(name)).toBe(0);
    }
    expect(published().some((d) => ['Rmse', 'Mae'].includes(d.MetricName!))).toBe(false);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  test('listing pages are followed', async () => {
    const [first, second] = Object.keys(OBJECTS).filter((k) => k.startsWith(CAPTURE));
    s3.on(ListObjectsV2Command, { Prefix: CAPTURE, ContinuationToken: undefined }).resolves({
      Contents: [{ Key: first }],
      IsTruncated: true,
      NextContinuationToken: 't-2',
    });
    s3.on(ListObjectsV2Command, { Prefix: CAPTURE, ContinuationToken: 't-2' }).resolves({
      Contents: [{ Key: second }],
      IsTruncated: false,
    });
    await expect(handler(EVENT)).resolves.toMatchObject({ captureObjects: 2 });
  });

  test('a corrupt object is counted, not fatal; an S3 failure rejects for a retry', async () => {
    s3.on(GetObjectCommand, { Key: `${CAPTURE}part-b.jsonl.gz` }).callsFake(() => ({
      Body: sdkStreamMixin(Readable.from([Buffer.from([0x1f, 0x8b, 0, 0, 0])])),
    }));
    await expect(handler(EVENT)).resolves.toMatchObject({
      report: { unreadableObjects: 1, matchedLabels: 3 },
    });
    expect(value('UnreadableObjects')).toBe(1);

    s3.on(GetObjectCommand, { Key: `${CAPTURE}part-b.jsonl.gz` }).rejects(
      Object.assign(new Error('We encountered an internal error. Please try again.'), {
        name: 'InternalError',
      }),
    );
    await expect(handler(EVENT)).rejects.toThrow(/internal error/);
  });

  test.each<[Partial<Record<keyof ModelQualityEvent, unknown>>, RegExp]>([
    [{ endpointName: '', windowHours: 0 }, /invalid: endpointName, windowHours$/],
    [
      { problemType: 'MulticlassClassification' },
      /problemType Regression or BinaryClassification.*invalid: problemType/,
    ],
    [{ labelDelayHours: 145, probabilityThreshold: 1 }, /invalid: labelDelayHours, probabilityThreshold$/],
    [{ lateLabelAllowanceSeconds: -1, time: 'soon' }, /invalid: lateLabelAllowanceSeconds, time$/],
    [
      {
        captureWindow: { start: '2026-12-01T09:30:00Z', hours: 1 },
        groundTruthWindow: { start: 'x', hours: 1 },
      },
      /invalid: captureWindow, groundTruthWindow$/,
    ],
    [
      { captureWindow: { start: '2026-12-01T09:00:00Z', hours: 169 } },
      /hours: 1-168.*invalid: captureWindow$/,
    ],
  ])('a malformed event is refused naming the fields, before any call (%#)', async (change, message) => {
    await expect(handler({ ...EVENT, ...change } as ModelQualityEvent)).rejects.toThrow(message);
    expect([...s3.calls(), ...cloudWatch.calls()]).toHaveLength(0);
  });
});
