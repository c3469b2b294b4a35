/**
 * A window's counts, per feature and per baseline bin or category, plus the problem counters. Plain
 * JSON (integer counts only), so that per-object histograms can be written, read back and merged
 * exactly: merging the histograms of a window's parts equals the histogram of the whole window.
 */
import { Readable } from 'node:stream';
import { Baseline, BaselineFeature } from './baseline';
import {
  CaptureParse,
  FeatureRow,
  noProblems,
  parseCaptureLine,
  PROBLEM_KINDS,
  ProblemCounts,
  readCaptureLines,
} from './capture';
import { CaptureScanner } from './capture-scan';

export const HISTOGRAM_VERSION = 1;

export interface DriftHistogram {
  readonly version: typeof HISTOGRAM_VERSION;
  /** Capture lines read (blank lines aside). */
  lines: number;
  /** Records counted in the feature counts. */
  rows: number;
  problems: ProblemCounts;
  /**
   * Per feature: numeric, the count per baseline bin; categorical, the count per baseline category
   * (in the baseline's order) and, last, the count of every other category.
   */
  features: Record<string, number[]>;
}

function slots(feature: BaselineFeature): number {
  return feature.kind === 'numeric' ? feature.innerEdges.length + 1 : feature.categories.length + 1;
}

export function emptyHistogram(baseline: Baseline): DriftHistogram {
  return {
    version: HISTOGRAM_VERSION,
    lines: 0,
    rows: 0,
    problems: noProblems(),
    features: Object.fromEntries(baseline.features.map((f) => [f.name, new Array<number>(slots(f)).fill(0)])),
  };
}

/**
 * The numeric bin of a value: the number of inner edges at or below it, so bin i is
 * [edge[i-1], edge[i]), as numpy.histogram with edges [-inf, e1, ..., inf].
 */
export function binOf(innerEdges: readonly number[], value: number): number {
  let low = 0;
  let high = innerEdges.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (innerEdges[middle] <= value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Category lookups per feature, built once per baseline. */
const categoryIndexes = new WeakMap<BaselineFeature, Map<string, number>>();

function categoryIndex(feature: BaselineFeature & { kind: 'categorical' }, value: string): number {
  let index = categoryIndexes.get(feature);
  if (!index) {
    index = new Map(feature.categories.map((category, i) => [category, i]));
    categoryIndexes.set(feature, index);
  }
  return index.get(value) ?? feature.categories.length;
}

/** Counts one row (aligned with `baseline.features`). */
export function addRow(histogram: DriftHistogram, baseline: Baseline, row: FeatureRow): void {
  baseline.features.forEach((feature, i) => {
    const value = row[i];
    const slot =
      feature.kind === 'numeric'
        ? binOf(feature.innerEdges, value as number)
        : categoryIndex(feature, String(value));
    histogram.features[feature.name][slot] += 1;
  });
  histogram.rows += 1;
}

/** Counts one capture line's parse: its rows, and its problems. */
export function addParse(histogram: DriftHistogram, baseline: Baseline, parse: CaptureParse): void {
  histogram.lines += 1;
  for (const row of parse.rows) addRow(histogram, baseline, row);
  for (const problem of parse.problems) histogram.problems[problem] += 1;
}

/**
 * The histogram of one capture object (plain or gzipped JSON Lines). Lines of the common shape are
 * counted straight from the fast path's scan, without building rows; the rest through
 * `parseCaptureLine`. The counts are those of `addParse` over `parseCaptureLine` of every line.
 */
export async function histogramOfCapture(source: Readable, baseline: Baseline): Promise<DriftHistogram> {
  const histogram = emptyHistogram(baseline);
  const counts = baseline.features.map((feature) => histogram.features[feature.name]);
  const scanner = new CaptureScanner(baseline);
  await readCaptureLines(
    source,
    (text, start) => {
      const next = scanner.scan(text, start);
      if (next >= 0) {
        scanner.count();
        histogram.rows += 1;
        histogram.lines += 1;
      }
      return next;
    },
    (line) => addParse(histogram, baseline, parseCaptureLine(line, baseline)),
  );
  scanner.addTallyTo(counts);
  return histogram;
}

function sameShape(a: DriftHistogram, b: DriftHistogram): void {
  const names = Object.keys(a.features);
  const other = Object.keys(b.features);
  if (
    names.length !== other.length ||
    names.some((name) => !b.features[name] || b.features[name].length !== a.features[name].length)
  ) {
    throw new Error(
      `histograms of different baselines cannot be merged: features ${names.join(',')} and ${other.join(',')}`,
    );
  }
}

/** The histogram of two windows together; exact, as every count is an integer. Neither input changes. */
export function merge(a: DriftHistogram, b: DriftHistogram): DriftHistogram {
  sameShape(a, b);
  return {
    version: HISTOGRAM_VERSION,
    lines: a.lines + b.lines,
    rows: a.rows + b.rows,
    problems: Object.fromEntries(
      PROBLEM_KINDS.map((kind) => [kind, a.problems[kind] + b.problems[kind]]),
    ) as ProblemCounts,
    features: Object.fromEntries(
      Object.entries(a.features).map(([name, counts]) => [
        name,
        counts.map((c, i) => c + b.features[name][i]),
      ]),
    ),
  };
}

/** Merges any number of histograms of the same baseline (none: the empty histogram). */
export function mergeAll(baseline: Baseline, histograms: readonly DriftHistogram[]): DriftHistogram {
  return histograms.reduce(merge, emptyHistogram(baseline));
}

function count(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new Error(
      `histogram ${field} must be a count (a non-negative integer), not ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** Reads a histogram back from JSON, checking it against the baseline it was counted with. */
export function parseHistogram(json: unknown, baseline: Baseline): DriftHistogram {
  const body = json as Partial<DriftHistogram> | null;
  if (typeof body !== 'object' || body === null || body.version !== HISTOGRAM_VERSION) {
    throw new Error(`histogram must be an object with version ${HISTOGRAM_VERSION}`);
  }
  const problems = noProblems();
  for (const kind of PROBLEM_KINDS) problems[kind] = count(body.problems?.[kind] ?? 0, `problems.${kind}`);
  const features: Record<string, number[]> = {};
  for (const feature of baseline.features) {
    const counts = body.features?.[feature.name];
    if (!Array.isArray(counts) || counts.length !== slots(feature)) {
      throw new Error(
        `histogram features.${feature.name} must hold ${slots(feature)} counts, as the baseline's feature has; ` +
          'count the window again with this baseline',
      );
    }
    features[feature.name] = counts.map((c, i) => count(c, `features.${feature.name}[${i}]`));
  }
  return {
    version: HISTOGRAM_VERSION,
    lines: count(body.lines, 'lines'),
    rows: count(body.rows, 'rows'),
    problems,
    features,
  };
}
