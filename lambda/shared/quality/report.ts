/** Model quality of a window's join: the metrics of its matched pairs and its counters. */
import { joinEntries, mergeAllJoins, QualityJoin } from './join';
import { MALFORMED_KINDS, MalformedCounts, ProblemType } from './records';

/** A label uploaded more than this after its inference counts as late (24 hours). */
export const DEFAULT_LATE_LABEL_ALLOWANCE_SECONDS = 86_400;
/** A binary classifier's score above this predicts the positive class (1). */
export const DEFAULT_PROBABILITY_THRESHOLD = 0.5;

export interface QualityReportOptions {
  /** @default 86400 (24 hours) */
  readonly lateLabelAllowanceSeconds?: number;
  /** Binary classification only. @default 0.5 */
  readonly probabilityThreshold?: number;
}

export interface RegressionMetrics {
  /** √(Σ (prediction − label)² / n); null without a matched pair. */
  readonly rmse: number | null;
  /** Σ |prediction − label| / n; null without a matched pair. */
  readonly mae: number | null;
}

export interface BinaryClassificationMetrics {
  readonly probabilityThreshold: number;
  /** (TP + TN) / n; null without a matched pair. */
  readonly accuracy: number | null;
  /** 2·TP / (2·TP + FP + FN), the positive class 1; null when there is no positive label or prediction. */
  readonly f1: number | null;
  /** TP / (TP + FP); null without a positive prediction. */
  readonly precision: number | null;
  /** TP / (TP + FN); null without a positive label. */
  readonly recall: number | null;
  readonly truePositives: number;
  readonly falsePositives: number;
  readonly trueNegatives: number;
  readonly falseNegatives: number;
}

export interface QualityReport {
  readonly problemType: ProblemType;
  /** True when no prediction met its label: then the metrics are null. */
  readonly empty: boolean;
  /** Non-blank lines read. */
  readonly lines: { readonly capture: number; readonly groundTruth: number };
  /** Distinct ids with a usable prediction. */
  readonly predictions: number;
  /** Distinct ids with a usable label. */
  readonly labels: number;
  /** Ids with both: the pairs the metrics are computed on. */
  readonly matchedLabels: number;
  /** Labels without a prediction in the window. */
  readonly unmatchedLabels: number;
  /** Predictions without a label in the window. */
  readonly unmatchedPredictions: number;
  readonly duplicateLabels: number;
  readonly duplicatePredictions: number;
  /** Matched labels dated more than `lateLabelAllowanceSeconds` after their inference. */
  readonly lateLabels: number;
  readonly lateLabelAllowanceSeconds: number;
  /** Capture and ground-truth lines left out, in all. */
  readonly malformedLines: number;
  readonly malformed: { readonly capture: MalformedCounts; readonly groundTruth: MalformedCounts };
  readonly unreadableObjects: number;
  readonly metrics: RegressionMetrics | BinaryClassificationMetrics;
}

function checkOptions(options: QualityReportOptions): { allowance: number; threshold: number } {
  const allowance = options.lateLabelAllowanceSeconds ?? DEFAULT_LATE_LABEL_ALLOWANCE_SECONDS;
  const threshold = options.probabilityThreshold ?? DEFAULT_PROBABILITY_THRESHOLD;
  if (!Number.isFinite(allowance) || allowance < 0) {
    throw new Error(`lateLabelAllowanceSeconds must be a non-negative number of seconds, not ${allowance}`);
  }
  if (!(threshold > 0 && threshold < 1)) {
    throw new Error(`probabilityThreshold must be between 0 and 1 (exclusive), not ${threshold}`);
  }
  return { allowance, threshold };
}

const ratio = (numerator: number, denominator: number) =>
  denominator === 0 ? null : numerator / denominator;

function total(counts: MalformedCounts): number {
  return MALFORMED_KINDS.reduce((sum, kind) => sum + counts[kind], 0);
}

/**
 * The quality report of a window, given the joins of its parts in order (merged here). Sums run
 * over the matched pairs sorted by id, so the numbers do not depend on how the window was split.
 */
export function qualityReport(
  joins: QualityJoin | readonly QualityJoin[],
  options: QualityReportOptions = {},
): QualityReport {
  const { allowance, threshold } = checkOptions(options);
  const parts = Array.isArray(joins) ? (joins as readonly QualityJoin[]) : [joins as QualityJoin];
  if (parts.length === 0)
    throw new Error('qualityReport needs at least one join (an empty one for an empty window)');
  const join = parts.length === 1 ? parts[0] : mergeAllJoins(parts[0].problemType, parts);

  let predictions = 0;
  let labels = 0;
  let lateLabels = 0;
  const matched: [string, number, number][] = [];
  for (const [id, entry] of joinEntries(join)) {
    if (entry.prediction !== undefined) predictions += 1;
    if (entry.label !== undefined) labels += 1;
    if (entry.prediction === undefined || entry.label === undefined) continue;
    matched.push([id, entry.prediction, entry.label]);
    if (
      entry.inferenceTime !== undefined &&
      entry.labelTime !== undefined &&
      entry.labelTime - entry.inferenceTime > allowance * 1000
    ) {
      lateLabels += 1;
    }
  }
  matched.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const n = matched.length;

  let metrics: RegressionMetrics | BinaryClassificationMetrics;
  if (join.problemType === 'Regression') {
    let squares = 0;
    let absolutes = 0;
    for (const [, prediction, label] of matched) {
      const error = prediction - label;
      squares += error * error;
      absolutes += Math.abs(error);
    }
    metrics = { rmse: n === 0 ? null : Math.sqrt(squares / n), mae: ratio(absolutes, n) };
  } else {
    let tp = 0;
    let fp = 0;
    let tn = 0;
    let fn = 0;
    for (const [, score, label] of matched) {
      const positive = score > threshold;
      if (positive && label === 1) tp += 1;
      else if (positive) fp += 1;
      else if (label === 1) fn += 1;
      else tn += 1;
    }
    metrics = {
      probabilityThreshold: threshold,
      accuracy: ratio(tp + tn, n),
      f1: ratio(2 * tp, 2 * tp + fp + fn),
      precision: ratio(tp, tp + fp),
      recall: ratio(tp, tp + fn),
      truePositives: tp,
      falsePositives: fp,
      trueNegatives: tn,
      falseNegatives: fn,
    };
  }

  return {
    problemType: join.problemType,
    empty: n === 0,
    lines: { capture: join.captureLines, groundTruth: join.groundTruthLines },
    predictions,
    labels,
    matchedLabels: n,
    unmatchedLabels: labels - n,
    unmatchedPredictions: predictions - n,
    duplicateLabels: join.duplicateLabels,
    duplicatePredictions: join.duplicatePredictions,
    lateLabels,
    lateLabelAllowanceSeconds: allowance,
    malformedLines: total(join.malformed.capture) + total(join.malformed.groundTruth),
    malformed: { capture: { ...join.malformed.capture }, groundTruth: { ...join.malformed.groundTruth } },
    unreadableObjects: join.unreadableObjects,
    metrics,
  };
}
