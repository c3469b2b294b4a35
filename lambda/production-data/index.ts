// Assembles a retraining window's production data for the training pipeline: the requests a
// level-4 environment's endpoint captured in the window, joined by inference id with their
// ground-truth labels (lambda/shared/production-data), written as one CSV in the training data's
// layout to the release source's artifact store.
//
// Invoked by the pipeline's Lambda step, synchronously, with the step's Arguments as the event:
//   DataWindowStart, DataWindowEnd  ISO 8601 times, or both '' (no production data)
//   RetrainReason                   why the pipeline runs (logged)
//   ExecutionId                     the pipeline execution's id: the output's key
//   Label                           the training data's label column
//   Features                        the model's input columns, in order, comma-separated
//   CategoricalFeatures             those of them that are categories, comma-separated ('' for none)
// It returns the step's output parameters:
//   ProductionDataUrl  s3:// URL of the CSV (a header line, then one row per joined request)
//   JoinedRows, UnmatchedRequests, MalformedLines  counts
//
// Environment (read at cold start):
//   PRODUCTION_DATA_PARAMETER_NAME  the SSM parameter where the level-4 environment publishes
//                                   {"captureUrl","groundTruthUrl","kmsKeyArn"}; empty: no production data
//   OUTPUT_BUCKET, OUTPUT_PREFIX    where the CSVs go: <prefix><execution id>/production.csv
//   MODEL_NAME                      the modelName of every log line and ModelName of every metric
//   POWERTOOLS_METRICS_NAMESPACE    optional (default cdk-mlops-maturity/ProductionData)
//   POWERTOOLS_SERVICE_NAME         optional (default production-data)
//
// An empty window, no parameter name, or no labels give a header-only file and 0 rows; bad lines
// and corrupt objects are counted, never fatal. A window whose location parameter does not exist,
// or holds no usable location, fails the step with a message saying so. Idempotent: a retry of the
// same execution overwrites the same key.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Context } from 'aws-lambda';
import { handlerTelemetry, runInvocation } from '../shared/handler-runtime';
import {
  DataWindow,
  isCaptureKeyInWindow,
  isGroundTruthKeyInWindow,
  malformedLines,
  parseDataWindow,
  parseProductionDataLocation,
  ProductionDataAssembly,
  ProductionDataError,
  S3Location,
  TrainingLayout,
} from '../shared/production-data';

/** The Lambda step's Arguments. */
export interface ProductionDataEvent {
  readonly DataWindowStart: string;
  readonly DataWindowEnd: string;
  readonly RetrainReason?: string;
  readonly ExecutionId: string;
  readonly Label: string;
  readonly Features: string;
  readonly CategoricalFeatures?: string;
}

/** The step's output parameters. */
export interface ProductionDataResult {
  readonly ProductionDataUrl: string;
  readonly JoinedRows: number;
  readonly UnmatchedRequests: number;
  readonly MalformedLines: number;
}

export interface ProductionDataConfig {
  readonly parameterName?: string;
  readonly outputBucket: string;
  readonly outputPrefix: string;
  readonly modelName: string;
  readonly metricsNamespace: string;
  readonly serviceName: string;
}

export function readConfig(env: NodeJS.ProcessEnv): ProductionDataConfig {
  const missing = ['OUTPUT_BUCKET', 'MODEL_NAME'].filter((k) => !env[k]?.trim());
  if (missing.length > 0) {
    throw new Error(`production-data: set ${missing.join(' and ')} (see lib/training/reference-workload.ts)`);
  }
  const prefix = env.OUTPUT_PREFIX?.trim() ?? '';
  return {
    parameterName: env.PRODUCTION_DATA_PARAMETER_NAME?.trim() || undefined,
    outputBucket: env.OUTPUT_BUCKET!.trim(),
    outputPrefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`,
    modelName: env.MODEL_NAME!.trim(),
    metricsNamespace: env.POWERTOOLS_METRICS_NAMESPACE?.trim() || 'cdk-mlops-maturity/ProductionData',
    serviceName: env.POWERTOOLS_SERVICE_NAME?.trim() || 'production-data',
  };
}

export interface ProductionDataDependencies {
  readonly config: ProductionDataConfig;
  readonly s3: S3Client;
  readonly ssm: SSMClient;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Where the CSV is assembled before its upload. @default - the system's temporary directory */
  readonly workDirectory?: string;
}

export type ProductionDataHandler = (
  event: ProductionDataEvent,
  context?: Context,
) => Promise<ProductionDataResult>;

/** SageMaker pipeline execution ids: letters and digits (a key segment, never a path). */
const EXECUTION_ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,127}$/;
/** Rows are written to disk in chunks of about this many characters: memory stays bounded. */
const WRITE_CHUNK = 1 << 20;

const list = (names: unknown) =>
  typeof names === 'string'
    ? names
        .split(',')
        .map((n) => n.trim())
        .filter((n) => n !== '')
    : [];

/** The event's layout and execution id; throws naming every invalid argument. */
export function parseEvent(event: ProductionDataEvent): { executionId: string; layout: TrainingLayout } {
  const invalid: string[] = [];
  const body = (typeof event === 'object' && event !== null ? event : {}) as Partial<ProductionDataEvent>;
  if (typeof body.ExecutionId !== 'string' || !EXECUTION_ID.test(body.ExecutionId))
    invalid.push('ExecutionId');
  if (typeof body.Label !== 'string' || body.Label.trim() === '') invalid.push('Label');
  const features = list(body.Features);
  if (features.length === 0) invalid.push('Features');
  const categorical = list(body.CategoricalFeatures);
  if (categorical.some((c) => !features.includes(c))) invalid.push('CategoricalFeatures');
  if (invalid.length > 0) {
    throw new ProductionDataError(
      `the Lambda step's Arguments need ExecutionId (the pipeline execution id), Label, Features (comma-separated) ` +
        `and CategoricalFeatures among Features; invalid: ${invalid.join(', ')}`,
    );
  }
  return {
    executionId: body.ExecutionId!,
    layout: { label: body.Label!.trim(), features, categoricalFeatures: categorical },
  };
}

export function createHandler(deps: ProductionDataDependencies): ProductionDataHandler {
  const { config, s3, ssm, logger, metrics } = deps;

  async function listKeys(location: S3Location, keep: (key: string) => boolean): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({
          Bucket: location.bucket,
          Prefix: location.prefix,
          ContinuationToken: token,
        }),
      );
      for (const o of page.Contents ?? []) if (o.Key && keep(o.Key)) keys.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    // Keys name their hour: in key order, the first capture of a request is the earliest.
    return keys.sort();
  }

  async function readLocation(window: DataWindow) {
    const name = config.parameterName!;
    let value: string | undefined;
    try {
      value = (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
    } catch (error) {
      if ((error as { name?: string }).name === 'ParameterNotFound') {
        throw new ProductionDataError(
          `the production data location parameter '${name}' does not exist, so the window ` +
            `${window.start.toISOString()} - ${window.end.toISOString()} cannot be read: deploy the level-4 ` +
            'environment that publishes it, or start the pipeline with empty DataWindowStart and DataWindowEnd',
        );
      }
      throw error;
    }
    return parseProductionDataLocation(value ?? '', name);
  }

  async function assemble(
    window: DataWindow | undefined,
    assembly: ProductionDataAssembly,
    write: (row: string) => void,
  ): Promise<void> {
    if (window === undefined || config.parameterName === undefined) return;
    const location = await readLocation(window);
    const labelKeys = await listKeys(location.groundTruth, (k) => isGroundTruthKeyInWindow(k, window));
    for (const key of labelKeys) {
      const object = await s3.send(new GetObjectCommand({ Bucket: location.groundTruth.bucket, Key: key }));
      await assembly.addGroundTruthObject(object.Body as Readable, object.LastModified);
    }
    if (assembly.labels.table.size === 0) return;
    const captureKeys = await listKeys(location.capture, (k) => isCaptureKeyInWindow(k, window));
    for (const key of captureKeys) {
      const object = await s3.send(new GetObjectCommand({ Bucket: location.capture.bucket, Key: key }));
      await assembly.addCaptureObject(object.Body as Readable, write);
    }
  }

  async function handle(raw: unknown): Promise<ProductionDataResult> {
    const event = raw as ProductionDataEvent;
    const { executionId, layout } = parseEvent(event);
    const window = parseDataWindow(event.DataWindowStart, event.DataWindowEnd);
    logger.appendKeys({ pipelineExecutionId: executionId, retrainReason: event.RetrainReason ?? '' });
    if (window !== undefined && config.parameterName === undefined) {
      logger.warn(
        'A data window was given but no production data parameter is configured: no production rows',
      );
    }

    const assembly = new ProductionDataAssembly(layout);
    const dir = fs.mkdtempSync(path.join(deps.workDirectory ?? os.tmpdir(), 'production-data-'));
    const file = path.join(dir, 'production.csv');
    const fd = fs.openSync(file, 'w');
    try {
      let pending: string[] = [`${assembly.header()}\n`];
      let size = pending[0].length;
      const flush = () => {
        fs.writeSync(fd, pending.join(''));
        pending = [];
        size = 0;
      };
      await assemble(window, assembly, (row) => {
        pending.push(`${row}\n`);
        size += row.length + 1;
        if (size >= WRITE_CHUNK) flush();
      });
      flush();
    } finally {
      fs.closeSync(fd);
    }

    const key = `${config.outputPrefix}${executionId}/production.csv`;
    try {
      await s3.send(
        new PutObjectCommand({
          Bucket: config.outputBucket,
          Key: key,
          Body: fs.createReadStream(file),
          ContentLength: fs.statSync(file).size,
          ContentType: 'text/csv',
        }),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }

    const counts = assembly.counts;
    const result: ProductionDataResult = {
      ProductionDataUrl: `s3://${config.outputBucket}/${key}`,
      JoinedRows: counts.joinedRows,
      UnmatchedRequests: counts.unmatchedRequests,
      MalformedLines: malformedLines(counts, assembly.labels),
    };
    metrics.addMetric('JoinedRows', MetricUnit.Count, result.JoinedRows);
    metrics.addMetric('UnmatchedRequests', MetricUnit.Count, result.UnmatchedRequests);
    metrics.addMetric('MalformedLines', MetricUnit.Count, result.MalformedLines);
    logger.info('Assembled the production data', {
      window: window ? { start: window.start.toISOString(), end: window.end.toISOString() } : null,
      productionDataUrl: result.ProductionDataUrl,
      labels: assembly.labels.table.size,
      ...counts,
      malformedGroundTruth: assembly.labels.malformed.groundTruth,
      duplicateLabels: assembly.labels.duplicateLabels,
    });
    return result;
  }

  return async (event, context) =>
    runInvocation({ logger, metrics }, event, context, async (e) => {
      try {
        return await handle(e);
      } catch (error) {
        metrics.addMetric('AssemblyFailures', MetricUnit.Count, 1);
        logger.error('Could not assemble the production data: the pipeline step fails', {
          error: error as Error,
        });
        throw error;
      }
    });
}

// Cold start: the configuration, telemetry and clients are created once per execution environment.
const config = readConfig(process.env);

export const handler: ProductionDataHandler = createHandler({
  config,
  s3: new S3Client({}),
  ssm: new SSMClient({}),
  ...handlerTelemetry(config),
});
