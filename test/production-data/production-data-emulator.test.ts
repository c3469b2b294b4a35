import { OUTPUT_BUCKET, OUTPUT_PREFIX, PARAMETER_NAME } from './support/production-data-env';
import * as zlib from 'node:zlib';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { createHandler, readConfig } from '../../lambda/production-data';
import { EMULATOR_CREDENTIALS, MotoServer, startMotoServer } from '../../bin/simulation/moto-server';
import { captureHandlerOutput } from '../automation/support/handler-output';
import { captureLine, DURATION_EVENT, jsonl, labelLine } from './support/records';

// The whole assembly against an AWS API emulator: the location published in SSM by the level-4
// environment, its capture and ground truth in its store (paginated listings included), and the
// CSV written to the release source's store.

jest.setTimeout(60_000);

const PROD_BUCKET = 'mlops-prod-store';
let moto: MotoServer;
let s3: S3Client;
let ssm: SSMClient;
let handler: ReturnType<typeof createHandler>;

beforeAll(async () => {
  moto = await startMotoServer();
  const config = { endpoint: moto.url, region: 'eu-west-1', credentials: EMULATOR_CREDENTIALS };
  s3 = new S3Client({ ...config, forcePathStyle: true });
  ssm = new SSMClient(config);
  await s3.send(
    new CreateBucketCommand({
      Bucket: OUTPUT_BUCKET,
      CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
    }),
  );
  await s3.send(
    new CreateBucketCommand({
      Bucket: PROD_BUCKET,
      CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
    }),
  );
  await ssm.send(
    new PutParameterCommand({
      Name: PARAMETER_NAME,
      Type: 'String',
      Value: JSON.stringify({
        captureUrl: `s3://${PROD_BUCKET}/capture/`,
        groundTruthUrl: `s3://${PROD_BUCKET}/ground-truth/`,
        kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/prod',
      }),
    }),
  );
  const put = (key: string, body: string | Buffer) =>
    s3.send(new PutObjectCommand({ Bucket: PROD_BUCKET, Key: key, Body: body }));
  // 1,200 capture objects (more than one listing page of 1,000), one request each, over two days.
  const ids = Array.from({ length: 1200 }, (_, i) => i);
  for (const i of ids) {
    const hour = String(i % 24).padStart(2, '0');
    const day = i < 600 ? '01' : '02';
    const line = captureLine(`id-${i}`, `${(1 + (i % 10)).toFixed(1)},${i % 24},4,${100 + (i % 5)},236`);
    await put(
      `capture/ep-1/AllTraffic/2026/05/${day}/${hour}/${String(i).padStart(4, '0')}.jsonl`,
      jsonl(line),
    );
  }
  // Labels for the even ids, gzipped, filed the next day; one malformed line.
  const labels = ids.filter((i) => i % 2 === 0).map((i) => labelLine(`id-${i}`, String(5 + (i % 30))));
  await put('ground-truth/ep-1/2026/05/03/00/labels.jsonl.gz', zlib.gzipSync(jsonl(...labels, '{"oops"')));
  // Outside every window: a key of no hour.
  await put('capture/ep-1/AllTraffic/README.txt', 'not capture');

  handler = createHandler({
    config: readConfig(process.env),
    s3,
    ssm,
    logger: new Logger({ serviceName: 'production-data' }),
    metrics: new Metrics({ namespace: 'cdk-mlops-maturity/ProductionData', serviceName: 'production-data' }),
  });
}, 120_000);

afterAll(() => moto?.stop());

beforeEach(() => captureHandlerOutput());
afterEach(() => jest.restoreAllMocks());

async function text(key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: OUTPUT_BUCKET, Key: key }));
  return object.Body!.transformToString();
}

test('the first day of traffic, joined with its labels, lands in the source store as one CSV', async () => {
  const result = await handler({
    ...DURATION_EVENT,
    ExecutionId: 'exec-day-1',
    DataWindowStart: '2026-05-01T00:00:00Z',
    DataWindowEnd: '2026-05-02T00:00:00Z',
  });
  const key = `${OUTPUT_PREFIX}exec-day-1/production.csv`;
  expect(result).toEqual({
    ProductionDataUrl: `s3://${OUTPUT_BUCKET}/${key}`,
    JoinedRows: 300,
    UnmatchedRequests: 300,
    MalformedLines: 1,
  });
  const lines = (await text(key)).trimEnd().split('\n');
  expect(lines[0]).toBe('duration,trip_distance,pickup_hour,pickup_weekday,PULocationID,DOLocationID');
  expect(lines).toHaveLength(301);
  // id-0 (hour 00): label 5, distance 1.0, PU 100; id-598: label 5 + 598 % 30 = 33, hour 22
  expect(lines).toContain('5,1,0,4,100,236');
  expect(lines).toContain('33,9,22,4,103,236');
});

test('an empty window writes a header-only file without reading the prod store', async () => {
  const result = await handler({
    ...DURATION_EVENT,
    ExecutionId: 'exec-manual',
    DataWindowStart: '',
    DataWindowEnd: '',
  });
  expect(result.JoinedRows).toBe(0);
  expect(await text(`${OUTPUT_PREFIX}exec-manual/production.csv`)).toBe(
    'duration,trip_distance,pickup_hour,pickup_weekday,PULocationID,DOLocationID\n',
  );
});
