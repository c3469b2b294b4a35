// The first step of a slot's drift workflow: finds the baseline of the model that serves and the
// capture objects of the window, and plans the run. A small window runs in one invocation of the
// drift job; a large one as a distributed map over batches of its objects, then a merge. A slot
// that serves nothing (its release pointer says `none`) is not measured.
//
// Environment: POWERTOOLS_SERVICE_NAME (logs). Everything else comes with the event, which the
// slot's schedule passes.
import { Logger } from '@aws-lambda-powertools/logger';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DescribeModelPackageCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DriftBatch, windowPrefixes } from '../drift-job/window';

/** Where the baseline is: a fixed object, or the data quality statistics of the package a pointer names. */
export type DriftBaselineSource =
  { readonly bucket?: string; readonly key: string } | { readonly pointerName: string };

/** What the schedule passes: the slot, the window, the baseline's source and the planning limits. */
export interface DriftPlanEvent {
  readonly bucket: string;
  readonly capturePrefix: string;
  readonly reportPrefix: string;
  readonly endpointName: string;
  readonly variantName: string;
  readonly baseline: DriftBaselineSource;
  /** The window's length, in whole hours, ending at the start of the current hour. @default 1 */
  readonly windowHours?: number;
  /** The schedule's time, ISO 8601. @default - now */
  readonly time?: string;
  /** A window of more objects than this runs as a distributed map. @default 100 */
  readonly maxObjectsPerInvocation?: number;
  /** Objects per batch of a distributed map, at most 1000. @default 50 */
  readonly objectsPerBatch?: number;
}

/** The plan: `none` (nothing serves), `single` (one invocation) or `distributed` (batches, then a merge). */
export interface DriftPlan {
  readonly mode: 'none' | 'single' | 'distributed';
  /** Why the window is not measured, for `none`. */
  readonly reason?: string;
  /** The time every step computes the window from: the event's, or the planner's now. */
  readonly time: string;
  /** The window's end (the start of `time`'s hour), ISO 8601. */
  readonly windowEnd: string;
  /** The model package that serves, when the baseline comes from a pointer. */
  readonly modelPackageArn?: string;
  readonly baselineBucket?: string;
  readonly baselineKey?: string;
  /** The window's capture objects, as listed. */
  readonly objects: number;
  /** The batches of a distributed run, in window order; empty otherwise. */
  readonly batches: DriftBatch[];
}

export const DEFAULT_MAX_OBJECTS_PER_INVOCATION = 100;
export const DEFAULT_OBJECTS_PER_BATCH = 50;
/** `none` in a release pointer: no model released. */
const NO_MODEL_RELEASED = 'none';

const logger = new Logger();
const s3 = new S3Client({});
const ssm = new SSMClient({});
const sageMaker = new SageMakerClient({});

function checkEvent(event: DriftPlanEvent): Date {
  const strings = ['bucket', 'capturePrefix', 'reportPrefix', 'endpointName', 'variantName'] as const;
  const invalid: string[] = strings.filter(
    (k) => typeof event?.[k] !== 'string' || (!k.endsWith('Prefix') && event[k] === ''),
  );
  const baseline = event?.baseline as Record<string, unknown> | undefined;
  const fixed = typeof baseline?.key === 'string' && baseline.key !== '';
  const pointer = typeof baseline?.pointerName === 'string' && baseline.pointerName !== '';
  if (fixed === pointer || (baseline?.bucket !== undefined && typeof baseline.bucket !== 'string')) {
    invalid.push('baseline');
  }
  const integer = (k: keyof DriftPlanEvent, min: number, max: number) => {
    const value = event?.[k];
    if (
      value !== undefined &&
      !(Number.isInteger(value) && (value as number) >= min && (value as number) <= max)
    ) {
      invalid.push(k);
    }
  };
  integer('windowHours', 1, 24);
  integer('maxObjectsPerInvocation', 1, 100_000);
  integer('objectsPerBatch', 1, 1000);
  const now = event?.time !== undefined ? new Date(event.time) : new Date();
  if (Number.isNaN(now.getTime())) invalid.push('time');
  if (invalid.length > 0) {
    throw new Error(
      `drift plan event needs ${strings.join(', ')} as strings and baseline { key[, bucket] } or { pointerName }; ` +
        'when given: windowHours 1-24, maxObjectsPerInvocation 1-100000, objectsPerBatch 1-1000, time ISO 8601; ' +
        `invalid: ${invalid.join(', ')}`,
    );
  }
  return now;
}

async function listKeys(bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    keys.push(...(page.Contents ?? []).map((o) => o.Key).filter((k): k is string => !!k));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** `s3://bucket/key` into its parts; undefined for anything else. */
export function parseS3Uri(uri: unknown): { bucket: string; key: string } | undefined {
  const match = typeof uri === 'string' ? /^s3:\/\/([^/]+)\/(.+)$/.exec(uri) : null;
  return match ? { bucket: match[1], key: match[2] } : undefined;
}

/** The baseline of the package the pointer names, or why there is none to compare with. */
async function servedBaseline(
  pointerName: string,
): Promise<{ modelPackageArn: string; bucket: string; key: string } | { reason: string }> {
  const parameter = await ssm.send(new GetParameterCommand({ Name: pointerName }));
  const modelPackageArn = parameter.Parameter?.Value;
  if (!modelPackageArn || modelPackageArn === NO_MODEL_RELEASED) {
    return { reason: `release pointer ${pointerName} names no model package: nothing serves` };
  }
  const described = await sageMaker.send(
    new DescribeModelPackageCommand({ ModelPackageName: modelPackageArn }),
  );
  const uri = described.ModelMetrics?.ModelDataQuality?.Statistics?.S3Uri;
  const location = parseS3Uri(uri);
  if (!location) {
    // A failure, not a skip: the slot serves, and its drift cannot be measured.
    throw new Error(
      `model package ${modelPackageArn} has no baseline: its ModelMetrics.ModelDataQuality.Statistics.S3Uri is ` +
        `${JSON.stringify(uri)}; register packages with the baseline ml/preprocess.py writes (the reference ` +
        'pipeline does), or give the monitoring a fixed baseline',
    );
  }
  return { modelPackageArn, ...location };
}

/** Cuts each hour's keys (in S3's order) into batches of at most `size`, numbered in window order. */
export function batchesOf(byPrefix: { prefix: string; keys: string[] }[], size: number): DriftBatch[] {
  const batches: DriftBatch[] = [];
  for (const { prefix, keys } of byPrefix) {
    for (let i = 0; i < keys.length; i += size) {
      const part = keys.slice(i, i + size);
      batches.push({
        index: batches.length,
        prefix,
        ...(i > 0 ? { startAfter: keys[i - 1] } : {}),
        lastKey: part[part.length - 1],
      });
    }
  }
  return batches;
}

export async function handler(event: DriftPlanEvent): Promise<DriftPlan> {
  const now = checkEvent(event);
  const { prefixes, end } = windowPrefixes(event, now);
  const timing = { time: now.toISOString(), windowEnd: end.toISOString() };
  const source = event.baseline;
  let baseline: { bucket: string; key: string; modelPackageArn?: string };
  if ('pointerName' in source) {
    const served = await servedBaseline(source.pointerName);
    if ('reason' in served) {
      logger.info('drift plan: not measured', { endpointName: event.endpointName, reason: served.reason });
      return { mode: 'none', reason: served.reason, ...timing, objects: 0, batches: [] };
    }
    baseline = served;
  } else {
    baseline = { bucket: source.bucket ?? event.bucket, key: source.key };
  }
  const byPrefix = await Promise.all(
    prefixes.map(async (prefix) => ({ prefix, keys: await listKeys(event.bucket, prefix) })),
  );
  const objects = byPrefix.reduce((total, p) => total + p.keys.length, 0);
  const distributed = objects > (event.maxObjectsPerInvocation ?? DEFAULT_MAX_OBJECTS_PER_INVOCATION);
  const plan: DriftPlan = {
    mode: distributed ? 'distributed' : 'single',
    ...timing,
    ...(baseline.modelPackageArn ? { modelPackageArn: baseline.modelPackageArn } : {}),
    baselineBucket: baseline.bucket,
    baselineKey: baseline.key,
    objects,
    batches: distributed ? batchesOf(byPrefix, event.objectsPerBatch ?? DEFAULT_OBJECTS_PER_BATCH) : [],
  };
  logger.info('drift plan', {
    endpointName: event.endpointName,
    mode: plan.mode,
    objects,
    batches: plan.batches.length,
    modelPackageArn: plan.modelPackageArn,
  });
  return plan;
}
