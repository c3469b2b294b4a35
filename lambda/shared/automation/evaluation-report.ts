import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { DescribeModelPackageCommandOutput } from '@aws-sdk/client-sagemaker';
import { describeValue } from '../../../lib/private/describe-value';
import { describeAwsError, isAwsError } from '../release/errors';
import { EvaluationReportError } from './errors';

/**
 * The largest report read. The reference workload's evaluation.json is a few hundred bytes; a
 * report this large is not one, and reading it would only cost the function's memory.
 */
export const MAX_REPORT_BYTES = 1_048_576;

/**
 * A metric of a report, as a dotted path into its JSON: `regression_metrics.rmse` reaches
 * `{"regression_metrics": {"rmse": {"value": 4.2}}}`, the layout of SageMaker's model quality
 * metrics (`binary_classification_metrics.accuracy`, ... likewise). The path may also end at a
 * number.
 */
export const METRIC_PATH = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;

/** The numbers a gate reads from one report. */
export interface EvaluationReport {
  /** Where the report was read: `s3://<bucket>/<key>`. */
  readonly uri: string;
  /** The value of each metric asked for, by its path. */
  readonly metrics: Readonly<Record<string, number>>;
}

/** An S3 object named by an `s3://` URI. */
export interface S3ObjectLocation {
  readonly bucket: string;
  readonly key: string;
}

const S3_URI = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/;

/** Parses `s3://<bucket>/<key>`; throws `report-missing` when the URI names no object. */
export function parseS3Uri(uri: string): S3ObjectLocation {
  const match = S3_URI.exec(uri.trim());
  if (!match) {
    throw new EvaluationReportError(
      'report-missing',
      `the report location ${describeValue(uri)} is not an S3 object URI (s3://<bucket>/<key>)`,
    );
  }
  return { bucket: match[1], key: match[2] };
}

/**
 * The S3 URI of a model package's evaluation report: its model quality statistics, where the
 * reference workload's Register step puts evaluation.json. Undefined when the package has none.
 */
export function reportUriOf(
  modelPackage: Pick<DescribeModelPackageCommandOutput, 'ModelMetrics'>,
): string | undefined {
  const uri = modelPackage.ModelMetrics?.ModelQuality?.Statistics?.S3Uri?.trim();
  return uri === '' ? undefined : uri;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The value of the metric at `path` in a parsed report: the number there, or the `value` of the
 * object there. Throws `report-malformed`, naming the path and what was found, otherwise.
 */
export function metricValue(report: unknown, path: string): number {
  let node: unknown = report;
  for (const part of path.split('.')) {
    if (!isRecord(node) || !(part in node)) {
      throw new EvaluationReportError('report-malformed', `the report has no metric ${path}`);
    }
    node = node[part];
  }
  const value = isRecord(node) ? node.value : node;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new EvaluationReportError(
      'report-malformed',
      `the report's ${path} is ${describeValue(value)}, not a finite number`,
    );
  }
  return value;
}

/** Parses a report's text and reads each metric of `paths`. Throws `report-malformed`. */
export function parseEvaluationReport(text: string, uri: string, paths: readonly string[]): EvaluationReport {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new EvaluationReportError('report-malformed', `the report ${uri} is not JSON`, { cause: error });
  }
  if (!isRecord(parsed)) {
    throw new EvaluationReportError('report-malformed', `the report ${uri} is not a JSON object`);
  }
  const metrics: Record<string, number> = {};
  for (const path of paths) {
    try {
      metrics[path] = metricValue(parsed, path);
    } catch (error) {
      throw new EvaluationReportError('report-malformed', `${(error as Error).message} (${uri})`);
    }
  }
  return { uri, metrics };
}

/**
 * Reads the report at `uri` and the metrics of `paths`. A missing object (NoSuchKey, NoSuchBucket)
 * throws `report-missing`; a report that is not one throws `report-malformed`. Any other failure
 * (access denied, throttling) is thrown as it is, so that the caller decides nothing on it.
 */
export async function readEvaluationReport(
  s3: S3Client,
  uri: string,
  paths: readonly string[],
): Promise<EvaluationReport> {
  const { bucket, key } = parseS3Uri(uri);
  let text: string;
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (object.ContentLength !== undefined && object.ContentLength > MAX_REPORT_BYTES) {
      throw new EvaluationReportError(
        'report-malformed',
        `the report ${uri} is ${object.ContentLength} bytes, more than an evaluation report's ${MAX_REPORT_BYTES}`,
      );
    }
    text = (await object.Body?.transformToString('utf-8')) ?? '';
  } catch (error) {
    if (isAwsError(error, 'NoSuchKey') || isAwsError(error, 'NoSuchBucket')) {
      throw new EvaluationReportError(
        'report-missing',
        `the report ${uri} does not exist (${describeAwsError(error)})`,
        {
          cause: error,
        },
      );
    }
    throw error;
  }
  if (text.length > MAX_REPORT_BYTES) {
    throw new EvaluationReportError(
      'report-malformed',
      `the report ${uri} is larger than ${MAX_REPORT_BYTES} bytes`,
    );
  }
  return parseEvaluationReport(text, uri, paths);
}
