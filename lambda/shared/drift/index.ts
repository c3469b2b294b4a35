// The drift statistics engine: a window of SageMaker data capture against the training baseline.
// Pure TypeScript, no AWS SDK: the drift job's functions and the `npm run drift` command share it.
import { Baseline } from './baseline';
import { ProblemCounts } from './capture';
import { DriftHistogram, mergeAll } from './histogram';
import { DEFAULT_PSI_THRESHOLD, featureStatistics, FeatureStatistics, PSI_EPSILON } from './statistics';

export * from './baseline';
export * from './capture';
export * from './capture-file';
export * from './capture-scan';
export * from './histogram';
export * from './statistics';

export interface DriftReportOptions {
  /** PSI at or above this marks a feature drifted (default 0.2). */
  readonly psiThreshold?: number;
}

export interface DriftReport {
  /** Records counted. */
  readonly rows: number;
  /** Capture lines read. */
  readonly lines: number;
  /** True when no record was counted: then there are no statistics. */
  readonly empty: boolean;
  readonly problems: ProblemCounts;
  readonly psiThreshold: number;
  readonly epsilon: number;
  /** Per feature, in the model input's order; none for an empty window. */
  readonly features: Record<string, FeatureStatistics>;
  /** The share of features whose PSI reached the threshold; null for an empty window. */
  readonly driftedShare: number | null;
}

/** The drift report of a window, given the histograms of its parts (merged here). */
export function driftReport(
  baseline: Baseline,
  histograms: DriftHistogram | readonly DriftHistogram[],
  options: DriftReportOptions = {},
): DriftReport {
  const psiThreshold = options.psiThreshold ?? DEFAULT_PSI_THRESHOLD;
  if (!Number.isFinite(psiThreshold) || psiThreshold <= 0) {
    throw new Error(`psiThreshold must be a positive number, not ${psiThreshold}`);
  }
  const window = mergeAll(baseline, Array.isArray(histograms) ? histograms : [histograms as DriftHistogram]);
  const empty = window.rows === 0;
  const features: Record<string, FeatureStatistics> = {};
  if (!empty) {
    for (const feature of baseline.features) {
      features[feature.name] = featureStatistics(feature, window.features[feature.name], psiThreshold);
    }
  }
  const drifted = Object.values(features).filter((f) => f.drifted).length;
  return {
    rows: window.rows,
    lines: window.lines,
    empty,
    problems: window.problems,
    psiThreshold,
    epsilon: PSI_EPSILON,
    features,
    driftedShare: empty ? null : drifted / baseline.features.length,
  };
}
