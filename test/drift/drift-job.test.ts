import { Readable } from 'node:stream';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/util-stream';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DriftBaselineProblem,
  DriftJobEvent,
  DriftJobResult,
  handler,
  windowPrefixes,
} from '../../lambda/drift-job';
import { driftReport, histogramOfCapture, parseBaseline } from '../../lambda/shared/drift';
import { quietHandlerLogs } from '../release-automation/support/quiet-logs';
import { baselineJson } from './fixtures';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

/** The result of a window the job measured; fails the test with the reason otherwise. */
function measured(result: DriftJobResult | DriftBaselineProblem): DriftJobResult {
  if ('baselineProblem' in result) {
    throw new Error(`the window was not measured: ${result.baselineProblem}`);
  }
  return result;
}

const s3 = mockClient(S3Client);
const cloudWatch = mockClient(CloudWatchClient);

const EVENT: DriftJobEvent = {
  bucket: 'artifacts',
  baselineKey: 'pipelines/fare-amount/exec-1/preprocess/baseline/baseline.json',
  capturePrefix: 'capture/',
  reportPrefix: 'reports/',
  endpointName: 'mlops-prod-fare-amount',
  variantName: 'AllTraffic',
  time: '2026-12-01T10:05:00Z',
};

/** One capture line in SageMaker's format: the request's CSV row of model inputs. */
const captureLine = (csv: string, encoding: 'CSV' | 'BASE64' = 'CSV') =>
  JSON.stringify({
    captureData: {
      endpointInput: {
        observedContentType: 'text/csv',
        mode: 'INPUT',
        data: encoding === 'CSV' ? csv : Buffer.from(csv).toString('base64'),
        encoding,
      },
      endpointOutput: { observedContentType: 'text/csv', mode: 'OUTPUT', data: '12.5', encoding: 'CSV' },
    },
    eventMetadata: { eventId: 'e', inferenceTime: '2026-12-01T09:30:00Z' },
    eventVersion: '0',
  });

// The fixture baseline's model input order: distance, zone, hour.
const OBJECTS: Record<string, string> = {
  'capture/mlops-prod-fare-amount/AllTraffic/2026/12/01/09/a.jsonl': [
    captureLine('0.5,132,3'),
    captureLine('1.5,7,13'),
    captureLine('3,132,20', 'BASE64'),
  ].join('\n'),
  'capture/mlops-prod-fare-amount/AllTraffic/2026/12/01/09/b.jsonl': [
    captureLine('8,44,23'),
    '{not json',
    captureLine('9,132'),
  ].join('\n'),
};

const body = (text: string) => sdkStreamMixin(Readable.from([Buffer.from(text)]));

beforeEach(() => {
  s3.reset();
  cloudWatch.reset();
  quietHandlerLogs();
  s3.on(GetObjectCommand, { Key: EVENT.baselineKey }).callsFake(() => ({
    Body: body(JSON.stringify(baselineJson())),
  }));
  for (const [key, text] of Object.entries(OBJECTS)) {
    s3.on(GetObjectCommand, { Key: key }).callsFake(() => ({ Body: body(text) }));
  }
  s3.on(PutObjectCommand).resolves({});
  cloudWatch.on(PutMetricDataCommand).resolves({});
});
afterEach(() => jest.restoreAllMocks());

describe('drift job handler', () => {
  test('the window is the previous whole hours, in capture path layout (UTC)', () => {
    expect(windowPrefixes({ ...EVENT, windowHours: 2 }, new Date('2026-12-01T00:10:00Z')).prefixes).toEqual([
      'capture/mlops-prod-fare-amount/AllTraffic/2026/11/30/22/',
      'capture/mlops-prod-fare-amount/AllTraffic/2026/11/30/23/',
    ]);
  });

  test("publishes the engine's numbers for the window's objects and writes the report", async () => {
    s3.on(ListObjectsV2Command, {
      Prefix: 'capture/mlops-prod-fare-amount/AllTraffic/2026/12/01/09/',
    }).resolves({
      Contents: Object.keys(OBJECTS).map((Key) => ({ Key })),
    });
    const result = measured(await handler(EVENT));

    // THEN the report equals the engine's on the same objects, merged
    const baseline = parseBaseline(baselineJson());
    const expected = driftReport(
      baseline,
      await Promise.all(Object.values(OBJECTS).map((t) => histogramOfCapture(Readable.from([t]), baseline))),
    );
    expect(result.report).toEqual(expected);
    expect(result.objects).toBe(2);
    expect(expected.rows).toBe(4);
    expect(expected.problems.malformedJson).toBe(1);
    expect(expected.problems.wrongFieldCount).toBe(1);

    // AND the metrics carry the slot's dimensions and the same values
    const data = cloudWatch
      .commandCalls(PutMetricDataCommand)
      .flatMap((c) => c.args[0].input.MetricData ?? []);
    expect(cloudWatch.commandCalls(PutMetricDataCommand)[0].args[0].input.Namespace).toBe(
      'cdk-mlops-maturity/Drift',
    );
    const value = (name: string, dimension?: [string, string]) =>
      data.find(
        (d) =>
          d.MetricName === name &&
          (!dimension || d.Dimensions?.some((x) => x.Name === dimension[0] && x.Value === dimension[1])),
      )?.Value;
    expect(value('CaptureRows')).toBe(4);
    expect(value('EmptyWindows')).toBe(0);
    expect(value('FeaturePsi', ['Feature', 'distance'])).toBe(expected.features.distance.psi);
    expect(value('DriftedFeatureShare')).toBe(expected.driftedShare);
    expect(value('CaptureProblems', ['Problem', 'malformedJson'])).toBe(1);
    for (const d of data) {
      expect(d.Dimensions).toEqual(
        expect.arrayContaining([
          { Name: 'EndpointName', Value: 'mlops-prod-fare-amount' },
          { Name: 'VariantName', Value: 'AllTraffic' },
        ]),
      );
      expect(d.Timestamp).toEqual(new Date('2026-12-01T10:00:00Z'));
    }

    // AND the report is written under the reports prefix, named after the window's end
    const put = s3.commandCalls(PutObjectCommand)[0].args[0].input;
    expect(put.Key).toBe('reports/drift/mlops-prod-fare-amount/AllTraffic/2026-12-01T10:00:00.000Z.json');
    expect(JSON.parse(put.Body as string)).toMatchObject({ rows: 4, window: { objects: 2 } });
  });

  test('an empty window is counted and reported, never fatal', async () => {
    s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    const result = measured(await handler(EVENT));
    expect(result.report.empty).toBe(true);
    const data = cloudWatch
      .commandCalls(PutMetricDataCommand)
      .flatMap((c) => c.args[0].input.MetricData ?? []);
    expect(data.find((d) => d.MetricName === 'EmptyWindows')?.Value).toBe(1);
    expect(data.some((d) => d.MetricName === 'FeaturePsi')).toBe(false);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  test.each([
    ['a feature the baseline lacks', (b: Json) => delete b.features.zone],
    ['a numeric feature without bins', (b: Json) => (b.features.distance.bin_edges = [])],
    ['a baseline that is not JSON', undefined],
  ])('%s: counted as BaselineProblems with the reason, no report, never fatal', async (_case, breakIt) => {
    // GIVEN an unusable baseline for the serving model
    const broken = baselineJson() as Json;
    breakIt?.(broken);
    s3.on(GetObjectCommand, { Key: EVENT.baselineKey }).callsFake(() => ({
      Body: body(breakIt ? JSON.stringify(broken) : '{not json'),
    }));
    // WHEN the job runs
    const result = await handler(EVENT);
    // THEN it says why, publishes one BaselineProblems datum at the window's end, and writes no report
    expect(result).toEqual({
      objects: 0,
      baselineProblem: expect.stringMatching(/^baseline\.json .*regenerate/s),
    });
    const data = cloudWatch
      .commandCalls(PutMetricDataCommand)
      .flatMap((c) => c.args[0].input.MetricData ?? []);
    expect(data.map((d) => [d.MetricName, d.Value, d.Timestamp])).toEqual([
      ['BaselineProblems', 1, new Date('2026-12-01T10:00:00Z')],
    ]);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  test('listing pages are followed', async () => {
    const prefix = 'capture/mlops-prod-fare-amount/AllTraffic/2026/12/01/09/';
    const [first, second] = Object.keys(OBJECTS);
    s3.on(ListObjectsV2Command, { Prefix: prefix, ContinuationToken: undefined }).resolves({
      Contents: [{ Key: first }],
      IsTruncated: true,
      NextContinuationToken: 't-2',
    });
    s3.on(ListObjectsV2Command, { Prefix: prefix, ContinuationToken: 't-2' }).resolves({
      Contents: [{ Key: second }],
    });
    await expect(handler(EVENT)).resolves.toMatchObject({ objects: 2 });
  });

  test('a malformed event is refused naming the fields, before any call', async () => {
    await expect(handler({ ...EVENT, endpointName: '', windowHours: 0 })).rejects.toThrow(
      /invalid: endpointName, windowHours/,
    );
    expect([...s3.calls(), ...cloudWatch.calls()]).toHaveLength(0);
  });
});
