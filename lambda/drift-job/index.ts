// The drift job of one serving slot, for a window small enough for one invocation: reads the
// capture objects of the window, compares each feature's distribution with the training baseline
// (lambda/shared/drift, the engine `npm run drift` runs), publishes the statistics as CloudWatch
// metrics and writes the report to the artifact store. A large window runs the same engine per
// batch of objects, merged (the histograms merge exactly).
//
// Environment: POWERTOOLS_SERVICE_NAME (logs). Everything else comes with the event, so one
// function serves every slot of an environment.
import { Readable } from 'node:stream';
import { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchClient, MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  Baseline,
  driftReport,
  DriftReport,
  DriftHistogram,
  histogramOfCapture,
  parseBaselineText,
  PROBLEM_KINDS,
} from '../shared/drift';

/** The namespace of the drift metrics. */
export const DRIFT_METRICS_NAMESPACE = 'cdk-mlops-maturity/Drift';

/** What a schedule passes: the slot, where its capture and baseline are, and the window. */
export interface DriftJobEvent {
  readonly bucket: string;
  /** The baseline.json of the model that serves (the model package's data quality statistics). */
  readonly baselineKey: string;
  /** Where the endpoint captures to: `<prefix><endpoint>/<variant>/yyyy/mm/dd/hh/...`. */
  readonly capturePrefix: string;
  /** Where the report goes: `<prefix>drift/<endpoint>/<variant>/<window end>.json`. */
  readonly reportPrefix: string;
  readonly endpointName: string;
  readonly variantName: string;
  /** The window's length, in whole hours, ending at the start of the current hour. @default 1 */
  readonly windowHours?: number;
  /** The invocation's time, ISO 8601 (a scheduled rule's `time`). @default - now */
  readonly time?: string;
  /** PSI at or above this marks a feature drifted. @default 0.2 */
  readonly psiThreshold?: number;
}

export interface DriftJobResult {
  readonly objects: number;
  readonly reportKey: string;
  readonly report: DriftReport;
}

const logger = new Logger();
const s3 = new S3Client({});
const cloudWatch = new CloudWatchClient({});

/** The hour prefixes of the window: SageMaker writes capture files under yyyy/mm/dd/hh in UTC. */
export function windowPrefixes(event: DriftJobEvent, now: Date): { prefixes: string[]; end: Date } {
  const hours = event.windowHours ?? 1;
  const end = new Date(now);
  end.setUTCMinutes(0, 0, 0);
  const base = `${event.capturePrefix}${event.endpointName}/${event.variantName}/`;
  const prefixes: string[] = [];
  for (let i = hours; i >= 1; i--) {
    const hour = new Date(end.getTime() - i * 3600_000);
    const pad = (n: number) => String(n).padStart(2, '0');
    prefixes.push(
      `${base}${hour.getUTCFullYear()}/${pad(hour.getUTCMonth() + 1)}/${pad(hour.getUTCDate())}/${pad(hour.getUTCHours())}/`,
    );
  }
  return { prefixes, end };
}

function checkEvent(event: DriftJobEvent): void {
  const strings = [
    'bucket',
    'baselineKey',
    'capturePrefix',
    'reportPrefix',
    'endpointName',
    'variantName',
  ] as const;
  // The prefixes may be empty (the bucket's root); the names may not.
  const invalid: string[] = strings.filter(
    (k) => typeof event?.[k] !== 'string' || (!k.endsWith('Prefix') && event[k] === ''),
  );
  const hours = event?.windowHours;
  if (hours !== undefined && !(Number.isInteger(hours) && hours >= 1 && hours <= 24)) {
    invalid.push('windowHours');
  }
  if (invalid.length > 0) {
    throw new Error(
      `drift job event needs ${strings.join(', ')} as strings, and windowHours from 1 to 24 when given; ` +
        `invalid: ${invalid.join(', ')}`,
    );
  }
}

async function readText(bucket: string, key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return object.Body!.transformToString();
}

async function listKeys(bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    keys.push(...(page.Contents ?? []).map((o) => o.Key!).filter(Boolean));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

async function histogramOf(bucket: string, key: string, baseline: Baseline): Promise<DriftHistogram> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  // Streamed: memory stays bounded by the longest line, whatever the object's size.
  return histogramOfCapture(object.Body as Readable, baseline);
}

/** The CloudWatch metrics of a report: per-feature PSI, the drifted share, rows and problems. */
export function driftMetrics(event: DriftJobEvent, report: DriftReport, at: Date): MetricDatum[] {
  const slot = [
    { Name: 'EndpointName', Value: event.endpointName },
    { Name: 'VariantName', Value: event.variantName },
  ];
  const datum = (
    name: string,
    value: number,
    extra: { Name: string; Value: string }[] = [],
  ): MetricDatum => ({
    MetricName: name,
    Dimensions: [...slot, ...extra],
    Value: value,
    Unit: name === 'FeaturePsi' || name === 'DriftedFeatureShare' ? 'None' : 'Count',
    Timestamp: at,
  });
  const metrics = [datum('CaptureRows', report.rows), datum('EmptyWindows', report.empty ? 1 : 0)];
  for (const kind of PROBLEM_KINDS) {
    metrics.push(datum('CaptureProblems', report.problems[kind], [{ Name: 'Problem', Value: kind }]));
  }
  if (!report.empty) {
    for (const [feature, stats] of Object.entries(report.features)) {
      metrics.push(datum('FeaturePsi', stats.psi, [{ Name: 'Feature', Value: feature }]));
    }
    metrics.push(datum('DriftedFeatureShare', report.driftedShare ?? 0));
  }
  return metrics;
}

export async function handler(event: DriftJobEvent): Promise<DriftJobResult> {
  checkEvent(event);
  const now = event.time ? new Date(event.time) : new Date();
  if (Number.isNaN(now.getTime())) {
    throw new Error(`drift job event time '${event.time}' is not an ISO 8601 time`);
  }
  const baseline = parseBaselineText(await readText(event.bucket, event.baselineKey));
  const { prefixes, end } = windowPrefixes(event, now);
  const keys = (await Promise.all(prefixes.map((p) => listKeys(event.bucket, p)))).flat();
  const histograms: DriftHistogram[] = [];
  for (const key of keys) {
    histograms.push(await histogramOf(event.bucket, key, baseline));
  }
  const report = driftReport(baseline, histograms, { psiThreshold: event.psiThreshold });
  const metrics = driftMetrics(event, report, end);
  // PutMetricData takes at most 1000 data per call.
  for (let i = 0; i < metrics.length; i += 1000) {
    await cloudWatch.send(
      new PutMetricDataCommand({
        Namespace: DRIFT_METRICS_NAMESPACE,
        MetricData: metrics.slice(i, i + 1000),
      }),
    );
  }
  const reportKey = `${event.reportPrefix}drift/${event.endpointName}/${event.variantName}/${end.toISOString()}.json`;
  await s3.send(
    new PutObjectCommand({
      Bucket: event.bucket,
      Key: reportKey,
      ContentType: 'application/json',
      Body: JSON.stringify(
        { window: { prefixes, end: end.toISOString(), objects: keys.length }, ...report },
        null,
        2,
      ),
    }),
  );
  logger.info('drift job', {
    endpointName: event.endpointName,
    objects: keys.length,
    rows: report.rows,
    empty: report.empty,
  });
  return { objects: keys.length, reportKey, report };
}
