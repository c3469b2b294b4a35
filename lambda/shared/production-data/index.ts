/**
 * A retraining window's production data: the requests a level-4 environment's endpoint captured,
 * joined by inference id with the ground-truth labels uploaded for them, as rows of the training
 * data's layout (the label, then the model's features in input order).
 *
 * It reuses the two engines that already read these files: the labels go into the model quality
 * join (lambda/shared/quality: SageMaker's ground-truth lines, duplicates and malformed lines
 * counted), and each captured request is parsed into feature values as the drift job parses it
 * (lambda/shared/drift). Pure TypeScript, no AWS SDK: the handler lists and streams S3 objects
 * into it.
 *
 * Memory: the labels of the window are held (one join entry per id, see join.ts); requests are
 * streamed line by line and each joined row is handed to the sink at once, so the requests' size
 * does not count. The ids of the rows written are kept too, so that a request captured twice is
 * written once.
 */
import { Readable } from 'node:stream';
import { Baseline, BaselineFeature, parseCaptureLine } from '../drift';
import {
  addGroundTruthObject,
  emptyJoin,
  isUnreadableObject,
  MALFORMED_KINDS,
  QualityJoin,
  readLines,
} from '../quality';

const HOUR_MS = 3600_000;
/** Labels are read from objects uploaded up to this long after the window's end (one week). */
export const LABEL_ALLOWANCE_HOURS = 168;

/** ISO 8601 with a date and a time, as the retrain trigger fills `{windowStart}` and `{windowEnd}`. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;
/** `.../yyyy/mm/dd/hh/<file>`: the UTC hour SageMaker writes capture and ground-truth objects under. */
const KEY_HOUR = /(?:^|\/)(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\/[^/]+$/;

/** A window of production traffic: requests captured from `start` (inclusive) to `end` (exclusive). */
export interface DataWindow {
  readonly start: Date;
  readonly end: Date;
}

/** A window argument is unusable; the message names it and says what to pass. */
export class ProductionDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProductionDataError';
  }
}

/**
 * The window of `DataWindowStart` and `DataWindowEnd`: undefined when both are empty (no
 * production data). Throws when one is missing or not ISO 8601, or when the end is not after the
 * start.
 */
export function parseDataWindow(start: unknown, end: unknown): DataWindow | undefined {
  const blank = (v: unknown) => v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
  if (blank(start) && blank(end)) return undefined;
  const fix =
    'pass both DataWindowStart and DataWindowEnd as ISO 8601 times (e.g. 2026-05-01T00:00:00Z), ' +
    'the end after the start, or both empty for no production data';
  const time = (name: string, value: unknown) => {
    if (typeof value !== 'string' || !ISO_TIME.test(value.trim())) {
      throw new ProductionDataError(
        `${name} ${JSON.stringify(value ?? null)} is not an ISO 8601 time: ${fix}`,
      );
    }
    return new Date(Date.parse(value.trim()));
  };
  const window = { start: time('DataWindowStart', start), end: time('DataWindowEnd', end) };
  if (!(window.end.getTime() > window.start.getTime())) {
    throw new ProductionDataError(
      `DataWindowEnd ${window.end.toISOString()} is not after DataWindowStart ${window.start.toISOString()}: ${fix}`,
    );
  }
  return window;
}

/** The UTC hour a capture or ground-truth key is filed under, or undefined for another key. */
export function keyHour(key: string): Date | undefined {
  const match = KEY_HOUR.exec(key);
  if (!match) return undefined;
  const [, y, m, d, h] = match.map(Number);
  const hour = new Date(Date.UTC(y, m - 1, d, h));
  // Date.UTC rolls 2026/02/30 over into March: such a key is not SageMaker's.
  return hour.getUTCMonth() === m - 1 && hour.getUTCDate() === d && hour.getUTCHours() === h
    ? hour
    : undefined;
}

/** A capture object belongs to the window when its hour overlaps it. */
export function isCaptureKeyInWindow(key: string, window: DataWindow): boolean {
  const hour = keyHour(key);
  return (
    hour !== undefined &&
    hour.getTime() < window.end.getTime() &&
    hour.getTime() + HOUR_MS > window.start.getTime()
  );
}

/**
 * A ground-truth object may hold the labels of the window's requests when it was filed from the
 * window's first hour to `LABEL_ALLOWANCE_HOURS` after its end: labels arrive after their requests.
 */
export function isGroundTruthKeyInWindow(key: string, window: DataWindow): boolean {
  const hour = keyHour(key);
  return (
    hour !== undefined &&
    hour.getTime() + HOUR_MS > window.start.getTime() &&
    hour.getTime() < window.end.getTime() + LABEL_ALLOWANCE_HOURS * HOUR_MS
  );
}

/** An S3 location: a bucket and a key prefix (empty: the bucket's root). */
export interface S3Location {
  readonly bucket: string;
  readonly prefix: string;
}

/** Where a level-4 environment's production data is (its SSM parameter's JSON, parsed). */
export interface ProductionDataLocation {
  readonly capture: S3Location;
  readonly groundTruth: S3Location;
  readonly kmsKeyArn?: string;
}

export function parseS3Url(url: string): S3Location | undefined {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!match) return undefined;
  const prefix = match[2] ?? '';
  return { bucket: match[1], prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/` };
}

/**
 * The location a level-4 environment publishes: `{"captureUrl","groundTruthUrl","kmsKeyArn"}`.
 * Throws naming the parameter and the field.
 */
export function parseProductionDataLocation(text: string, parameterName: string): ProductionDataLocation {
  const problem = (what: string) =>
    new ProductionDataError(
      `SSM parameter '${parameterName}' ${what}: it must hold {"captureUrl": "s3://...", ` +
        '"groundTruthUrl": "s3://...", "kmsKeyArn": "..."}, as the level-4 environment publishes it',
    );
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw problem('is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw problem('is not a JSON object');
  const record = body as Record<string, unknown>;
  const location = (field: string) => {
    const value = record[field];
    const parsed = typeof value === 'string' ? parseS3Url(value) : undefined;
    if (!parsed) throw problem(`${field} ${JSON.stringify(value ?? null)} is not an s3:// URL`);
    return parsed;
  };
  const kmsKeyArn = record.kmsKeyArn;
  if (kmsKeyArn !== undefined && kmsKeyArn !== null && typeof kmsKeyArn !== 'string') {
    throw problem(`kmsKeyArn ${JSON.stringify(kmsKeyArn)} is not a string`);
  }
  return {
    capture: location('captureUrl'),
    groundTruth: location('groundTruthUrl'),
    ...(typeof kmsKeyArn === 'string' && kmsKeyArn !== '' ? { kmsKeyArn } : {}),
  };
}

/** The training data's columns: the label, then the model's input features in order. */
export interface TrainingLayout {
  readonly label: string;
  /** The model's input columns, in order: a captured CSV request's column i is `features[i]`. */
  readonly features: readonly string[];
  /** Those of `features` that are categories (any non-empty value); the others must be numbers. */
  readonly categoricalFeatures: readonly string[];
}

/** Why a capture line gave no row, beyond the drift parser's reasons. */
export type CaptureProblem =
  | 'malformedJson'
  | 'missingCaptureData'
  | 'unknownEncoding'
  | 'malformedPayload'
  | 'wrongFieldCount'
  | 'nonNumericValue'
  | 'missingValue'
  /** No `eventMetadata.inferenceId`: the request cannot be joined with a label. */
  | 'missingId'
  /** Several records under one inference id, which has one label. */
  | 'multipleRecords';

/** What the assembly counted. */
export interface ProductionDataCounts {
  /** Rows written: requests with a label. */
  joinedRows: number;
  /** Requests parsed whose inference id has no label in the window. */
  unmatchedRequests: number;
  /** Requests of an id already written (SageMaker may capture a retried request twice). */
  duplicateRequests: number;
  /** Capture lines left out, by reason. */
  readonly malformedCapture: Record<CaptureProblem, number>;
  /** Capture and ground-truth objects whose bytes could not be read to the end (corrupt gzip). */
  unreadableObjects: number;
  captureObjects: number;
  groundTruthObjects: number;
}

/** Capture and ground-truth lines left out, in all. */
export function malformedLines(counts: ProductionDataCounts, labels: QualityJoin): number {
  const capture = Object.values(counts.malformedCapture).reduce((a, b) => a + b, 0);
  const groundTruth = MALFORMED_KINDS.reduce((sum, kind) => sum + labels.malformed.groundTruth[kind], 0);
  return capture + groundTruth;
}

function layoutBaseline(layout: TrainingLayout): Baseline {
  // The drift parser reads a feature's kind and name only; the distributions are not used here.
  const features: BaselineFeature[] = layout.features.map((name) =>
    layout.categoricalFeatures.includes(name)
      ? { kind: 'categorical', name, categories: [], proportions: [], other: 1 }
      : { kind: 'numeric', name, innerEdges: [], proportions: [1], mean: 0, std: 0 },
  );
  return { schemaVersion: 1, rows: 0, label: layout.label, features };
}

/** A CSV field; the values here are numbers and category names, quoted only when they need it. */
function csvField(value: number | string): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Joins a window's captured requests with their labels into training rows. Add every ground-truth
 * object first (`addGroundTruthObject`), then stream the capture objects (`addCaptureObject`).
 */
export class ProductionDataAssembly {
  public readonly labels: QualityJoin = emptyJoin('Regression');
  public readonly counts: ProductionDataCounts = {
    joinedRows: 0,
    unmatchedRequests: 0,
    duplicateRequests: 0,
    malformedCapture: {
      malformedJson: 0,
      missingCaptureData: 0,
      unknownEncoding: 0,
      malformedPayload: 0,
      wrongFieldCount: 0,
      nonNumericValue: 0,
      missingValue: 0,
      missingId: 0,
      multipleRecords: 0,
    },
    unreadableObjects: 0,
    captureObjects: 0,
    groundTruthObjects: 0,
  };
  private readonly baseline: Baseline;
  private readonly written = new Set<string>();

  constructor(public readonly layout: TrainingLayout) {
    const unknown = layout.categoricalFeatures.filter((c) => !layout.features.includes(c));
    if (layout.label === '' || layout.features.length === 0 || unknown.length > 0) {
      throw new ProductionDataError(
        `the training layout needs a label and at least one feature, its categorical features among them; ` +
          `got label ${JSON.stringify(layout.label)}, features ${JSON.stringify(layout.features)}, ` +
          `categorical ${JSON.stringify(layout.categoricalFeatures)}`,
      );
    }
    this.baseline = layoutBaseline(layout);
  }

  /** The CSV header: the label, then the features. */
  public header(): string {
    return [this.layout.label, ...this.layout.features].map(csvField).join(',');
  }

  /** Adds a ground-truth object (JSON Lines, plain or gzipped): its labels, by inference id. */
  public async addGroundTruthObject(source: Readable, lastModified?: Date): Promise<void> {
    this.counts.groundTruthObjects += 1;
    const before = this.labels.unreadableObjects;
    await addGroundTruthObject(this.labels, source, lastModified);
    this.counts.unreadableObjects += this.labels.unreadableObjects - before;
  }

  /**
   * Streams a capture object (JSON Lines, plain or gzipped): each request with a label becomes one
   * CSV line (without its line break) handed to `sink`. A corrupt object is counted, its lines
   * before the damage kept; other stream failures reject, so that the caller can retry.
   */
  public async addCaptureObject(source: Readable, sink: (row: string) => void): Promise<void> {
    this.counts.captureObjects += 1;
    try {
      await readLines(source, (line) => {
        const row = this.captureRow(line);
        if (row !== undefined) sink(row);
      });
    } catch (error) {
      if (!isUnreadableObject(error)) throw error;
      this.counts.unreadableObjects += 1;
    }
  }

  /** One capture line's training row, or undefined (counted) when it gives none. */
  public captureRow(line: string): string | undefined {
    const parse = parseCaptureLine(line, this.baseline);
    const malformed = this.counts.malformedCapture;
    if (parse.problems.length > 0 && parse.rows.length === 0) {
      malformed[parse.problems[0]] += 1;
      return undefined;
    }
    if (parse.rows.length + parse.problems.length > 1) {
      malformed.multipleRecords += 1;
      return undefined;
    }
    if (parse.inferenceId === undefined || parse.inferenceId === '') {
      malformed.missingId += 1;
      return undefined;
    }
    const label = this.labels.table.get(parse.inferenceId)?.label;
    if (label === undefined) {
      this.counts.unmatchedRequests += 1;
      return undefined;
    }
    if (this.written.has(parse.inferenceId)) {
      this.counts.duplicateRequests += 1;
      return undefined;
    }
    this.written.add(parse.inferenceId);
    this.counts.joinedRows += 1;
    return [label, ...parse.rows[0]].map(csvField).join(',');
  }
}
