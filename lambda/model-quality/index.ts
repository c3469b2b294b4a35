// The model quality job of one serving slot: joins the predictions its endpoint captured in a
// window with the ground-truth labels uploaded for them (lambda/shared/quality), publishes the
// metrics and counters to CloudWatch and writes the report to the artifact store. A window too
// large for one invocation runs the same engine per batch of objects; the batches' joins merge
// exactly (mergeJoins).
//
// Environment: POWERTOOLS_SERVICE_NAME (logs). Everything else comes with the event, so one
// function serves every slot of an environment.
import { Readable } from 'node:stream';
import { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchClient, MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  addCaptureObject,
  addGroundTruthObject,
  DEFAULT_LATE_LABEL_ALLOWANCE_SECONDS,
  emptyJoin,
  hourPrefixes,
  isProblemType,
  PROBLEM_TYPES,
  ProblemType,
  qualityReport,
  QualityReport,
} from '../shared/quality';

export { hourPrefixes } from '../shared/quality';

/** The namespace of the model quality metrics. */
export const MODEL_QUALITY_METRICS_NAMESPACE = 'cdk-mlops-maturity/ModelQuality';

/** Whole UTC hours: `start` (ISO 8601, on the hour) and the number of hours from it. */
export interface HourWindow {
  readonly start: string;
  readonly hours: number;
}

/** The longest window, in hours: PutMetricData takes timestamps up to two weeks old. */
export const MAX_WINDOW_HOURS = 168;

/** What a schedule (or a backfill) passes: the slot, where its data is, the problem and the windows. */
export interface ModelQualityEvent {
  readonly bucket: string;
  /** Where the endpoint captures to: `<prefix><endpoint>/<variant>/yyyy/mm/dd/hh/...`. */
  readonly capturePrefix: string;
  /** Where labels are uploaded: `<prefix><endpoint>/yyyy/mm/dd/hh/*.jsonl` (the store's `ground-truth/`). */
  readonly groundTruthPrefix: string;
  /** Where the report goes: `<prefix>model-quality/<endpoint>/<variant>/<windows>.json`. */
  readonly reportPrefix: string;
  readonly endpointName: string;
  readonly variantName: string;
  readonly problemType: ProblemType;
  /** The capture hours to evaluate. @default - `windowHours` hours ending `labelDelayHours` before the current hour */
  readonly captureWindow?: HourWindow;
  /** The ground-truth hours to read. @default - from the capture window's start to the current hour */
  readonly groundTruthWindow?: HourWindow;
  /** The invocation's time, ISO 8601 (a scheduled rule's `time`), for the default windows. @default - now */
  readonly time?: string;
  /** The default capture window's length, in hours (1-24). @default 1 */
  readonly windowHours?: number;
  /** How many hours (0-144) the default capture window ends before the current hour, to wait for labels. @default 0 */
  readonly labelDelayHours?: number;
  /** A label dated more than this after its inference counts as late. @default 86400 */
  readonly lateLabelAllowanceSeconds?: number;
  /** Binary classification: a score above this predicts 1. @default 0.5 */
  readonly probabilityThreshold?: number;
}

export interface ModelQualityResult {
  readonly captureObjects: number;
  readonly groundTruthObjects: number;
  readonly reportKey: string;
  readonly report: QualityReport;
}

const logger = new Logger();
const s3 = new S3Client({});
const cloudWatch = new CloudWatchClient({});

const HOUR_MS = 3600_000;

interface Window {
  readonly start: Date;
  readonly hours: number;
}

const end = (window: Window) => new Date(window.start.getTime() + window.hours * HOUR_MS);

function parseWindow(value: HourWindow | undefined): Window | undefined | 'invalid' {
  if (value === undefined) return undefined;
  const start = typeof value?.start === 'string' ? new Date(value.start) : new Date(NaN);
  const valid =
    !Number.isNaN(start.getTime()) &&
    start.getTime() % HOUR_MS === 0 &&
    Number.isInteger(value.hours) &&
    value.hours >= 1 &&
    value.hours <= MAX_WINDOW_HOURS;
  return valid ? { start, hours: value.hours } : 'invalid';
}

/** The event's windows: as given, or derived from its time. Throws naming every invalid field. */
export function windowsOf(event: ModelQualityEvent, now: Date): { capture: Window; groundTruth: Window } {
  const strings = [
    'bucket',
    'capturePrefix',
    'groundTruthPrefix',
    'reportPrefix',
    'endpointName',
    'variantName',
  ];
  // The prefixes may be empty (the bucket's root); the names may not.
  const invalid: string[] = strings.filter((k) => {
    const value = (event as unknown as Record<string, unknown>)?.[k];
    return typeof value !== 'string' || (!k.endsWith('Prefix') && value === '');
  });
  if (!isProblemType(event?.problemType)) invalid.push('problemType');
  const integer = (k: 'windowHours' | 'labelDelayHours', min: number, max: number) => {
    const value = event?.[k];
    if (value !== undefined && !(Number.isInteger(value) && value >= min && value <= max)) invalid.push(k);
  };
  integer('windowHours', 1, 24);
  integer('labelDelayHours', 0, MAX_WINDOW_HOURS - 24);
  const allowance = event?.lateLabelAllowanceSeconds;
  if (allowance !== undefined && !(Number.isInteger(allowance) && allowance >= 0)) {
    invalid.push('lateLabelAllowanceSeconds');
  }
  const threshold = event?.probabilityThreshold;
  if (threshold !== undefined && !(typeof threshold === 'number' && threshold > 0 && threshold < 1)) {
    invalid.push('probabilityThreshold');
  }
  if (Number.isNaN(now.getTime())) invalid.push('time');
  const capture = parseWindow(event?.captureWindow);
  const groundTruth = parseWindow(event?.groundTruthWindow);
  if (capture === 'invalid') invalid.push('captureWindow');
  if (groundTruth === 'invalid') invalid.push('groundTruthWindow');
  if (invalid.length > 0) {
    throw new Error(
      `model quality event needs ${strings.join(', ')} as strings, problemType ${PROBLEM_TYPES.join(' or ')}; ` +
        'when given: windowHours 1-24, labelDelayHours 0-144, lateLabelAllowanceSeconds a whole number >= 0, ' +
        `probabilityThreshold between 0 and 1, time ISO 8601, captureWindow and groundTruthWindow ` +
        `{ start: an ISO 8601 time on the hour, hours: 1-${MAX_WINDOW_HOURS} }; invalid: ${invalid.join(', ')}`,
    );
  }
  const currentHour = new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS);
  const hours = event.windowHours ?? 1;
  const delay = event.labelDelayHours ?? 0;
  const defaultCapture = {
    start: new Date(currentHour.getTime() - (delay + hours) * HOUR_MS),
    hours,
  };
  const captureWindow = (capture as Window | undefined) ?? defaultCapture;
  const defaultGroundTruth = {
    start: captureWindow.start,
    hours: Math.min(
      MAX_WINDOW_HOURS,
      Math.max(1, Math.round((currentHour.getTime() - captureWindow.start.getTime()) / HOUR_MS)),
    ),
  };
  return { capture: captureWindow, groundTruth: (groundTruth as Window | undefined) ?? defaultGroundTruth };
}

interface Listed {
  readonly key: string;
  readonly lastModified?: Date;
}

async function list(bucket: string, prefix: string): Promise<Listed[]> {
  const objects: Listed[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) {
      if (o.Key) objects.push({ key: o.Key, lastModified: o.LastModified });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return objects;
}

async function listWindow(bucket: string, prefixes: string[]): Promise<Listed[]> {
  // Prefixes in time order, keys within a prefix in S3's (UTF-8 binary) order: "first" is stable.
  return (await Promise.all(prefixes.map((p) => list(bucket, p)))).flat();
}

async function body(bucket: string, key: string): Promise<{ stream: Readable; lastModified?: Date }> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  // Streamed: memory stays bounded by the longest line, whatever the object's size.
  return { stream: object.Body as Readable, lastModified: object.LastModified };
}

const isoHour = (date: Date) => date.toISOString().replace(':00.000Z', 'Z');

/** The report's key: the slot and both windows, so a retry of the same event overwrites it. */
export function reportKey(event: ModelQualityEvent, capture: Window, groundTruth: Window): string {
  return (
    `${event.reportPrefix}model-quality/${event.endpointName}/${event.variantName}/` +
    `capture-${isoHour(capture.start)}-${capture.hours}h_ground-truth-${isoHour(groundTruth.start)}-${groundTruth.hours}h.json`
  );
}

/** The CloudWatch metrics of a report, at `at` (the capture window's end). */
export function qualityMetrics(event: ModelQualityEvent, report: QualityReport, at: Date): MetricDatum[] {
  const dimensions = [
    { Name: 'EndpointName', Value: event.endpointName },
    { Name: 'VariantName', Value: event.variantName },
  ];
  const datum = (name: string, value: number, unit: 'Count' | 'None' = 'Count'): MetricDatum => ({
    MetricName: name,
    Dimensions: dimensions,
    Value: value,
    Unit: unit,
    Timestamp: at,
  });
  const metrics = [
    datum('MatchedLabels', report.matchedLabels),
    datum('UnmatchedLabels', report.unmatchedLabels),
    datum('UnmatchedPredictions', report.unmatchedPredictions),
    datum('DuplicateLabels', report.duplicateLabels),
    datum('DuplicatePredictions', report.duplicatePredictions),
    datum('LateLabels', report.lateLabels),
    datum('MalformedLines', report.malformedLines),
    datum('UnreadableObjects', report.unreadableObjects),
    datum('EmptyWindows', report.empty ? 1 : 0),
  ];
  // A metric without a value (no pair, no positive class) is left out: CloudWatch takes no null.
  const quality: [string, number | null][] =
    'rmse' in report.metrics
      ? [
          ['Rmse', report.metrics.rmse],
          ['Mae', report.metrics.mae],
        ]
      : [
          ['Accuracy', report.metrics.accuracy],
          ['F1', report.metrics.f1],
        ];
  for (const [name, value] of quality) if (value !== null) metrics.push(datum(name, value, 'None'));
  return metrics;
}

export async function handler(event: ModelQualityEvent): Promise<ModelQualityResult> {
  const now = event?.time !== undefined ? new Date(event.time) : new Date();
  const windows = windowsOf(event, now);
  const capturePrefixes = hourPrefixes(
    `${event.capturePrefix}${event.endpointName}/${event.variantName}/`,
    windows.capture,
  );
  const groundTruthPrefixes = hourPrefixes(
    `${event.groundTruthPrefix}${event.endpointName}/`,
    windows.groundTruth,
  );
  const [captures, labels] = await Promise.all([
    listWindow(event.bucket, capturePrefixes),
    listWindow(event.bucket, groundTruthPrefixes),
  ]);

  // One join for the window, read object by object in order: the first prediction or label of an id wins.
  const join = emptyJoin(event.problemType);
  for (const { key } of captures) {
    await addCaptureObject(join, (await body(event.bucket, key)).stream);
  }
  for (const { key, lastModified } of labels) {
    const object = await body(event.bucket, key);
    await addGroundTruthObject(join, object.stream, object.lastModified ?? lastModified);
  }
  const report = qualityReport(join, {
    lateLabelAllowanceSeconds: event.lateLabelAllowanceSeconds ?? DEFAULT_LATE_LABEL_ALLOWANCE_SECONDS,
    probabilityThreshold: event.probabilityThreshold,
  });

  const metrics = qualityMetrics(event, report, end(windows.capture));
  await cloudWatch.send(
    new PutMetricDataCommand({ Namespace: MODEL_QUALITY_METRICS_NAMESPACE, MetricData: metrics }),
  );

  const key = reportKey(event, windows.capture, windows.groundTruth);
  const window = (w: Window, prefixes: string[], objects: number) => ({
    start: w.start.toISOString(),
    end: end(w).toISOString(),
    prefixes,
    objects,
  });
  await s3.send(
    new PutObjectCommand({
      Bucket: event.bucket,
      Key: key,
      ContentType: 'application/json',
      Body: JSON.stringify(
        {
          endpointName: event.endpointName,
          variantName: event.variantName,
          window: {
            capture: window(windows.capture, capturePrefixes, captures.length),
            groundTruth: window(windows.groundTruth, groundTruthPrefixes, labels.length),
          },
          ...report,
        },
        null,
        2,
      ),
    }),
  );
  logger.info('model quality job', {
    endpointName: event.endpointName,
    variantName: event.variantName,
    captureObjects: captures.length,
    groundTruthObjects: labels.length,
    matchedLabels: report.matchedLabels,
    empty: report.empty,
  });
  return { captureObjects: captures.length, groundTruthObjects: labels.length, reportKey: key, report };
}
