/**
 * The training baseline (baseline.json, written by ml/preprocess.py `baseline()`), parsed and
 * validated into typed features in the model input's column order (`feature_order`).
 */

/** A numeric feature: the baseline's bins and the share of training rows in each. */
export interface NumericFeature {
  readonly kind: 'numeric';
  readonly name: string;
  /**
   * The inner bin edges e1 < e2 < ... (the baseline's `bin_edges` without its open ends). Bin i holds
   * values v with edge[i-1] <= v < edge[i], as numpy.histogram with edges [-inf, e1, ..., inf] does;
   * bin 0 is (-inf, e1), the last bin [e_last, inf).
   */
  readonly innerEdges: readonly number[];
  /** The training share per bin, one more than `innerEdges`. */
  readonly proportions: readonly number[];
  readonly mean: number;
  readonly std: number;
}

/** A categorical feature: the baseline's top categories and the share of the rest, pooled as other. */
export interface CategoricalFeature {
  readonly kind: 'categorical';
  readonly name: string;
  /** The baseline's categories, in the key order of its parsed `proportions` object. */
  readonly categories: readonly string[];
  /** The training share per category, aligned with `categories`. */
  readonly proportions: readonly number[];
  /** The training share of every other category. */
  readonly other: number;
}

export type BaselineFeature = NumericFeature | CategoricalFeature;

export interface Baseline {
  readonly schemaVersion: number;
  readonly rows: number;
  readonly label: string;
  /** The features in the model input's column order: CSV column i of a request is `features[i]`. */
  readonly features: readonly BaselineFeature[];
}

/** The baseline cannot be used; the message names the field and the fix. */
export class BaselineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BaselineError';
  }
}

/** The only baseline layout this engine reads (preprocess.py `BASELINE_SCHEMA_VERSION`). */
export const SUPPORTED_SCHEMA_VERSION = 1;
/** How far the shares of a feature may sum away from 1 (they are rounded floats). */
const SHARE_SUM_TOLERANCE = 1e-6;
const REGENERATE = 'regenerate it with ml/preprocess.py';

function fail(field: string, problem: string, fix = REGENERATE): never {
  throw new BaselineError(`baseline.json ${field} ${problem}; ${fix}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function finiteNumber(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    fail(field, `must be a finite number, not ${JSON.stringify(value)}`);
  }
  return value;
}

function share(value: unknown, field: string): number {
  const result = finiteNumber(value, field);
  if (result < 0 || result > 1) fail(field, `must be a share between 0 and 1, not ${result}`);
  return result;
}

function shares(values: readonly unknown[], field: string): number[] {
  return values.map((value, i) => share(value, `${field}[${i}]`));
}

function checkSum(total: number, field: string): void {
  if (Math.abs(total - 1) > SHARE_SUM_TOLERANCE) fail(field, `must sum to 1, not ${total}`);
}

function numericFeature(name: string, body: Record<string, unknown>): NumericFeature {
  const field = `features.${name}`;
  const edges = body.bin_edges;
  if (!Array.isArray(edges) || edges.length < 2) {
    fail(`${field}.bin_edges`, 'must be a list [null, e1, ..., null] of at least two edges');
  }
  if (edges[0] !== null || edges[edges.length - 1] !== null) {
    fail(`${field}.bin_edges`, 'must start and end with null (the open ends of the first and last bins)');
  }
  const innerEdges = edges.slice(1, -1).map((edge, i) => finiteNumber(edge, `${field}.bin_edges[${i + 1}]`));
  innerEdges.forEach((edge, i) => {
    if (i > 0 && !(edge > innerEdges[i - 1])) {
      fail(`${field}.bin_edges`, `must increase strictly, but ${innerEdges[i - 1]} is followed by ${edge}`);
    }
  });
  const proportions = body.proportions;
  if (!Array.isArray(proportions) || proportions.length !== edges.length - 1) {
    fail(`${field}.proportions`, `must be a list of ${edges.length - 1} shares, one per bin of bin_edges`);
  }
  const binShares = shares(proportions, `${field}.proportions`);
  checkSum(
    binShares.reduce((a, b) => a + b, 0),
    `${field}.proportions`,
  );
  return {
    kind: 'numeric',
    name,
    innerEdges,
    proportions: binShares,
    mean: finiteNumber(body.mean, `${field}.mean`),
    std: finiteNumber(body.std, `${field}.std`),
  };
}

function categoricalFeature(name: string, body: Record<string, unknown>): CategoricalFeature {
  const field = `features.${name}`;
  if (!isObject(body.proportions)) {
    fail(`${field}.proportions`, 'must be an object of shares keyed by category');
  }
  const categories = Object.keys(body.proportions);
  const categoryShares = shares(
    categories.map((category) => (body.proportions as Record<string, unknown>)[category]),
    `${field}.proportions`,
  );
  const other = share(body.other, `${field}.other`);
  checkSum(categoryShares.reduce((a, b) => a + b, 0) + other, `${field}.proportions and .other`);
  return { kind: 'categorical', name, categories, proportions: categoryShares, other };
}

/** Validates a parsed baseline.json; throws BaselineError naming the field and the fix. */
export function parseBaseline(json: unknown): Baseline {
  if (!isObject(json)) fail('', 'must be a JSON object');
  if (json.schema_version !== SUPPORTED_SCHEMA_VERSION) {
    fail(
      'schema_version',
      `is ${JSON.stringify(json.schema_version)}, this engine reads version ${SUPPORTED_SCHEMA_VERSION}`,
    );
  }
  const rows = finiteNumber(json.rows, 'rows');
  if (typeof json.label !== 'string') fail('label', 'must be the name of the label column');
  if (!isObject(json.features)) fail('features', 'must be an object of features keyed by name');
  const order = json.feature_order;
  if (!Array.isArray(order) || order.length === 0 || !order.every((name) => typeof name === 'string')) {
    fail(
      'feature_order',
      'must list the model input columns in order (older baselines lack it)',
      'regenerate the baseline with the current ml/preprocess.py',
    );
  }
  const features = json.features;
  const duplicate = order.find((name, i) => order.indexOf(name) !== i);
  if (duplicate !== undefined) fail('feature_order', `names ${duplicate} twice`);
  const unlisted = Object.keys(features).filter((name) => !order.includes(name));
  if (unlisted.length > 0) fail('feature_order', `does not list the features ${unlisted.join(', ')}`);
  return {
    schemaVersion: SUPPORTED_SCHEMA_VERSION,
    rows,
    label: json.label,
    features: order.map((name: string): BaselineFeature => {
      const body = features[name];
      if (!isObject(body)) fail(`features.${name}`, 'is missing, but feature_order lists it');
      if (body.type === 'numeric') return numericFeature(name, body);
      if (body.type === 'categorical') return categoricalFeature(name, body);
      return fail(
        `features.${name}.type`,
        `must be "numeric" or "categorical", not ${JSON.stringify(body.type)}`,
      );
    }),
  };
}

/** Reads baseline.json text; throws BaselineError when it is not JSON or not a valid baseline. */
export function parseBaselineText(text: string): Baseline {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new BaselineError(`baseline.json is not valid JSON (${(error as Error).message}); ${REGENERATE}`);
  }
  return parseBaseline(json);
}
