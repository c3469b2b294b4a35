/**
 * Drift statistics of a window's counts against the baseline.
 *
 * PSI = Σ (a_i − e_i) · ln(a_i / e_i), e = the baseline's shares, a = the window's shares, over the
 * baseline's own bins: the deciles of the training data for numeric features, the top categories
 * plus "other" for categorical ones. Fixed baseline bins (rather than Evidently's equal-width bins
 * over the combined range of reference and current data) mean the PSI of a window does not change
 * with the window's size or its largest value: one outlier cannot move every bin edge.
 *
 * A share of 0 on either side would make the PSI infinite; it is replaced by PSI_EPSILON, as
 * Evidently does.
 */
import { BaselineFeature } from './baseline';

/** The share a zero share is replaced by in the PSI (both sides), and in the chi-square's expectation. */
export const PSI_EPSILON = 1e-4;
/** PSI at or above this marks a feature drifted. */
export const DEFAULT_PSI_THRESHOLD = 0.2;

export function shares(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => c / total);
}

/** The Population Stability Index of the actual shares against the expected ones. */
export function psi(expected: readonly number[], actual: readonly number[]): number {
  let total = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] === 0 ? PSI_EPSILON : expected[i];
    const a = actual[i] === 0 ? PSI_EPSILON : actual[i];
    total += (a - e) * Math.log(a / e);
  }
  return total;
}

/**
 * The binned Kolmogorov-Smirnov distance: the largest gap between the two cumulative shares at the
 * inner bin edges (the CDF at edge k is the share of the bins below it; the last edge, where both
 * are 1, is left out).
 */
export function binnedKs(expected: readonly number[], actual: readonly number[]): number {
  let cumulativeExpected = 0;
  let cumulativeActual = 0;
  let largest = 0;
  for (let i = 0; i < expected.length - 1; i++) {
    cumulativeExpected += expected[i];
    cumulativeActual += actual[i];
    largest = Math.max(largest, Math.abs(cumulativeActual - cumulativeExpected));
  }
  return largest;
}

/**
 * Pearson's chi-square statistic Σ (O − E)² / E, E = expected share × rows. A cell that the baseline
 * gives no share and the window no row carries nothing and is skipped; a zero expected share with
 * observed rows is replaced by PSI_EPSILON, so the statistic stays finite. No p-value.
 */
export function chiSquare(expected: readonly number[], observed: readonly number[]): number {
  const rows = observed.reduce((a, b) => a + b, 0);
  let total = 0;
  for (let i = 0; i < expected.length; i++) {
    if (expected[i] === 0 && observed[i] === 0) continue;
    const e = (expected[i] === 0 ? PSI_EPSILON : expected[i]) * rows;
    total += (observed[i] - e) ** 2 / e;
  }
  return total;
}

export interface NumericStatistics {
  readonly type: 'numeric';
  readonly psi: number;
  readonly ks: number;
  readonly drifted: boolean;
}

export interface CategoricalStatistics {
  readonly type: 'categorical';
  readonly psi: number;
  readonly chiSquare: number;
  readonly drifted: boolean;
}

export type FeatureStatistics = NumericStatistics | CategoricalStatistics;

/** The baseline's expected shares, aligned with the histogram's counts. */
export function expectedShares(feature: BaselineFeature): number[] {
  return feature.kind === 'numeric' ? [...feature.proportions] : [...feature.proportions, feature.other];
}

/** A feature's statistics for a non-empty window's counts. */
export function featureStatistics(
  feature: BaselineFeature,
  counts: readonly number[],
  psiThreshold = DEFAULT_PSI_THRESHOLD,
): FeatureStatistics {
  const expected = expectedShares(feature);
  const actual = shares(counts);
  const value = psi(expected, actual);
  const drifted = value >= psiThreshold;
  return feature.kind === 'numeric'
    ? { type: 'numeric', psi: value, ks: binnedKs(expected, actual), drifted }
    : { type: 'categorical', psi: value, chiSquare: chiSquare(expected, counts), drifted };
}
