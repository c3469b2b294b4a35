// The drift job of one serving slot: reads the capture objects of a window, compares each
// feature's distribution with the training baseline (lambda/shared/drift, the engine `npm run drift`
// runs), publishes the statistics as CloudWatch metrics and writes the report to the artifact store.
//
// Three modes, so that one function serves a window of any size:
// - single (no `mode`, or `mode: 'single'`): the whole window in one invocation;
// - `batch`: one range of a window's capture objects, counted into one histogram that is written
//   to S3 (a distributed map runs one invocation per batch);
// - `merge`: the batches' histograms merged, then published and reported exactly as a single pass
//   over the same objects would (the histograms' counts are integers: merging is exact).
//
// Environment: POWERTOOLS_SERVICE_NAME (logs). Everything else comes with the event.
import { Readable } from 'node:stream';
import { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchClient, MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  Baseline,
  BaselineError,
  driftReport,
  DriftReport,
  DriftHistogram,
  histogramOfCapture,
  mergeAll,
  parseBaselineText,
  parseHistogram,
  PROBLEM_KINDS,
} from '../shared/drift';
import { DriftBatch, windowPrefixes } from './window';

export type { DriftBatch } from './window';
export { windowPrefixes } from './window';

/** The namespace of the drift metrics. */
export const DRIFT_METRICS_NAMESPACE = 'cdk-mlops-maturity/Drift';

/** The slot, where its capture, baseline and reports are: common to every mode. */
export interface DriftSlot {
  readonly bucket: string;
  /** The bucket of the baseline, when it is not `bucket` (e.g. the store of the environment that trained the model). @default - `bucket` */
  readonly baselineBucket?: string;
  /** The baseline.json of the model that serves (the model package's data quality statistics). */
  readonly baselineKey: string;
  /** Where the endpoint captures to: `<prefix><endpoint>/<variant>/yyyy/mm/dd/hh/...`. */
  readonly capturePrefix: string;
  /** Where the report goes: `<prefix>drift/<endpoint>/<variant>/<window end>.json`. */
  readonly reportPrefix: string;
  readonly endpointName: string;
  readonly variantName: string;
}

/** A whole window in one invocation: what a schedule passes for a small window. */
export interface DriftJobEvent extends DriftSlot {
  readonly mode?: 'single';
  /** The window's length, in whole hours, ending at the start of the current hour. @default 1 */
  readonly windowHours?: number;
  /** The invocation's time, ISO 8601 (a scheduled rule's `time`). @default - now */
  readonly time?: string;
  /** PSI at or above this marks a feature drifted. @default 0.2 */
  readonly psiThreshold?: number;
}

/** One batch of a large window, an item of the distributed map. */
export interface DriftBatchEvent extends DriftSlot {
  readonly mode: 'batch';
  /** The window's end, ISO 8601 (the planner's): names the histogram objects. */
  readonly windowEnd: string;
  readonly batch: DriftBatch;
}

/** What a batch returns: where its histogram is, and what it counted. */
export interface DriftBatchResult {
  readonly histogramKey: string;
  readonly objects: number;
  readonly lines: number;
  readonly rows: number;
}

/** The final step of a large window: the batches' histograms, merged, published and reported. */
export interface DriftMergeEvent extends Omit<DriftJobEvent, 'mode'> {
  readonly mode: 'merge';
  /** The distributed map's results, one per batch. */
  readonly batches: readonly DriftBatchResult[];
}

export type DriftEvent = DriftJobEvent | DriftBatchEvent | DriftMergeEvent;

export interface DriftJobResult {
  readonly objects: number;
  readonly reportKey: string;
  readonly report: DriftReport;
}

/**
 * A window the job could not measure because the serving model's baseline is unusable (a feature
 * missing, no bins, not JSON...): counted as `BaselineProblems`, logged with the reason, never fatal.
 * Regenerating the baseline (a new training run and release) fixes it.
 */
export interface DriftBaselineProblem {
  readonly objects: 0;
  readonly baselineProblem: string;
}

const logger = new Logger();
const s3 = new S3Client({});
const cloudWatch = new CloudWatchClient({});

const SLOT_STRINGS = [
  'bucket',
  'baselineKey',
  'capturePrefix',
  'reportPrefix',
  'endpointName',
  'variantName',
] as const;

/** The slot's invalid fields: the prefixes may be empty (the bucket's root); the names may not. */
function invalidSlot(event: Partial<DriftSlot> | undefined): string[] {
  const invalid: string[] = SLOT_STRINGS.filter(
    (k) => typeof event?.[k] !== 'string' || (!k.endsWith('Prefix') && event[k] === ''),
  );
  const baselineBucket = event?.baselineBucket;
  if (baselineBucket !== undefined && (typeof baselineBucket !== 'string' || baselineBucket === '')) {
    invalid.push('baselineBucket');
  }
  return invalid;
}

function refuse(what: string, needs: string, invalid: string[]): never {
  throw new Error(`${what} needs ${needs}; invalid: ${invalid.join(', ')}`);
}

const SLOT_NEEDS = `${SLOT_STRINGS.join(', ')} as strings`;

function checkWindow(event: DriftJobEvent | DriftMergeEvent, what: string): Date {
  const invalid = invalidSlot(event);
  const hours = event?.windowHours;
  if (hours !== undefined && !(Number.isInteger(hours) && hours >= 1 && hours <= 24)) {
    invalid.push('windowHours');
  }
  const now = event?.time !== undefined ? new Date(event.time) : new Date();
  if (Number.isNaN(now.getTime())) invalid.push('time');
  if (event?.mode === 'merge' && !Array.isArray(event.batches)) invalid.push('batches');
  if (invalid.length > 0) {
    refuse(
      what,
      `${SLOT_NEEDS}, windowHours from 1 to 24 and time ISO 8601 when given` +
        (event?.mode === 'merge' ? ', batches a list of batch results' : ''),
      invalid,
    );
  }
  return now;
}

async function readText(bucket: string, key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return object.Body!.transformToString();
}

async function readBaseline(slot: DriftSlot): Promise<Baseline> {
  return parseBaselineText(await readText(slot.baselineBucket ?? slot.bucket, slot.baselineKey));
}

/** The keys under `prefix`, in S3's order, after `startAfter` and up to `lastKey` when given. */
async function listKeys(
  bucket: string,
  prefix: string,
  range: { startAfter?: string; lastKey?: string } = {},
): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ContinuationToken: token,
        // StartAfter applies to the first page; the token carries it on.
        StartAfter: token ? undefined : range.startAfter,
      }),
    );
    for (const key of (page.Contents ?? []).map((o) => o.Key).filter((k): k is string => !!k)) {
      if (range.lastKey !== undefined && key > range.lastKey) return keys;
      keys.push(key);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

async function histogramOf(bucket: string, key: string, baseline: Baseline): Promise<DriftHistogram> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  // Streamed: memory stays bounded by the longest line, whatever the object's size.
  return histogramOfCapture(object.Body as Readable, baseline);
}

/** The objects' histograms, merged, read one object at a time. */
async function histogramOfObjects(
  bucket: string,
  keys: string[],
  baseline: Baseline,
): Promise<DriftHistogram> {
  const histograms: DriftHistogram[] = [];
  for (const key of keys) {
    histograms.push(await histogramOf(bucket, key, baseline));
  }
  return mergeAll(baseline, histograms);
}

/**
 * The CloudWatch metrics of a report: per-feature PSI, the largest of them, the drifted share, rows
 * and problems.
 */
export function driftMetrics(event: DriftSlot, report: DriftReport, at: Date): MetricDatum[] {
  const slot = [
    { Name: 'EndpointName', Value: event.endpointName },
    { Name: 'VariantName', Value: event.variantName },
  ];
  const unitless = new Set(['FeaturePsi', 'MaxFeaturePsi', 'DriftedFeatureShare']);
  const datum = (
    name: string,
    value: number,
    extra: { Name: string; Value: string }[] = [],
  ): MetricDatum => ({
    MetricName: name,
    Dimensions: [...slot, ...extra],
    Value: value,
    Unit: unitless.has(name) ? 'None' : 'Count',
    Timestamp: at,
  });
  const metrics = [datum('CaptureRows', report.rows), datum('EmptyWindows', report.empty ? 1 : 0)];
  for (const kind of PROBLEM_KINDS) {
    metrics.push(datum('CaptureProblems', report.problems[kind], [{ Name: 'Problem', Value: kind }]));
  }
  if (!report.empty) {
    const values = Object.entries(report.features);
    for (const [feature, stats] of values) {
      metrics.push(datum('FeaturePsi', stats.psi, [{ Name: 'Feature', Value: feature }]));
    }
    // One metric per slot for the alarm: an alarm cannot take the maximum over a dimension.
    metrics.push(datum('MaxFeaturePsi', Math.max(...values.map(([, s]) => s.psi))));
    metrics.push(datum('DriftedFeatureShare', report.driftedShare ?? 0));
  }
  return metrics;
}

/** Publishes the window's report as metrics and writes it; the same for one pass and for a merge. */
async function publish(
  event: DriftJobEvent | DriftMergeEvent,
  baseline: Baseline,
  window: { prefixes: string[]; end: Date; objects: number; histogram: DriftHistogram },
): Promise<DriftJobResult> {
  const report = driftReport(baseline, window.histogram, { psiThreshold: event.psiThreshold });
  const metrics = driftMetrics(event, report, window.end);
  // PutMetricData takes at most 1000 data per call.
  for (let i = 0; i < metrics.length; i += 1000) {
    await cloudWatch.send(
      new PutMetricDataCommand({
        Namespace: DRIFT_METRICS_NAMESPACE,
        MetricData: metrics.slice(i, i + 1000),
      }),
    );
  }
  const end = window.end.toISOString();
  const reportKey = `${event.reportPrefix}drift/${event.endpointName}/${event.variantName}/${end}.json`;
  await s3.send(
    new PutObjectCommand({
      Bucket: event.bucket,
      Key: reportKey,
      ContentType: 'application/json',
      Body: JSON.stringify(
        { window: { prefixes: window.prefixes, end, objects: window.objects }, ...report },
        null,
        2,
      ),
    }),
  );
  logger.info('drift job', {
    mode: event.mode ?? 'single',
    endpointName: event.endpointName,
    objects: window.objects,
    rows: report.rows,
    empty: report.empty,
  });
  return { objects: window.objects, reportKey, report };
}

/** Where a batch's histogram goes: named after the window and the batch, so a retry overwrites it. */
export function batchHistogramKey(event: DriftSlot, windowEnd: string, index: number): string {
  return `${event.reportPrefix}drift/${event.endpointName}/${event.variantName}/batches/${windowEnd}/${index}.json`;
}

/**
 * The slot's baseline, or, when it is unusable, the `BaselineProblems` metric published at the
 * window's end and the reason: the window cannot be measured, and the job does not fail for it.
 */
async function usableBaseline(
  event: DriftJobEvent | DriftMergeEvent,
  now: Date,
): Promise<Baseline | DriftBaselineProblem> {
  try {
    return await readBaseline(event);
  } catch (error) {
    if (!(error instanceof BaselineError)) {
      throw error;
    }
    logger.error('unusable baseline: the window is not measured', {
      endpointName: event.endpointName,
      baselineKey: event.baselineKey,
      reason: error.message,
    });
    await cloudWatch.send(
      new PutMetricDataCommand({
        Namespace: DRIFT_METRICS_NAMESPACE,
        MetricData: [
          {
            MetricName: 'BaselineProblems',
            Dimensions: [
              { Name: 'EndpointName', Value: event.endpointName },
              { Name: 'VariantName', Value: event.variantName },
            ],
            Value: 1,
            Unit: 'Count',
            Timestamp: windowPrefixes(event, now).end,
          },
        ],
      }),
    );
    return { objects: 0, baselineProblem: error.message };
  }
}

async function single(event: DriftJobEvent): Promise<DriftJobResult | DriftBaselineProblem> {
  const now = checkWindow(event, 'drift job event');
  const baseline = await usableBaseline(event, now);
  if ('baselineProblem' in baseline) {
    return baseline;
  }
  const { prefixes, end } = windowPrefixes(event, now);
  const keys = (await Promise.all(prefixes.map((p) => listKeys(event.bucket, p)))).flat();
  const histogram = await histogramOfObjects(event.bucket, keys, baseline);
  return publish(event, baseline, { prefixes, end, objects: keys.length, histogram });
}

async function batch(event: DriftBatchEvent): Promise<DriftBatchResult> {
  const invalid = invalidSlot(event);
  const b = event?.batch;
  const capture = `${event?.capturePrefix}${event?.endpointName}/${event?.variantName}/`;
  if (
    typeof b?.prefix !== 'string' ||
    !b.prefix.startsWith(capture) ||
    typeof b.lastKey !== 'string' ||
    !b.lastKey.startsWith(b.prefix) ||
    (b.startAfter !== undefined && typeof b.startAfter !== 'string') ||
    !Number.isInteger(b.index) ||
    b.index < 0
  ) {
    invalid.push('batch');
  }
  if (typeof event?.windowEnd !== 'string' || Number.isNaN(new Date(event.windowEnd).getTime())) {
    invalid.push('windowEnd');
  }
  if (invalid.length > 0) {
    refuse(
      'drift batch event',
      `${SLOT_NEEDS}, windowEnd ISO 8601, and batch { index, prefix under the slot's capture, startAfter, lastKey under prefix }`,
      invalid,
    );
  }
  const baseline = await readBaseline(event);
  const keys = await listKeys(event.bucket, b.prefix, { startAfter: b.startAfter, lastKey: b.lastKey });
  const histogram = await histogramOfObjects(event.bucket, keys, baseline);
  const histogramKey = batchHistogramKey(event, new Date(event.windowEnd).toISOString(), b.index);
  await s3.send(
    new PutObjectCommand({
      Bucket: event.bucket,
      Key: histogramKey,
      ContentType: 'application/json',
      Body: JSON.stringify({ ...histogram, objects: keys.length }),
    }),
  );
  logger.info('drift batch', { endpointName: event.endpointName, index: b.index, objects: keys.length });
  return { histogramKey, objects: keys.length, lines: histogram.lines, rows: histogram.rows };
}

async function merge(event: DriftMergeEvent): Promise<DriftJobResult | DriftBaselineProblem> {
  const now = checkWindow(event, 'drift merge event');
  const invalid = event.batches
    .map((b, i) =>
      typeof b?.histogramKey === 'string' && Number.isInteger(b.objects) && b.objects >= 0
        ? undefined
        : `batches[${i}]`,
    )
    .filter((x): x is string => x !== undefined);
  if (invalid.length > 0) {
    refuse('drift merge event', 'batches of { histogramKey, objects }', invalid);
  }
  const baseline = await usableBaseline(event, now);
  if ('baselineProblem' in baseline) {
    return baseline;
  }
  const { prefixes, end } = windowPrefixes(event, now);
  const histograms: DriftHistogram[] = [];
  for (const b of event.batches) {
    histograms.push(parseHistogram(JSON.parse(await readText(event.bucket, b.histogramKey)), baseline));
  }
  const objects = event.batches.reduce((total, b) => total + b.objects, 0);
  return publish(event, baseline, { prefixes, end, objects, histogram: mergeAll(baseline, histograms) });
}

export async function handler(event: DriftJobEvent): Promise<DriftJobResult | DriftBaselineProblem>;
export async function handler(event: DriftBatchEvent): Promise<DriftBatchResult>;
export async function handler(event: DriftMergeEvent): Promise<DriftJobResult | DriftBaselineProblem>;
export async function handler(
  event: DriftEvent,
): Promise<DriftJobResult | DriftBatchResult | DriftBaselineProblem> {
  switch (event?.mode) {
    case undefined:
    case 'single':
      return single(event as DriftJobEvent);
    case 'batch':
      return batch(event);
    case 'merge':
      return merge(event);
    default:
      throw new Error(
        `drift job event mode '${String((event as { mode?: unknown }).mode)}' is not single, batch or merge`,
      );
  }
}
