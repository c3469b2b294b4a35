/**
 * The two sides of the join, one JSON line each: a captured prediction (SageMaker data capture)
 * and a ground-truth label (SageMaker's ground-truth merge shape). A line that cannot be used is
 * classified, never thrown.
 */

/** The problems this engine measures; SageMaker's model quality `ProblemType` names. */
export const PROBLEM_TYPES = ['Regression', 'BinaryClassification'] as const;
export type ProblemType = (typeof PROBLEM_TYPES)[number];

export function isProblemType(value: unknown): value is ProblemType {
  return typeof value === 'string' && (PROBLEM_TYPES as readonly string[]).includes(value);
}

/** Why a line was left out of the join. Capture and ground-truth lines share the classes. */
export const MALFORMED_KINDS = [
  /** The line is not a JSON object. */
  'malformedJson',
  /** No id: capture without `eventMetadata.inferenceId` or `eventId`, a label without `eventMetadata.eventId`. */
  'missingId',
  /** No `captureData.endpointOutput`, or no `groundTruthData`, with a string `data`. */
  'missingData',
  /** `encoding` is not CSV, JSON or BASE64, or a BASE64 capture's content type is neither CSV nor JSON. */
  'unknownEncoding',
  /** The payload is not one value: invalid base64 or JSON, several CSV fields or records, an empty array. */
  'malformedPayload',
  /** The value is not a finite number. */
  'nonNumericValue',
  /** Binary classification: a label other than 0 or 1, or a score outside [0, 1]. */
  'invalidClass',
  /** `inferenceTime` or `labelTime` is present but not an ISO 8601 time. */
  'invalidTime',
] as const;
export type MalformedKind = (typeof MALFORMED_KINDS)[number];
export type MalformedCounts = Record<MalformedKind, number>;

export function noMalformed(): MalformedCounts {
  return Object.fromEntries(MALFORMED_KINDS.map((kind) => [kind, 0])) as MalformedCounts;
}

/** One captured inference's output. */
export interface Prediction {
  /** The caller's `inferenceId`, or SageMaker's `eventId` when the caller passed none (SageMaker's rule). */
  readonly id: string;
  readonly value: number;
  /** `eventMetadata.inferenceTime`, epoch milliseconds; undefined when the record has none. */
  readonly inferenceTime?: number;
}

/** One ground-truth label. */
export interface Label {
  /** `eventMetadata.eventId`: the inference id the client passed to InvokeEndpoint. */
  readonly id: string;
  readonly value: number;
  /** `eventMetadata.labelTime`, epoch milliseconds; undefined when the line has none. */
  readonly labelTime?: number;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** ISO 8601 with a date and a time, as SageMaker writes `inferenceTime` (`2026-12-01T10:00:00Z`). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseObject(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** An optional time: undefined when absent, NaN when present but not a time. */
function timeOf(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !ISO_TIME.test(value)) return NaN;
  return Date.parse(value);
}

function idOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function numberOf(text: string): number | MalformedKind {
  const trimmed = text.trim();
  if (!DECIMAL.test(trimmed)) return 'nonNumericValue';
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : 'nonNumericValue';
}

/** CSV: one record of one field. */
function csvValue(payload: string): number | MalformedKind {
  const records = payload.split(/\r?\n/).filter((r) => r.trim() !== '');
  if (records.length !== 1 || records[0].includes(',')) return 'malformedPayload';
  return numberOf(records[0]);
}

/**
 * JSON: a number or numeric string, or one of them wrapped as the built-in algorithms answer:
 * a one-element array, `{"predictions": [...]}`, `{"score": ...}`, `{"predicted_label": ...}`,
 * `{"label": ...}` (in that order of preference).
 */
function jsonValue(value: unknown, depth = 0): number | MalformedKind {
  if (typeof value === 'number') return Number.isFinite(value) ? value : 'nonNumericValue';
  if (typeof value === 'string') return numberOf(value);
  if (depth >= 4) return 'malformedPayload';
  if (Array.isArray(value)) return value.length === 1 ? jsonValue(value[0], depth + 1) : 'malformedPayload';
  if (isObject(value)) {
    for (const key of ['predictions', 'score', 'predicted_label', 'label']) {
      if (key in value) return jsonValue(value[key], depth + 1);
    }
    return 'malformedPayload';
  }
  return 'nonNumericValue';
}

function payloadValue(
  data: string,
  encoding: unknown,
  contentType: unknown,
  defaultBase64Kind: 'csv' | 'json' | undefined,
): number | MalformedKind {
  const kind = typeof encoding === 'string' ? encoding.toUpperCase() : undefined;
  const json = (text: string) => {
    try {
      return jsonValue(JSON.parse(text));
    } catch {
      return 'malformedPayload' as const;
    }
  };
  if (kind === 'CSV') return csvValue(data);
  if (kind === 'JSON') return json(data);
  if (kind !== 'BASE64') return 'unknownEncoding';
  const type = typeof contentType === 'string' ? contentType.toLowerCase() : '';
  const decodeAs = type.includes('csv') ? 'csv' : type.includes('json') ? 'json' : defaultBase64Kind;
  if (decodeAs === undefined) return 'unknownEncoding';
  const compact = data.replace(/\s+/g, '');
  if (compact.length % 4 === 1 || !BASE64.test(compact)) return 'malformedPayload';
  const text = Buffer.from(compact, 'base64').toString('utf8');
  return decodeAs === 'csv' ? csvValue(text) : json(text);
}

/** A score (or a 0/1 predicted label) of a binary classifier is a probability. */
function checkPrediction(value: number, problemType: ProblemType): number | MalformedKind {
  return problemType === 'BinaryClassification' && !(value >= 0 && value <= 1) ? 'invalidClass' : value;
}

function checkLabel(value: number, problemType: ProblemType): number | MalformedKind {
  return problemType === 'BinaryClassification' && value !== 0 && value !== 1 ? 'invalidClass' : value;
}

/**
 * A capture line's prediction: `captureData.endpointOutput.data` (CSV, JSON, or BASE64 of either
 * by `observedContentType`), keyed by `eventMetadata.inferenceId`, else `eventMetadata.eventId`.
 */
export function parsePredictionLine(line: string, problemType: ProblemType): Prediction | MalformedKind {
  const record = parseObject(line);
  if (!record) return 'malformedJson';
  const metadata = isObject(record.eventMetadata) ? record.eventMetadata : {};
  const id = idOf(metadata.inferenceId) ?? idOf(metadata.eventId);
  if (id === undefined) return 'missingId';
  const output = isObject(record.captureData) ? record.captureData.endpointOutput : undefined;
  if (!isObject(output) || typeof output.data !== 'string') return 'missingData';
  const decoded = payloadValue(output.data, output.encoding, output.observedContentType, undefined);
  if (typeof decoded === 'string') return decoded;
  const value = checkPrediction(decoded, problemType);
  if (typeof value === 'string') return value;
  const inferenceTime = timeOf(metadata.inferenceTime);
  if (Number.isNaN(inferenceTime)) return 'invalidTime';
  return inferenceTime === undefined ? { id, value } : { id, value, inferenceTime };
}

/**
 * A ground-truth line's label: `groundTruthData.data` (CSV, JSON, or BASE64 of a CSV value unless
 * `observedContentType` says JSON), keyed by `eventMetadata.eventId`, with an optional
 * `eventMetadata.labelTime`.
 */
export function parseLabelLine(line: string, problemType: ProblemType): Label | MalformedKind {
  const record = parseObject(line);
  if (!record) return 'malformedJson';
  const metadata = isObject(record.eventMetadata) ? record.eventMetadata : {};
  const id = idOf(metadata.eventId);
  if (id === undefined) return 'missingId';
  const truth = record.groundTruthData;
  if (!isObject(truth) || typeof truth.data !== 'string') return 'missingData';
  const decoded = payloadValue(truth.data, truth.encoding, truth.observedContentType, 'csv');
  if (typeof decoded === 'string') return decoded;
  const value = checkLabel(decoded, problemType);
  if (typeof value === 'string') return value;
  const labelTime = timeOf(metadata.labelTime);
  if (Number.isNaN(labelTime)) return 'invalidTime';
  return labelTime === undefined ? { id, value } : { id, value, labelTime };
}
