/**
 * SageMaker data capture records (JSON Lines, one inference per line) parsed into rows of feature
 * values. Problems are classified and counted, never thrown: one bad line never stops a window.
 */
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { Baseline } from './baseline';
import { CaptureScanner } from './capture-scan';

/** Why a line, or one record of a line, was left out of the window. */
export const PROBLEM_KINDS = [
  /** The line is not JSON. */
  'malformedJson',
  /** The line has no `captureData.endpointInput` with a string `data`. */
  'missingCaptureData',
  /** `encoding` is not CSV, JSON or BASE64, or a BASE64 payload's content type is neither CSV nor JSON. */
  'unknownEncoding',
  /** The payload cannot be decoded: invalid base64, invalid JSON, or JSON that is neither a row nor rows. */
  'malformedPayload',
  /** A record has more or fewer values than the model has features (an object: a feature is missing). */
  'wrongFieldCount',
  /** A numeric feature's value is not a finite number. */
  'nonNumericValue',
  /** A categorical feature's value is empty, null or not a scalar. */
  'missingValue',
] as const;
export type ProblemKind = (typeof PROBLEM_KINDS)[number];
export type ProblemCounts = Record<ProblemKind, number>;

export function noProblems(): ProblemCounts {
  return Object.fromEntries(PROBLEM_KINDS.map((kind) => [kind, 0])) as ProblemCounts;
}

/** One record's values, aligned with `baseline.features`: numbers for numeric, strings for categorical. */
export type FeatureRow = (number | string)[];

/** What one capture line yields: its records' rows, and one problem per record (or line) left out. */
export interface CaptureParse {
  readonly rows: FeatureRow[];
  readonly problems: ProblemKind[];
  /**
   * The request's `eventMetadata.inferenceId` (the id the caller passed to InvokeEndpoint, which
   * ground truth is joined on), when the line is JSON and has one as a string.
   */
  readonly inferenceId?: string;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A category as the baseline writes it: integers without a fraction ("132", also for "132.0"). */
function category(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  return DECIMAL.test(text) ? String(Number(text)) : text;
}

function numeric(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (!DECIMAL.test(text)) return undefined;
  const parsed = Number(text);
  return Number.isFinite(parsed) ? parsed : undefined;
}

/** One record's values, in feature order, into a row; or the problem that leaves it out. */
function toRow(values: readonly unknown[], baseline: Baseline): FeatureRow | ProblemKind {
  if (values.length !== baseline.features.length) return 'wrongFieldCount';
  const row: FeatureRow = [];
  for (let i = 0; i < values.length; i++) {
    const feature = baseline.features[i];
    if (feature.kind === 'numeric') {
      const value = numeric(values[i]);
      if (value === undefined) return 'nonNumericValue';
      row.push(value);
    } else {
      const value = category(values[i]);
      if (value === undefined) return 'missingValue';
      row.push(value);
    }
  }
  return row;
}

function add(result: { rows: FeatureRow[]; problems: ProblemKind[] }, row: FeatureRow | ProblemKind): void {
  if (typeof row === 'string') result.problems.push(row);
  else result.rows.push(row);
}

/** CSV: one record per line of the payload, comma-separated, unquoted, in feature order. */
function parseCsv(payload: string, baseline: Baseline): CaptureParse {
  const result = { rows: [] as FeatureRow[], problems: [] as ProblemKind[] };
  for (const record of payload.split(/\r?\n/)) {
    if (record.trim() === '') continue;
    add(result, toRow(record.split(','), baseline));
  }
  if (result.rows.length === 0 && result.problems.length === 0) result.problems.push('wrongFieldCount');
  return result;
}

/** JSON: an array of values in feature order, an object keyed by feature name, or an array of either. */
function parseJson(payload: string, baseline: Baseline): CaptureParse {
  let body: unknown;
  try {
    body = JSON.parse(payload);
  } catch {
    return { rows: [], problems: ['malformedPayload'] };
  }
  const record = (value: unknown): FeatureRow | ProblemKind => {
    if (Array.isArray(value)) return toRow(value, baseline);
    if (isObject(value)) {
      if (!baseline.features.every((feature) => feature.name in value)) return 'wrongFieldCount';
      return toRow(
        baseline.features.map((feature) => value[feature.name]),
        baseline,
      );
    }
    return 'malformedPayload';
  };
  const result = { rows: [] as FeatureRow[], problems: [] as ProblemKind[] };
  const several =
    Array.isArray(body) && body.length > 0 && body.every((v) => Array.isArray(v) || isObject(v));
  for (const value of several ? (body as unknown[]) : [body]) add(result, record(value));
  return result;
}

function contentKind(contentType: unknown): 'csv' | 'json' | undefined {
  if (typeof contentType !== 'string') return undefined;
  const type = contentType.toLowerCase();
  if (type.includes('csv')) return 'csv';
  if (type.includes('json')) return 'json';
  return undefined;
}

/** Parses one capture line (its `captureData.endpointInput`) into rows of feature values, with JSON.parse. */
export function parseCaptureLine(line: string, baseline: Baseline): CaptureParse {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return { rows: [], problems: ['malformedJson'] };
  }
  const metadata = isObject(record) ? record.eventMetadata : undefined;
  const inferenceId = isObject(metadata) ? metadata.inferenceId : undefined;
  const parse = parseInput(record, baseline);
  return typeof inferenceId === 'string' ? { ...parse, inferenceId } : parse;
}

function parseInput(record: unknown, baseline: Baseline): CaptureParse {
  const input =
    isObject(record) && isObject(record.captureData) ? record.captureData.endpointInput : undefined;
  if (!isObject(input) || typeof input.data !== 'string')
    return { rows: [], problems: ['missingCaptureData'] };
  const encoding = typeof input.encoding === 'string' ? input.encoding.toUpperCase() : undefined;
  if (encoding === 'CSV') return parseCsv(input.data, baseline);
  if (encoding === 'JSON') return parseJson(input.data, baseline);
  if (encoding !== 'BASE64') return { rows: [], problems: ['unknownEncoding'] };
  const kind = contentKind(input.observedContentType);
  if (kind === undefined) return { rows: [], problems: ['unknownEncoding'] };
  const compact = input.data.replace(/\s+/g, '');
  if (compact.length % 4 === 1 || !BASE64.test(compact)) return { rows: [], problems: ['malformedPayload'] };
  const payload = Buffer.from(compact, 'base64').toString('utf8');
  return kind === 'csv' ? parseCsv(payload, baseline) : parseJson(payload, baseline);
}

/**
 * Parses one capture line given as bytes (or as text, encoded as UTF-8): the fast path
 * (capture-scan.ts) when the line has the common shape, else `parseCaptureLine`. Both give the same
 * parse for every line.
 */
export function parseCaptureBytes(line: Uint8Array | string, baseline: Baseline): CaptureParse {
  const bytes = typeof line === 'string' ? Buffer.from(line, 'utf8') : Buffer.from(line);
  const scanner = new CaptureScanner(baseline);
  const withBreak = Buffer.concat([bytes, Buffer.from([NEWLINE])]);
  if (scanner.scan(withBreak, 0) === withBreak.length) return scanner.parse();
  return parseCaptureLine(bytes.toString('utf8'), baseline);
}

const GZIP_MAGIC = [0x1f, 0x8b];

/**
 * The stream's bytes, gunzipped when they start with the gzip magic bytes. A plain stream's chunks
 * are passed on as they come, through no other stream.
 */
async function* decompressed(source: Readable): AsyncGenerator<Buffer> {
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const head: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < GZIP_MAGIC.length) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    head.push(chunk);
    length += chunk.length;
  }
  const first = Buffer.concat(head);
  async function* bytes(): AsyncGenerator<Buffer> {
    if (first.length > 0) yield first;
    if (done) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    }
  }
  if (first[0] !== GZIP_MAGIC[0] || first[1] !== GZIP_MAGIC[1]) {
    yield* bytes();
    return;
  }
  const raw = Readable.from(bytes(), { objectMode: false });
  const gunzip = zlib.createGunzip();
  raw.on('error', (error) => gunzip.destroy(error));
  raw.pipe(gunzip);
  yield* gunzip as AsyncIterable<Buffer>;
}

const NEWLINE = 0x0a;
const RETURN = 0x0d;

/**
 * The lines of `bytes` from `start` to the line break at `end`, decoded as UTF-8, split as readline
 * splits them (a lone carriage return ends a line too), blank ones left out.
 */
function textLines(bytes: Buffer, start: number, end: number, visit: (line: string) => void): void {
  const stop = end > start && bytes[end - 1] === RETURN ? end - 1 : end;
  const text = bytes.toString('utf8', start, stop);
  for (const line of text.includes('\r') ? text.split('\r') : [text]) {
    if (line.trim() !== '') visit(line);
  }
}

/**
 * Reads a capture object (plain or gzipped JSON Lines, told apart by its magic bytes) line by line,
 * as readline would split it (line feed, carriage return and line feed, or a lone carriage return;
 * blank lines skipped). Each line goes first to `fast(bytes, start)`, with `bytes` a buffer of whole
 * lines and `start` the line's offset in it: it returns the offset after the line's break when it
 * took the line, or -1. Lines it does not take go to `slow`, decoded as UTF-8. Memory holds one
 * chunk of the stream and the line that spans its end, so it is bounded by the chunk size and the
 * longest line, not by the object. Rejects when the stream fails (e.g. a corrupt gzip).
 */
export async function readCaptureLines(
  source: Readable,
  fast: (bytes: Buffer, start: number) => number,
  slow: (line: string) => void,
): Promise<void> {
  const input = decompressed(source);
  // `bytes` ends with a line break: its lines are read in place, without a copy.
  const visit = (bytes: Buffer) => {
    let start = 0;
    while (start < bytes.length) {
      const next = fast(bytes, start);
      if (next >= 0) {
        start = next;
        continue;
      }
      const end = bytes.indexOf(NEWLINE, start);
      textLines(bytes, start, end, slow);
      start = end + 1;
    }
  };
  // The part of a line that a chunk ends in, until the chunk with its line break arrives.
  let carry: Buffer[] = [];
  for await (const bytes of input) {
    let from = 0;
    if (carry.length > 0) {
      const first = bytes.indexOf(NEWLINE);
      if (first < 0) {
        carry.push(bytes);
        continue;
      }
      // Only the line that spans chunks is copied, not the chunk.
      visit(Buffer.concat([...carry, bytes.subarray(0, first + 1)]));
      carry = [];
      from = first + 1;
    }
    const last = bytes.lastIndexOf(NEWLINE);
    if (last + 1 > from) visit(bytes.subarray(from, last + 1));
    const rest = Math.max(from, last + 1);
    if (rest < bytes.length) carry = [Buffer.from(bytes.subarray(rest))];
  }
  if (carry.length > 0) visit(Buffer.concat([...carry, Buffer.from([NEWLINE])]));
}

/**
 * Reads a capture object line by line (see `readCaptureLines`) and hands each non-blank line's
 * parse to `sink`: the fast path's for lines of the common shape, `parseCaptureLine`'s for the
 * rest. Problems within lines are counted by the sink, never thrown.
 */
export async function readCapture(
  source: Readable,
  baseline: Baseline,
  sink: (parse: CaptureParse) => void,
): Promise<void> {
  const scanner = new CaptureScanner(baseline);
  await readCaptureLines(
    source,
    (text, start) => {
      const next = scanner.scan(text, start);
      if (next >= 0) sink(scanner.parse());
      return next;
    },
    (line) => sink(parseCaptureLine(line, baseline)),
  );
}
