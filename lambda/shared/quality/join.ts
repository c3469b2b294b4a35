/**
 * The join of a window's predictions with its labels, by inference id, and its counters.
 *
 * Memory: streaming keeps one line at a time, but the join holds one entry per distinct id seen in
 * the window (prediction, label, their times), since a label may arrive in any object after its
 * prediction's. That map is the bound: one Map entry per id (the id string, its row number) and
 * one row of four doubles in a typed array grown by doubling. Measured on Node 20 with
 * 36-character UUIDs: 120 to 160 bytes per id, at most ~200 MB per million ids.
 *
 * Joins merge exactly: merging the joins of a window's parts (in the parts' order) equals the join
 * of the whole window read in one pass, so a distributed map can join per batch of objects and
 * merge the batches' joins (`joinToJson`, `parseJoin`, `mergeJoins`).
 */
import { Readable } from 'node:stream';
import { isUnreadableObject, readLines } from './lines';
import {
  isProblemType,
  MALFORMED_KINDS,
  MalformedCounts,
  MalformedKind,
  noMalformed,
  parseLabelLine,
  parsePredictionLine,
  ProblemType,
} from './records';

export const JOIN_VERSION = 1;

/** What the window holds for one inference id. */
export interface JoinEntry {
  readonly prediction?: number;
  /** Epoch milliseconds. */
  readonly inferenceTime?: number;
  readonly label?: number;
  /** Epoch milliseconds: the line's `labelTime`, else its object's LastModified. */
  readonly labelTime?: number;
}

/** Per id, four numbers in one row of a typed array (NaN: absent): ~3x smaller than an object per id. */
const FIELDS = 4;
const PREDICTION = 0;
const INFERENCE_TIME = 1;
const LABEL = 2;
const LABEL_TIME = 3;

/** The join map: ids to rows, in the order ids were first seen. */
export class JoinTable {
  public static copy(other: JoinTable): JoinTable {
    const table = new JoinTable(other.values.length / FIELDS);
    for (const [id, row] of other.rows) table.rows.set(id, row);
    table.values.set(other.values.subarray(0, other.rows.size * FIELDS));
    return table;
  }

  private readonly rows = new Map<string, number>();
  private values: Float64Array;

  public constructor(capacity = 256) {
    this.values = new Float64Array(Math.max(capacity, 1) * FIELDS).fill(NaN);
  }

  public get size(): number {
    return this.rows.size;
  }

  public get(id: string): JoinEntry | undefined {
    const row = this.rows.get(id);
    return row === undefined ? undefined : this.entry(row);
  }

  /** Sets the fields given (undefined: left as they are), adding the id when it is new. */
  public set(id: string, entry: JoinEntry): void {
    let row = this.rows.get(id);
    if (row === undefined) {
      row = this.rows.size;
      if ((row + 1) * FIELDS > this.values.length) {
        const grown = new Float64Array(this.values.length * 2).fill(NaN);
        grown.set(this.values);
        this.values = grown;
      }
      this.rows.set(id, row);
    }
    const at = row * FIELDS;
    if (entry.prediction !== undefined) this.values[at + PREDICTION] = entry.prediction;
    if (entry.inferenceTime !== undefined) this.values[at + INFERENCE_TIME] = entry.inferenceTime;
    if (entry.label !== undefined) this.values[at + LABEL] = entry.label;
    if (entry.labelTime !== undefined) this.values[at + LABEL_TIME] = entry.labelTime;
  }

  public *entries(): IterableIterator<[string, JoinEntry]> {
    for (const [id, row] of this.rows) yield [id, this.entry(row)];
  }

  private entry(row: number): JoinEntry {
    const at = row * FIELDS;
    const field = (offset: number) => {
      const value = this.values[at + offset];
      return Number.isNaN(value) ? undefined : value;
    };
    const entry: { -readonly [K in keyof JoinEntry]: JoinEntry[K] } = {};
    const prediction = field(PREDICTION);
    const inferenceTime = field(INFERENCE_TIME);
    const label = field(LABEL);
    const labelTime = field(LABEL_TIME);
    if (prediction !== undefined) entry.prediction = prediction;
    if (inferenceTime !== undefined) entry.inferenceTime = inferenceTime;
    if (label !== undefined) entry.label = label;
    if (labelTime !== undefined) entry.labelTime = labelTime;
    return entry;
  }
}

export interface QualityJoin {
  readonly problemType: ProblemType;
  /** Per inference id, in the order ids were first seen: read it with `joinEntries`. */
  readonly table: JoinTable;
  /** Non-blank capture lines read. */
  captureLines: number;
  /** Non-blank ground-truth lines read. */
  groundTruthLines: number;
  /** Predictions of an id that already had one (the first one wins). */
  duplicatePredictions: number;
  /** Labels of an id that already had one (the first one wins). */
  duplicateLabels: number;
  /** Objects whose bytes could not be read to the end (corrupt gzip); their lines before that count. */
  unreadableObjects: number;
  readonly malformed: { readonly capture: MalformedCounts; readonly groundTruth: MalformedCounts };
}

export function emptyJoin(problemType: ProblemType): QualityJoin {
  return {
    problemType,
    table: new JoinTable(),
    captureLines: 0,
    groundTruthLines: 0,
    duplicatePredictions: 0,
    duplicateLabels: 0,
    unreadableObjects: 0,
    malformed: { capture: noMalformed(), groundTruth: noMalformed() },
  };
}

/** The join's ids and what it holds for each, in the order ids were first seen. */
export function joinEntries(join: QualityJoin): IterableIterator<[string, JoinEntry]> {
  return join.table.entries();
}

/** The number of distinct ids in the join. */
export function joinSize(join: QualityJoin): number {
  return join.table.size;
}

/** Adds one capture line (SageMaker data capture JSON). */
export function addCaptureLine(join: QualityJoin, line: string): void {
  join.captureLines += 1;
  const prediction = parsePredictionLine(line, join.problemType);
  if (typeof prediction === 'string') {
    join.malformed.capture[prediction] += 1;
    return;
  }
  if (join.table.get(prediction.id)?.prediction !== undefined) {
    join.duplicatePredictions += 1;
    return;
  }
  join.table.set(prediction.id, { prediction: prediction.value, inferenceTime: prediction.inferenceTime });
}

/** Adds one ground-truth line; `objectTime` (its object's LastModified) dates a line without `labelTime`. */
export function addGroundTruthLine(join: QualityJoin, line: string, objectTime?: Date): void {
  join.groundTruthLines += 1;
  const label = parseLabelLine(line, join.problemType);
  if (typeof label === 'string') {
    join.malformed.groundTruth[label] += 1;
    return;
  }
  if (join.table.get(label.id)?.label !== undefined) {
    join.duplicateLabels += 1;
    return;
  }
  join.table.set(label.id, { label: label.value, labelTime: label.labelTime ?? objectTime?.getTime() });
}

async function addObject(source: Readable, add: (line: string) => void, join: QualityJoin): Promise<void> {
  try {
    await readLines(source, add);
  } catch (error) {
    if (!isUnreadableObject(error)) throw error;
    join.unreadableObjects += 1;
  }
}

/**
 * Adds a capture object (plain or gzipped JSON Lines). A corrupt object is counted in
 * `unreadableObjects`; other stream failures (network, S3) reject, so the caller can retry.
 */
export function addCaptureObject(join: QualityJoin, source: Readable): Promise<void> {
  return addObject(source, (line) => addCaptureLine(join, line), join);
}

/** Adds a ground-truth object (plain or gzipped JSON Lines), dated by its LastModified. */
export function addGroundTruthObject(
  join: QualityJoin,
  source: Readable,
  lastModified?: Date,
): Promise<void> {
  return addObject(source, (line) => addGroundTruthLine(join, line, lastModified), join);
}

function addCounts(target: MalformedCounts, more: MalformedCounts): void {
  for (const kind of MALFORMED_KINDS) target[kind] += more[kind];
}

function copyJoin(join: QualityJoin): QualityJoin {
  return {
    ...join,
    table: JoinTable.copy(join.table),
    malformed: { capture: { ...join.malformed.capture }, groundTruth: { ...join.malformed.groundTruth } },
  };
}

/** Folds `later` into `target`, as reading later's lines after target's would. */
function mergeInto(target: QualityJoin, later: QualityJoin): void {
  if (target.problemType !== later.problemType) {
    throw new Error(
      `joins of different problem types cannot be merged: ${target.problemType} and ${later.problemType}`,
    );
  }
  for (const [id, entry] of later.table.entries()) {
    const earlier = target.table.get(id);
    if (!earlier) {
      target.table.set(id, entry);
      continue;
    }
    if (entry.prediction !== undefined) {
      if (earlier.prediction !== undefined) target.duplicatePredictions += 1;
      else target.table.set(id, { prediction: entry.prediction, inferenceTime: entry.inferenceTime });
    }
    if (entry.label !== undefined) {
      if (earlier.label !== undefined) target.duplicateLabels += 1;
      else target.table.set(id, { label: entry.label, labelTime: entry.labelTime });
    }
  }
  target.captureLines += later.captureLines;
  target.groundTruthLines += later.groundTruthLines;
  target.duplicatePredictions += later.duplicatePredictions;
  target.duplicateLabels += later.duplicateLabels;
  target.unreadableObjects += later.unreadableObjects;
  addCounts(target.malformed.capture, later.malformed.capture);
  addCounts(target.malformed.groundTruth, later.malformed.groundTruth);
}

/**
 * The join of two consecutive parts of a window (`a` read before `b`): an id in both keeps a's
 * prediction and label where it has them, and each one b repeats counts as a duplicate, as one
 * pass over a then b does. Neither input changes.
 */
export function mergeJoins(a: QualityJoin, b: QualityJoin): QualityJoin {
  const merged = copyJoin(a);
  mergeInto(merged, b);
  return merged;
}

/** Merges the joins of a window's parts, in the parts' order (none: the empty join). None changes. */
export function mergeAllJoins(problemType: ProblemType, joins: readonly QualityJoin[]): QualityJoin {
  const merged = emptyJoin(problemType);
  for (const join of joins) mergeInto(merged, join);
  return merged;
}

/** A join as plain JSON: entries as `[id, prediction, inferenceTime, label, labelTime]`, null for absent. */
export interface QualityJoinJson {
  readonly version: typeof JOIN_VERSION;
  readonly problemType: ProblemType;
  readonly entries: [string, number | null, number | null, number | null, number | null][];
  readonly captureLines: number;
  readonly groundTruthLines: number;
  readonly duplicatePredictions: number;
  readonly duplicateLabels: number;
  readonly unreadableObjects: number;
  readonly malformed: { readonly capture: MalformedCounts; readonly groundTruth: MalformedCounts };
}

/**
 * The join as JSON. Entries are an array, not an object: JavaScript orders integer-like object
 * keys first, which would change the order ids were seen in.
 */
export function joinToJson(join: QualityJoin): QualityJoinJson {
  return {
    version: JOIN_VERSION,
    problemType: join.problemType,
    entries: [...join.table.entries()].map(([id, e]) => [
      id,
      e.prediction ?? null,
      e.inferenceTime ?? null,
      e.label ?? null,
      e.labelTime ?? null,
    ]),
    captureLines: join.captureLines,
    groundTruthLines: join.groundTruthLines,
    duplicatePredictions: join.duplicatePredictions,
    duplicateLabels: join.duplicateLabels,
    unreadableObjects: join.unreadableObjects,
    malformed: { capture: { ...join.malformed.capture }, groundTruth: { ...join.malformed.groundTruth } },
  };
}

function count(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new Error(`join ${field} must be a count (a non-negative integer), not ${JSON.stringify(value)}`);
  }
  return value;
}

function optionalNumber(value: unknown, field: string): number | undefined {
  if (value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`join ${field} must be a finite number or null, not ${JSON.stringify(value)}`);
  }
  return value;
}

function malformedCounts(value: unknown, field: string): MalformedCounts {
  const body = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const counts = noMalformed();
  for (const kind of MALFORMED_KINDS)
    counts[kind] = count(body[kind] ?? 0, `${field}.${kind as MalformedKind}`);
  return counts;
}

/** Reads a join back from `joinToJson`'s JSON, checking every field. */
export function parseJoin(json: unknown): QualityJoin {
  const body = json as Partial<Record<keyof QualityJoinJson, unknown>> | null;
  if (typeof body !== 'object' || body === null || body.version !== JOIN_VERSION) {
    throw new Error(`join must be an object with version ${JOIN_VERSION}`);
  }
  if (!isProblemType(body.problemType)) {
    throw new Error(
      `join problemType must be Regression or BinaryClassification, not ${JSON.stringify(body.problemType)}`,
    );
  }
  if (!Array.isArray(body.entries)) throw new Error('join entries must be an array');
  const table = new JoinTable(body.entries.length);
  body.entries.forEach((row: unknown, i) => {
    if (!Array.isArray(row) || row.length !== 5 || typeof row[0] !== 'string' || table.get(row[0])) {
      throw new Error(
        `join entries[${i}] must be [id, prediction, inferenceTime, label, labelTime] of a new id`,
      );
    }
    const [id, prediction, inferenceTime, label, labelTime] = row.map((v, k) =>
      k === 0 ? v : optionalNumber(v, `entries[${i}][${k}]`),
    ) as [string, number?, number?, number?, number?];
    if (prediction === undefined && label === undefined) {
      throw new Error(`join entries[${i}] holds neither a prediction nor a label`);
    }
    table.set(id, { prediction, inferenceTime, label, labelTime });
  });
  const malformed = (body.malformed ?? {}) as Record<string, unknown>;
  return {
    problemType: body.problemType,
    table,
    captureLines: count(body.captureLines, 'captureLines'),
    groundTruthLines: count(body.groundTruthLines, 'groundTruthLines'),
    duplicatePredictions: count(body.duplicatePredictions, 'duplicatePredictions'),
    duplicateLabels: count(body.duplicateLabels, 'duplicateLabels'),
    unreadableObjects: count(body.unreadableObjects, 'unreadableObjects'),
    malformed: {
      capture: malformedCounts(malformed.capture, 'malformed.capture'),
      groundTruth: malformedCounts(malformed.groundTruth, 'malformed.groundTruth'),
    },
  };
}
