import { MODEL_NAME, OUTPUT_BUCKET, OUTPUT_PREFIX, PARAMETER_NAME } from './support/production-data-env';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectCommandInput,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { createHandler, ProductionDataEvent, readConfig } from '../../lambda/production-data';
import { captureHandlerOutput, logLines, publishedMetrics } from '../automation/support/handler-output';
import { captureLine, DURATION_EVENT, jsonl, labelLine } from './support/records';

const s3 = mockClient(S3Client);
const ssm = mockClient(SSMClient);

const PROD_BUCKET = 'mlops-prod-store';
const LOCATION = {
  captureUrl: `s3://${PROD_BUCKET}/capture/`,
  groundTruthUrl: `s3://${PROD_BUCKET}/ground-truth`,
  kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/prod',
};
const WINDOW = { DataWindowStart: '2026-05-01T10:00:00Z', DataWindowEnd: '2026-05-01T12:00:00Z' };
const event = (overrides: Partial<ProductionDataEvent> = {}): ProductionDataEvent => ({
  ...DURATION_EVENT,
  ...WINDOW,
  ...overrides,
});

function handlerFor(env: NodeJS.ProcessEnv = process.env) {
  return createHandler({
    config: readConfig(env),
    s3: new S3Client({}),
    ssm: new SSMClient({}),
    logger: new Logger({ serviceName: 'production-data', persistentKeys: { modelName: MODEL_NAME } }),
    metrics: new Metrics({
      namespace: 'cdk-mlops-maturity/ProductionData',
      serviceName: 'production-data',
      defaultDimensions: { ModelName: MODEL_NAME },
    }),
  });
}
const handler = handlerFor();

/** Objects of the prod store, by key; listed under any prefix, read back as streams. */
function prodObjects(objects: Record<string, string | Buffer>) {
  s3.on(ListObjectsV2Command).callsFake(async (input) => ({
    Contents: Object.keys(objects)
      .filter((k) => k.startsWith(input.Prefix ?? ''))
      .map((Key) => ({ Key })),
    IsTruncated: false,
  }));
  s3.on(GetObjectCommand).callsFake(async (input) => ({
    Body: Readable.from([Buffer.from(objects[input.Key!])]),
    LastModified: new Date('2026-05-01T13:00:00Z'),
  }));
}

let uploaded: { input: PutObjectCommandInput; body: string }[];

beforeEach(() => {
  s3.reset();
  ssm.reset();
  captureHandlerOutput();
  uploaded = [];
  s3.on(PutObjectCommand).callsFake(async (input: PutObjectCommandInput) => {
    const chunks: Buffer[] = [];
    for await (const chunk of input.Body as Readable) chunks.push(Buffer.from(chunk));
    uploaded.push({ input, body: Buffer.concat(chunks).toString('utf8') });
    return {};
  });
  ssm
    .on(GetParameterCommand, { Name: PARAMETER_NAME })
    .resolves({ Parameter: { Name: PARAMETER_NAME, Type: 'String', Value: JSON.stringify(LOCATION) } });
});

afterEach(() => jest.restoreAllMocks());

const HEADER = 'duration,trip_distance,pickup_hour,pickup_weekday,PULocationID,DOLocationID';
const OUTPUT_KEY = `${OUTPUT_PREFIX}a1b2c3d4e5f6/production.csv`;

describe('production-data handler (the Lambda step: its Arguments are the event)', () => {
  test("joins the window's captured requests with their labels into the training layout", async () => {
    // GIVEN requests captured in the window (two hours, two variants) and outside it, and labels
    prodObjects({
      'capture/ep/AllTraffic/2026/05/01/10/a.jsonl': jsonl(
        captureLine('id-1', '2.5,10,4,132,236'),
        captureLine('id-2', '1.1,10,4,48,50'),
        captureLine('id-unlabeled', '3.0,10,4,1,2'),
      ),
      // Gzipped, as a capture may be; the same request captured twice is written once.
      'capture/ep/Shadow/2026/05/01/11/b.jsonl.gz': zlib.gzipSync(
        jsonl(captureLine('id-3', '7.25,11,4,161,237'), captureLine('id-1', '2.5,10,4,132,236')),
      ),
      'capture/ep/AllTraffic/2026/05/01/12/outside.jsonl': jsonl(captureLine('id-4', '1,12,4,1,2')),
      'ground-truth/ep/2026/05/01/13/labels.jsonl': jsonl(
        labelLine('id-1', '14.5'),
        labelLine('id-2', '6'),
        labelLine('id-3', '31.75'),
        labelLine('id-4', '9'),
      ),
    });
    // WHEN the step invokes the function
    const result = await handler(event());
    // THEN one CSV: the header, then label-first rows in the model's feature order
    expect(result).toEqual({
      ProductionDataUrl: `s3://${OUTPUT_BUCKET}/${OUTPUT_KEY}`,
      JoinedRows: 3,
      UnmatchedRequests: 1,
      MalformedLines: 0,
    });
    expect(uploaded).toHaveLength(1);
    expect(uploaded[0].input).toMatchObject({
      Bucket: OUTPUT_BUCKET,
      Key: OUTPUT_KEY,
      ContentType: 'text/csv',
    });
    expect(uploaded[0].body).toBe(
      [HEADER, '14.5,2.5,10,4,132,236', '6,1.1,10,4,48,50', '31.75,7.25,11,4,161,237', ''].join('\n'),
    );
    // Only the prod store was read, under the published prefixes.
    const prefixes = s3
      .commandCalls(ListObjectsV2Command)
      .map((c) => [c.args[0].input.Bucket, c.args[0].input.Prefix]);
    expect(prefixes.sort()).toEqual([
      [PROD_BUCKET, 'capture/'],
      [PROD_BUCKET, 'ground-truth/'],
    ]);
    const log = logLines().find((l) => l.message === 'Assembled the production data');
    expect(log).toMatchObject({
      modelName: MODEL_NAME,
      pipelineExecutionId: 'a1b2c3d4e5f6',
      retrainReason: 'alarm trip-duration-drift entered ALARM',
      duplicateRequests: 1,
      captureObjects: 2,
    });
    expect(publishedMetrics()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          name: 'JoinedRows',
          value: 3,
          dimensions: expect.objectContaining({ ModelName: MODEL_NAME }),
        }),
      ]),
    );
  });

  test('bad lines and corrupt objects are counted, never fatal', async () => {
    prodObjects({
      'capture/ep/AllTraffic/2026/05/01/10/a.jsonl': jsonl(
        'not json',
        captureLine(undefined, '2.5,10,4,132,236'),
        captureLine('id-2', '2.5,10,4'),
        captureLine('id-3', 'far,10,4,132,236'),
        captureLine('id-4', '2.5,10,4,132,236\n3.5,10,4,132,236'),
        captureLine('id-5', '4,10,4,132,236'),
      ),
      'capture/ep/AllTraffic/2026/05/01/11/corrupt.jsonl.gz': Buffer.from([0x1f, 0x8b, 1, 2, 3]),
      'ground-truth/ep/2026/05/01/12/labels.jsonl': jsonl(
        labelLine('id-5', '20'),
        labelLine('id-2', 'n/a'),
        '{"eventMetadata": {}}',
      ),
    });
    const result = await handler(event());
    expect(result).toMatchObject({ JoinedRows: 1, UnmatchedRequests: 0, MalformedLines: 7 });
    expect(uploaded[0].body).toBe(`${HEADER}\n20,4,10,4,132,236\n`);
    const log = logLines().find((l) => l.message === 'Assembled the production data');
    expect(log?.malformedCapture).toMatchObject({
      malformedJson: 1,
      missingId: 1,
      wrongFieldCount: 1,
      nonNumericValue: 1,
      multipleRecords: 1,
    });
    expect(log?.unreadableObjects).toBe(1);
  });

  test.each([
    ['an empty window', { DataWindowStart: '', DataWindowEnd: '' }],
    ['a window without labels', {}],
  ])('%s: a header-only file and 0 rows', async (_name, overrides) => {
    prodObjects({ 'capture/ep/AllTraffic/2026/05/01/10/a.jsonl': jsonl(captureLine('id-1', '1,10,4,1,2')) });
    const result = await handler(event(overrides));
    expect(result).toEqual({
      ProductionDataUrl: `s3://${OUTPUT_BUCKET}/${OUTPUT_KEY}`,
      JoinedRows: 0,
      UnmatchedRequests: 0,
      MalformedLines: 0,
    });
    expect(uploaded[0].body).toBe(`${HEADER}\n`);
  });

  test('an empty window reads neither the parameter nor the prod store', async () => {
    await handler(event({ DataWindowStart: '', DataWindowEnd: '' }));
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(0);
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(0);
  });

  test('no parameter configured: a header-only file, with a warning when a window was given', async () => {
    const bare = handlerFor({ ...process.env, PRODUCTION_DATA_PARAMETER_NAME: '' });
    expect((await bare(event())).JoinedRows).toBe(0);
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(0);
    expect(logLines().some((l) => l.level === 'WARN' && /no production data parameter/.test(l.message))).toBe(
      true,
    );
  });

  test('a window whose location parameter does not exist fails with the fix', async () => {
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));
    await expect(handler(event())).rejects.toThrow(
      `the production data location parameter '${PARAMETER_NAME}' does not exist, so the window ` +
        '2026-05-01T10:00:00.000Z - 2026-05-01T12:00:00.000Z cannot be read: deploy the level-4 environment',
    );
    expect(uploaded).toHaveLength(0);
    expect(logLines().some((l) => l.level === 'ERROR')).toBe(true);
  });

  test.each([
    ['not JSON', 'captureUrl=s3://x', /SSM parameter '.*' is not JSON/],
    [
      'a relative URL',
      JSON.stringify({ ...LOCATION, captureUrl: 'capture/' }),
      /captureUrl "capture\/" is not an s3:\/\/ URL/,
    ],
    [
      'no ground truth',
      JSON.stringify({ captureUrl: LOCATION.captureUrl }),
      /groundTruthUrl null is not an s3:\/\/ URL/,
    ],
  ])('a parameter holding %s fails naming the field', async (_name, value, message) => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: PARAMETER_NAME, Value: value } });
    await expect(handler(event())).rejects.toThrow(message);
  });

  test.each([
    [
      { DataWindowStart: '2026-05-01', DataWindowEnd: '2026-05-02T00:00:00Z' },
      /DataWindowStart "2026-05-01" is not an ISO 8601 time/,
    ],
    [
      { DataWindowStart: '2026-05-01T00:00:00Z', DataWindowEnd: '' },
      /DataWindowEnd "" is not an ISO 8601 time/,
    ],
    [
      { DataWindowEnd: '2026-05-01T09:00:00Z' },
      /DataWindowEnd 2026-05-01T09:00:00.000Z is not after DataWindowStart/,
    ],
    [{ ExecutionId: '../other' }, /invalid: ExecutionId/],
    [{ Features: '', CategoricalFeatures: 'PULocationID' }, /invalid: Features, CategoricalFeatures/],
  ])('invalid Arguments %p fail the step, naming them', async (overrides, message) => {
    await expect(handler(event(overrides as Partial<ProductionDataEvent>))).rejects.toThrow(message);
    expect(uploaded).toHaveLength(0);
  });

  test('a retry of the same execution writes the same key with the same rows', async () => {
    prodObjects({
      'capture/ep/AllTraffic/2026/05/01/10/a.jsonl': jsonl(captureLine('id-1', '2.5,10,4,132,236')),
      'ground-truth/ep/2026/05/01/10/labels.jsonl': jsonl(labelLine('id-1', '14.5')),
    });
    await handler(event());
    await handler(event());
    expect(uploaded.map((u) => [u.input.Key, u.body])).toEqual([
      [OUTPUT_KEY, `${HEADER}\n14.5,2.5,10,4,132,236\n`],
      [OUTPUT_KEY, `${HEADER}\n14.5,2.5,10,4,132,236\n`],
    ]);
  });
});
