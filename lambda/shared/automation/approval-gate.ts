import { S3Client } from '@aws-sdk/client-s3';
import {
  DescribeModelPackageCommand,
  DescribeModelPackageCommandOutput,
  SageMakerClient,
  UpdateModelPackageCommand,
  UpdateModelPackageCommandInput,
} from '@aws-sdk/client-sagemaker';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { createHash } from 'crypto';
import { describeValue } from '../../../lib/private/describe-value';
import { NO_MODEL_RELEASED } from '../../../lib/serving/naming';
import { errorMessage, isAwsError } from '../release/errors';
import { parseModelPackageArn } from '../release/model-package-arn';
import { EnvironmentProblems, EvaluationReportError } from './errors';
import { EvaluationReport, METRIC_PATH, readEvaluationReport, reportUriOf } from './evaluation-report';

/** An absolute bound on one metric of the challenger's report. */
export interface MetricThreshold {
  /** The metric's path in the report (see METRIC_PATH), e.g. `regression_metrics.rmse`. */
  readonly metric: string;
  /** The smallest value allowed. @default - no lower bound */
  readonly min?: number;
  /** The largest value allowed. @default - no upper bound */
  readonly max?: number;
}

/** How the gate compares a challenger with the champion. */
export interface ApprovalGateRules {
  /** The metric the challenger must improve, as a path into the report. */
  readonly primaryMetric: string;
  /** Whether a larger value of the primary metric is better (accuracy, AUC); RMSE is not. */
  readonly higherIsBetter: boolean;
  /**
   * How much better than the champion's, relative to the champion's value, the challenger's primary
   * metric must be, in percent: with 1, an RMSE of 4.95 or less beats a champion's 5. Even with 0
   * the challenger must be strictly better: an equal value is rejected.
   */
  readonly marginPercent: number;
  /** Bounds the challenger's report must meet, champion or not. */
  readonly thresholds: readonly MetricThreshold[];
}

/** The rules the gate applies when the environment sets none. */
export const DEFAULT_GATE_RULES: ApprovalGateRules = {
  primaryMetric: 'regression_metrics.rmse',
  higherIsBetter: false,
  marginPercent: 1,
  thresholds: [],
};

/** The longest ApprovalDescription UpdateModelPackage accepts (SageMaker API reference). */
export const MAX_APPROVAL_DESCRIPTION_LENGTH = 1024;

/** The approval status of a package that waits for a decision. */
export const PENDING_MANUAL_APPROVAL = 'PendingManualApproval';

/**
 * Reads the rules from `env` (PRIMARY_METRIC, HIGHER_IS_BETTER, MARGIN_PERCENT, THRESHOLDS), adding
 * each invalid value to `problems`; unset variables take DEFAULT_GATE_RULES.
 */
export function readGateRules(env: NodeJS.ProcessEnv, problems: EnvironmentProblems): ApprovalGateRules {
  const text = (name: string) => env[name]?.trim() ?? '';

  const primaryMetric = text('PRIMARY_METRIC') || DEFAULT_GATE_RULES.primaryMetric;
  if (!METRIC_PATH.test(primaryMetric)) {
    problems.add(
      `PRIMARY_METRIC ${describeValue(primaryMetric)} is not a metric path: use dotted keys of the report, ` +
        "such as 'regression_metrics.rmse'",
    );
  }

  let higherIsBetter = DEFAULT_GATE_RULES.higherIsBetter;
  const higher = text('HIGHER_IS_BETTER').toLowerCase();
  if (higher === 'true' || higher === 'false') {
    higherIsBetter = higher === 'true';
  } else if (higher !== '') {
    problems.add(
      `HIGHER_IS_BETTER ${describeValue(env.HIGHER_IS_BETTER)} is not a boolean: use 'true' (accuracy) or 'false' (RMSE)`,
    );
  }

  const marginPercent = readMarginPercent(env, problems);
  const thresholds = readThresholds(text('THRESHOLDS'), problems);
  return { primaryMetric, higherIsBetter, marginPercent, thresholds };
}

/**
 * MARGIN_PERCENT from `env` (default DEFAULT_GATE_RULES.marginPercent), adding an invalid value to
 * `problems`: the offline and the online gate read their margin the same way.
 */
export function readMarginPercent(env: NodeJS.ProcessEnv, problems: EnvironmentProblems): number {
  const margin = env.MARGIN_PERCENT?.trim() ?? '';
  if (margin === '') {
    return DEFAULT_GATE_RULES.marginPercent;
  }
  const marginPercent = Number(margin);
  if (!(Number.isFinite(marginPercent) && marginPercent >= 0 && marginPercent < 100)) {
    problems.add(
      `MARGIN_PERCENT ${describeValue(env.MARGIN_PERCENT)} is not a percentage: use a number from 0 to below 100`,
    );
  }
  return marginPercent;
}

function readThresholds(text: string, problems: EnvironmentProblems): MetricThreshold[] {
  if (text === '') {
    return [...DEFAULT_GATE_RULES.thresholds];
  }
  const example = `use a JSON object such as '{"regression_metrics.rmse":{"max":6}}'`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    problems.add(`THRESHOLDS ${describeValue(text)} is not JSON: ${example}`);
    return [];
  }
  if (!isRecord(parsed)) {
    problems.add(`THRESHOLDS ${describeValue(text)} is not a JSON object: ${example}`);
    return [];
  }
  const thresholds: MetricThreshold[] = [];
  for (const [metric, bounds] of Object.entries(parsed)) {
    if (!METRIC_PATH.test(metric)) {
      problems.add(`THRESHOLDS key ${describeValue(metric)} is not a metric path: ${example}`);
      continue;
    }
    const keys = isRecord(bounds) ? Object.keys(bounds) : [];
    const numbers =
      isRecord(bounds) && keys.every((k) => (k === 'min' || k === 'max') && isFiniteNumber(bounds[k]));
    if (!isRecord(bounds) || keys.length === 0 || !numbers) {
      problems.add(
        `THRESHOLDS.${metric} ${describeValue(bounds)} is not bounds: give "min", "max" or both as numbers`,
      );
      continue;
    }
    const threshold: MetricThreshold = {
      metric,
      min: bounds.min as number | undefined,
      max: bounds.max as number | undefined,
    };
    if (threshold.min !== undefined && threshold.max !== undefined && threshold.min > threshold.max) {
      problems.add(
        `THRESHOLDS.${metric} has min ${threshold.min} above max ${threshold.max}: no value could pass`,
      );
      continue;
    }
    thresholds.push(threshold);
  }
  return thresholds;
}

/** The metrics the gate reads from each report: the primary metric, then each threshold's. */
export function gateMetrics(rules: ApprovalGateRules): string[] {
  return [...new Set([rules.primaryMetric, ...rules.thresholds.map((t) => t.metric)])];
}

/** What the gate knows of the challenger. */
export type ChallengerEvidence =
  | { readonly kind: 'report'; readonly report: EvaluationReport }
  | { readonly kind: 'unusable'; readonly reason: string };

/** What the gate knows of the champion: the package the prod release pointer names. */
export type ChampionEvidence =
  | { readonly kind: 'none'; readonly pointerName: string }
  | { readonly kind: 'report'; readonly modelPackageArn: string; readonly report: EvaluationReport }
  | { readonly kind: 'unusable'; readonly reason: string; readonly modelPackageArn?: string };

/** The gate's verdict on a challenger. */
export interface GateDecision {
  readonly approved: boolean;
  /** Why, one sentence per rule that decided it. */
  readonly reasons: readonly string[];
  /** The numbers the verdict rests on, one sentence per package: the challenger's, then the champion's. */
  readonly numbers: readonly string[];
  /** The ApprovalDescription: the verdict, its reasons, and both sets of numbers; at most 1024 characters. */
  readonly description: string;
}

/**
 * How much better `challenger` is than `champion`, relative to the champion's value: 0.1 is 10%
 * better, a negative value is worse. A champion of exactly 0 makes any gain infinite.
 */
export function relativeImprovement(challenger: number, champion: number, higherIsBetter: boolean): number {
  const gain = higherIsBetter ? challenger - champion : champion - challenger;
  if (champion === 0) {
    return gain === 0 ? 0 : gain * Infinity;
  }
  return gain / Math.abs(champion);
}

// Relative improvements are computed in floating point: 10 -> 9.9 is 0.99999...% better, which
// must still meet a 1% margin.
const MARGIN_TOLERANCE_PERCENT = 1e-9;

/** Decides on a challenger from the evidence, without calling anything. */
export function decide(
  rules: ApprovalGateRules,
  challenger: ChallengerEvidence,
  champion: ChampionEvidence,
): GateDecision {
  const metrics = gateMetrics(rules);
  const label = metricLabeller(metrics);
  const primary = label(rules.primaryMetric);
  const reasons: string[] = [];
  let approved = true;

  if (challenger.kind === 'unusable') {
    approved = false;
    reasons.push(`the challenger's evaluation report cannot be used: ${challenger.reason}`);
  } else {
    const values = challenger.report.metrics;
    const failed = rules.thresholds.flatMap((t) => thresholdFailures(t, values[t.metric], label(t.metric)));
    if (failed.length > 0) {
      approved = false;
      reasons.push(...failed);
    } else if (rules.thresholds.length > 0) {
      const held = rules.thresholds.map((t) => describeBounds(t, values[t.metric], label(t.metric)));
      reasons.push(`every threshold holds (${held.join(', ')})`);
    }
  }

  if (champion.kind === 'unusable') {
    approved = false;
    reasons.push(
      `the champion's numbers cannot be read, so the challenger cannot be compared with it: ${champion.reason}`,
    );
  } else if (champion.kind === 'none') {
    reasons.push(`no champion serves in prod (the pointer ${champion.pointerName} is ${NO_MODEL_RELEASED})`);
  } else if (challenger.kind === 'report') {
    const comparison = compareWithChampion(
      primary,
      challenger.report.metrics[rules.primaryMetric],
      champion.report.metrics[rules.primaryMetric],
      rules,
    );
    approved &&= comparison.better;
    reasons.push(comparison.reason);
  }

  const numbers = [
    challenger.kind === 'report'
      ? `Challenger (${challenger.report.uri}): ${listMetrics(metrics, challenger.report.metrics, label)}`
      : 'Challenger: no numbers',
    championNumbers(champion, metrics, label),
  ];
  const description = approvalDescription('the approval gate', approved, reasons, numbers);
  return { approved, reasons, numbers, description };
}

/** Whether a challenger's value beats the champion's by the margin, and the sentence that says so. */
export interface ChampionComparison {
  readonly better: boolean;
  readonly reason: string;
}

/**
 * The champion rule, shared by the offline and the online gate: `mine` must beat `theirs` by at
 * least `marginPercent` percent of `theirs`, in the direction `higherIsBetter` gives; an equal value
 * never wins. `label` names the metric in the sentence, e.g. `rmse` or `live rmse`.
 */
export function compareWithChampion(
  label: string,
  mine: number,
  theirs: number,
  rules: Pick<ApprovalGateRules, 'higherIsBetter' | 'marginPercent'>,
): ChampionComparison {
  const improvement = relativeImprovement(mine, theirs, rules.higherIsBetter);
  const percent = improvement * 100;
  const better = improvement > 0 && percent >= rules.marginPercent - MARGIN_TOLERANCE_PERCENT;
  const by = Number.isFinite(percent) ? `${formatNumber(percent)}%` : 'beyond any margin';
  if (better) {
    return {
      better,
      reason:
        `${label} ${formatNumber(mine)} beats the champion's ${formatNumber(theirs)} by ${by} ` +
        `(margin ${formatNumber(rules.marginPercent)}%)`,
    };
  }
  const direction =
    improvement > 0
      ? `better by only ${by}`
      : improvement === 0
        ? 'equal'
        : `worse by ${by.replace('-', '')}`;
  return {
    better,
    reason:
      `${label} ${formatNumber(mine)} does not beat the champion's ${formatNumber(theirs)} ` +
      `by the margin of ${formatNumber(rules.marginPercent)}% (${direction}; ` +
      `${rules.higherIsBetter ? 'higher' : 'lower'} is better)`,
  };
}

/**
 * An ApprovalDescription: the verdict and who gave it, the reasons, then the numbers, cut to the
 * 1024 characters SageMaker accepts (ending in `...`). The verdict and reasons come first, so that
 * they survive the cut.
 */
export function approvalDescription(
  gate: string,
  approved: boolean,
  reasons: readonly string[],
  numbers: readonly string[],
): string {
  const verdict = approved ? 'Approved' : 'Rejected';
  return truncate(
    `${verdict} by ${gate}: ${reasons.join('; ')}. ${numbers.join('. ')}.`,
    MAX_APPROVAL_DESCRIPTION_LENGTH,
  );
}

function championNumbers(
  champion: ChampionEvidence,
  metrics: readonly string[],
  label: (path: string) => string,
): string {
  if (champion.kind === 'none') {
    return 'Champion: none';
  }
  if (champion.kind === 'report') {
    return `Champion ${champion.modelPackageArn} (${champion.report.uri}): ${listMetrics(metrics, champion.report.metrics, label)}`;
  }
  return `Champion${champion.modelPackageArn ? ` ${champion.modelPackageArn}` : ''}: no numbers`;
}

function thresholdFailures(threshold: MetricThreshold, value: number, label: string): string[] {
  const failures: string[] = [];
  if (threshold.max !== undefined && value > threshold.max) {
    failures.push(`${label} ${formatNumber(value)} is above the maximum ${formatNumber(threshold.max)}`);
  }
  if (threshold.min !== undefined && value < threshold.min) {
    failures.push(`${label} ${formatNumber(value)} is below the minimum ${formatNumber(threshold.min)}`);
  }
  return failures;
}

function describeBounds(threshold: MetricThreshold, value: number, label: string): string {
  const bounds = [
    threshold.min !== undefined ? `>= ${formatNumber(threshold.min)}` : undefined,
    threshold.max !== undefined ? `<= ${formatNumber(threshold.max)}` : undefined,
  ].filter((b) => b !== undefined);
  return `${label} ${formatNumber(value)} ${bounds.join(' and ')}`;
}

function listMetrics(
  paths: readonly string[],
  values: Readonly<Record<string, number>>,
  label: (p: string) => string,
): string {
  return paths.map((p) => `${label(p)} ${formatNumber(values[p])}`).join(', ');
}

/** Short labels for metric paths: the last key, unless two paths share it. */
function metricLabeller(paths: readonly string[]): (path: string) => string {
  const last = (p: string) => p.slice(p.lastIndexOf('.') + 1);
  const counts = new Map<string, number>();
  for (const p of paths) {
    counts.set(last(p), (counts.get(last(p)) ?? 0) + 1);
  }
  return (p) => (counts.get(last(p)) === 1 ? last(p) : p);
}

/** Six significant digits: the report in S3 keeps the exact values. */
export function formatNumber(value: number): string {
  return String(Number(value.toPrecision(6)));
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** The clients the gate calls. */
export interface ApprovalGateClients {
  readonly sageMaker: SageMakerClient;
  readonly s3: S3Client;
  readonly ssm: SSMClient;
  /** Starts online trials; needed with `ApprovalGateSettings.onlineGateStateMachineArn`. @default - none */
  readonly stepFunctions?: SFNClient;
}

/** Where the gate finds the champion, and how it judges. */
export interface ApprovalGateSettings {
  /** The prod release pointer: the SSM parameter naming the package prod serves, or `none`. */
  readonly championPointerName: string;
  readonly rules: ApprovalGateRules;
  /**
   * The online gate's state machine (`OnlineGateWorkflow`): a package the offline rules approve is
   * not approved but tried online first, by an execution of this state machine, and stays pending.
   *
   * @default - no online gate: the offline verdict is recorded
   */
  readonly onlineGateStateMachineArn?: string;
}

/**
 * The input of an online-gate execution: the package on trial and the offline verdict, whose
 * reasons and numbers the online verdict records as well.
 */
export interface OnlineGateInput {
  readonly modelPackageArn: string;
  readonly offline: { readonly reasons: readonly string[]; readonly numbers: readonly string[] };
}

/**
 * The name of the online-gate execution of a model package version:
 * `trial-v<version>-<the first 32 hex digits of the SHA-256 of the ARN in lower case>`, at most 56
 * characters (Step Functions allows 80, and the trial's release executions add `-shadow` and
 * `-stop`). Every delivery of a package's event names the same execution, so a redelivery starts
 * nothing. Throws when the ARN is not a model package version ARN.
 */
export function onlineTrialExecutionName(modelPackageArn: string): string {
  const { arn, version } = parseModelPackageArn(modelPackageArn);
  const digest = createHash('sha256').update(arn.toLowerCase()).digest('hex');
  return `trial-v${version}-${digest.slice(0, 32)}`;
}

/** What the gate did with a package. */
export type GateResult =
  | {
      readonly outcome: 'approved' | 'rejected';
      readonly modelPackageArn: string;
      readonly decision: GateDecision;
      /** The UpdateModelPackage request sent. */
      readonly update: UpdateModelPackageCommandInput;
    }
  | {
      /**
       * The offline rules approve, and the online trial is under way: `started` by this call, or
       * found already started by an earlier delivery (`trial-already-started`). The package stays
       * PendingManualApproval until the online gate decides.
       */
      readonly outcome: 'trial-started' | 'trial-already-started';
      readonly modelPackageArn: string;
      readonly decision: GateDecision;
      readonly executionName: string;
      readonly executionArn?: string;
    }
  | { readonly outcome: 'already-decided'; readonly modelPackageArn: string; readonly approvalStatus: string }
  | { readonly outcome: 'not-ready'; readonly modelPackageArn: string; readonly packageStatus: string }
  | { readonly outcome: 'not-found'; readonly modelPackageArn: string };

/** Whether SageMaker answered that the package does not exist. */
export function isNotFound(error: unknown): boolean {
  return (
    isAwsError(error, 'ResourceNotFound') ||
    (isAwsError(error, 'ValidationException') && /not (be )?found|does not exist/i.test(errorMessage(error)))
  );
}

async function describePackage(
  sageMaker: SageMakerClient,
  arn: string,
): Promise<DescribeModelPackageCommandOutput | undefined> {
  try {
    return await sageMaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
  } catch (error) {
    if (isNotFound(error)) {
      return undefined;
    }
    throw error;
  }
}

async function reportOf(
  s3: S3Client,
  modelPackage: DescribeModelPackageCommandOutput,
  paths: readonly string[],
): Promise<{ report: EvaluationReport } | { reason: string }> {
  const uri = reportUriOf(modelPackage);
  if (uri === undefined) {
    return { reason: 'the package has no evaluation report (ModelMetrics.ModelQuality.Statistics)' };
  }
  try {
    return { report: await readEvaluationReport(s3, uri, paths) };
  } catch (error) {
    if (error instanceof EvaluationReportError) {
      return { reason: error.message };
    }
    throw error;
  }
}

/** The champion's evidence. Failures a retry may cure are thrown; anything else is `unusable`. */
export async function readChampion(
  clients: ApprovalGateClients,
  championPointerName: string,
  paths: readonly string[],
): Promise<ChampionEvidence> {
  let value: string | undefined;
  try {
    const response = await clients.ssm.send(new GetParameterCommand({ Name: championPointerName }));
    value = response.Parameter?.Value?.trim();
  } catch (error) {
    if (isAwsError(error, 'ParameterNotFound')) {
      return {
        kind: 'unusable',
        reason: `the prod release pointer ${championPointerName} does not exist (deploy prod's serving stack first)`,
      };
    }
    throw error;
  }
  if (value === NO_MODEL_RELEASED) {
    return { kind: 'none', pointerName: championPointerName };
  }
  let arn: string;
  try {
    arn = parseModelPackageArn(value).arn;
  } catch {
    return {
      kind: 'unusable',
      reason: `the prod release pointer ${championPointerName} holds ${describeValue(value)}, not a model package ARN or ${NO_MODEL_RELEASED}`,
    };
  }
  const modelPackage = await describePackage(clients.sageMaker, arn);
  if (modelPackage === undefined) {
    return { kind: 'unusable', modelPackageArn: arn, reason: `the champion ${arn} does not exist` };
  }
  const read = await reportOf(clients.s3, modelPackage, paths);
  return 'report' in read
    ? { kind: 'report', modelPackageArn: arn, report: read.report }
    : { kind: 'unusable', modelPackageArn: arn, reason: read.reason };
}

/**
 * Judges the pending model package `modelPackageArn` and records the verdict with
 * UpdateModelPackage. A package that is already Approved or Rejected, not yet Completed, or gone
 * is left alone, so that every delivery of an event decides at most once. Throws on failures that
 * a retry may cure (throttling, access denied), having changed nothing.
 */
export async function runApprovalGate(
  clients: ApprovalGateClients,
  settings: ApprovalGateSettings,
  modelPackageArn: string,
): Promise<GateResult> {
  const challenger = await describePackage(clients.sageMaker, modelPackageArn);
  if (challenger === undefined) {
    return { outcome: 'not-found', modelPackageArn };
  }
  const approvalStatus = challenger.ModelApprovalStatus ?? PENDING_MANUAL_APPROVAL;
  if (approvalStatus !== PENDING_MANUAL_APPROVAL) {
    return { outcome: 'already-decided', modelPackageArn, approvalStatus };
  }
  const packageStatus = challenger.ModelPackageStatus ?? 'Completed';
  if (packageStatus !== 'Completed') {
    return { outcome: 'not-ready', modelPackageArn, packageStatus };
  }

  const paths = gateMetrics(settings.rules);
  const read = await reportOf(clients.s3, challenger, paths);
  const challengerEvidence: ChallengerEvidence =
    'report' in read ? { kind: 'report', report: read.report } : { kind: 'unusable', reason: read.reason };
  const championEvidence = await readChampion(clients, settings.championPointerName, paths);

  const decision = decide(settings.rules, challengerEvidence, championEvidence);
  if (decision.approved && settings.onlineGateStateMachineArn !== undefined) {
    return startOnlineTrial(clients, settings.onlineGateStateMachineArn, modelPackageArn, decision);
  }
  return recordVerdict(clients.sageMaker, modelPackageArn, decision);
}

/**
 * Writes a gate's verdict on a package with UpdateModelPackage: the approval status and the
 * description that holds the reasons and the numbers. The offline and the online gate both end here.
 */
export async function recordVerdict<D extends { readonly approved: boolean; readonly description: string }>(
  sageMaker: SageMakerClient,
  modelPackageArn: string,
  decision: D,
): Promise<{
  readonly outcome: 'approved' | 'rejected';
  readonly modelPackageArn: string;
  readonly decision: D;
  readonly update: UpdateModelPackageCommandInput;
}> {
  const update: UpdateModelPackageCommandInput = {
    ModelPackageArn: modelPackageArn,
    ModelApprovalStatus: decision.approved ? 'Approved' : 'Rejected',
    ApprovalDescription: decision.description,
  };
  await sageMaker.send(new UpdateModelPackageCommand(update));
  return { outcome: decision.approved ? 'approved' : 'rejected', modelPackageArn, decision, update };
}

/**
 * Starts the online trial of a package the offline rules approve, leaving it pending. Idempotent:
 * the execution is named after the package, so a redelivery finds it (ExecutionAlreadyExists, or
 * Step Functions returning the running execution started with the same input).
 */
async function startOnlineTrial(
  clients: ApprovalGateClients,
  stateMachineArn: string,
  modelPackageArn: string,
  decision: GateDecision,
): Promise<GateResult> {
  if (clients.stepFunctions === undefined) {
    throw new Error('the approval gate has an online gate state machine but no Step Functions client');
  }
  const executionName = onlineTrialExecutionName(modelPackageArn);
  const input: OnlineGateInput = {
    modelPackageArn,
    offline: { reasons: decision.reasons, numbers: decision.numbers },
  };
  try {
    const response = await clients.stepFunctions.send(
      new StartExecutionCommand({ stateMachineArn, name: executionName, input: JSON.stringify(input) }),
    );
    return {
      outcome: 'trial-started',
      modelPackageArn,
      decision,
      executionName,
      executionArn: response.executionArn,
    };
  } catch (error) {
    if (isAwsError(error, 'ExecutionAlreadyExists')) {
      return { outcome: 'trial-already-started', modelPackageArn, decision, executionName };
    }
    throw error;
  }
}
