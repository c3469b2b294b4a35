/**
 * The online gate: a challenger the offline rules approve serves as the shadow variant of the
 * level-4 environment's endpoint for a window; its captured predictions and the champion's are each
 * joined with the ground truth (lambda/shared/quality), and it is approved only if its live quality
 * also beats the champion's by the margin, with the offline gate's rule (`compareWithChampion`).
 */
import { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeModelPackageCommand,
  SageMakerClient,
  UpdateModelPackageCommandInput,
} from '@aws-sdk/client-sagemaker';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { describeValue } from '../../../lib/private/describe-value';
import {
  addCaptureLine,
  addGroundTruthLine,
  emptyJoin,
  hourPrefixes,
  isUnreadableObject,
  JoinTable,
  ProblemType,
  QualityJoin,
  qualityReport,
  QualityReport,
  readLines,
} from '../quality';
import { errorMessage, isAwsError } from '../release/errors';
import { parseModelPackageArn } from '../release/model-package-arn';
import {
  approvalDescription,
  compareWithChampion,
  formatNumber,
  isNotFound,
  OnlineGateInput,
  PENDING_MANUAL_APPROVAL,
  readMarginPercent,
  recordVerdict,
} from './approval-gate';
import { EnvironmentProblems } from './errors';
import { parseProductionDataLocation, ProductionDataError, ProductionDataLocation } from '../production-data';

/** The live metrics the online gate compares: the model quality engine's, with their direction. */
export const LIVE_METRICS = {
  rmse: { problemType: 'Regression', higherIsBetter: false },
  mae: { problemType: 'Regression', higherIsBetter: false },
  accuracy: { problemType: 'BinaryClassification', higherIsBetter: true },
  f1: { problemType: 'BinaryClassification', higherIsBetter: true },
} as const satisfies Record<string, { problemType: ProblemType; higherIsBetter: boolean }>;

export type LiveMetricName = keyof typeof LIVE_METRICS;

/** How the online gate judges. */
export interface OnlineGateRules {
  /** The live metric compared; its direction and problem type follow from it. */
  readonly liveMetric: LiveMetricName;
  /** As the offline gate's: how much better than the champion's, in percent of the champion's value. */
  readonly marginPercent: number;
  /** The fewest matched labels each variant needs in the window; fewer rejects the challenger. */
  readonly minSamples: number;
}

export const DEFAULT_ONLINE_GATE_RULES: OnlineGateRules = {
  liveMetric: 'rmse',
  marginPercent: 1,
  minSamples: 100,
};

/** The most matched labels MIN_SAMPLES may ask for. */
export const MAX_MIN_SAMPLES = 10_000_000;

/** Reads LIVE_METRIC, MARGIN_PERCENT and MIN_SAMPLES from `env`, adding each invalid value to `problems`. */
export function readOnlineGateRules(env: NodeJS.ProcessEnv, problems: EnvironmentProblems): OnlineGateRules {
  const metric = env.LIVE_METRIC?.trim() || DEFAULT_ONLINE_GATE_RULES.liveMetric;
  if (!Object.prototype.hasOwnProperty.call(LIVE_METRICS, metric)) {
    problems.add(
      `LIVE_METRIC ${describeValue(metric)} is not a live metric: use ${Object.keys(LIVE_METRICS).join(', ')}`,
    );
  }
  const marginPercent = readMarginPercent(env, problems);
  let minSamples = DEFAULT_ONLINE_GATE_RULES.minSamples;
  const min = env.MIN_SAMPLES?.trim() ?? '';
  if (min !== '') {
    minSamples = Number(min);
    if (!(Number.isInteger(minSamples) && minSamples >= 1 && minSamples <= MAX_MIN_SAMPLES)) {
      problems.add(
        `MIN_SAMPLES ${describeValue(env.MIN_SAMPLES)} is not a count: use a whole number from 1 to ${MAX_MIN_SAMPLES}`,
      );
    }
  }
  return { liveMetric: metric as LiveMetricName, marginPercent, minSamples };
}

/**
 * A failure no retry within the trial cures (the production data parameter is missing or
 * malformed, the request is malformed): the workflow notifies and leaves the package pending.
 */
export class OnlineGateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnlineGateError';
  }
}

/** Reads and checks the production data parameter. Throws OnlineGateError when it is missing or malformed. */
export async function readProductionData(
  ssm: SSMClient,
  parameterName: string,
): Promise<ProductionDataLocation> {
  let value: string | undefined;
  try {
    value = (await ssm.send(new GetParameterCommand({ Name: parameterName }))).Parameter?.Value;
  } catch (error) {
    if (isAwsError(error, 'ParameterNotFound')) {
      throw new OnlineGateError(
        `the production data parameter ${parameterName} does not exist: deploy the level-4 environment's platform stack first`,
      );
    }
    throw error;
  }
  try {
    return parseProductionDataLocation(value ?? '', parameterName);
  } catch (error) {
    if (error instanceof ProductionDataError) {
      throw new OnlineGateError(
        `the production data parameter ${parameterName} holds ${describeValue(value)}, not ` +
          `{"captureUrl": "s3://...", "groundTruthUrl": "s3://...", "kmsKeyArn": "..."}: ${error.message}`,
      );
    }
    throw error;
  }
}

/** What the online gate knows of one variant's live quality in the window. */
export interface LiveQuality {
  readonly variantName: string;
  /** Matched labels: the predictions of the window that met their label. */
  readonly matchedLabels: number;
  /** The live metric on them; null when it cannot be computed (no pair, no positive class). */
  readonly value: number | null;
  /** Capture and ground-truth lines left out as malformed. */
  readonly malformedLines: number;
  readonly unreadableObjects: number;
}

/** The window the shadow served in. */
export interface LiveWindow {
  readonly start: Date;
  readonly end: Date;
}

/** What `decideOnline` knows besides the two variants' numbers. */
export interface OnlineEvidence {
  readonly endpointName: string;
  readonly window: LiveWindow;
  readonly champion: LiveQuality;
  readonly shadow: LiveQuality;
  /** The offline verdict's reasons and numbers, recorded with the online ones. */
  readonly offline?: OnlineGateInput['offline'];
}

/** The online gate's verdict. */
export interface OnlineDecision {
  readonly approved: boolean;
  readonly reasons: readonly string[];
  readonly numbers: readonly string[];
  readonly description: string;
}

/** Decides on a challenger from the two variants' live numbers, without calling anything. */
export function decideOnline(rules: OnlineGateRules, evidence: OnlineEvidence): OnlineDecision {
  const { champion, shadow } = evidence;
  const label = `live ${rules.liveMetric}`;
  const reasons: string[] = [];
  let approved = false;
  if (shadow.matchedLabels < rules.minSamples || champion.matchedLabels < rules.minSamples) {
    reasons.push(
      `not enough live traffic: the shadow has ${shadow.matchedLabels} matched labels and the champion ` +
        `${champion.matchedLabels}, each needs at least ${rules.minSamples} (MIN_SAMPLES)`,
    );
  } else if (shadow.value === null || champion.value === null) {
    const which = shadow.value === null ? 'the shadow' : 'the champion';
    reasons.push(`${label} cannot be computed for ${which} (no positive label or prediction in the window)`);
  } else {
    const comparison = compareWithChampion(label, shadow.value, champion.value, {
      higherIsBetter: LIVE_METRICS[rules.liveMetric].higherIsBetter,
      marginPercent: rules.marginPercent,
    });
    approved = comparison.better;
    reasons.push(comparison.reason);
  }
  if (evidence.offline) {
    reasons.push(`offline: ${evidence.offline.reasons.join('; ') || 'approved'}`);
  }
  const variant = (who: string, q: LiveQuality) =>
    `${who} (${q.variantName}) ${rules.liveMetric} ${q.value === null ? 'n/a' : formatNumber(q.value)} on ` +
    `${q.matchedLabels} labels` +
    (q.malformedLines + q.unreadableObjects > 0
      ? ` (${q.malformedLines} malformed lines, ${q.unreadableObjects} unreadable objects left out)`
      : '');
  const numbers = [
    `Live on ${evidence.endpointName}, ${evidence.window.start.toISOString()} to ${evidence.window.end.toISOString()}: ` +
      `${variant('shadow', shadow)}, ${variant('champion', champion)}`,
    ...(evidence.offline?.numbers ?? []),
  ];
  return {
    approved,
    reasons,
    numbers,
    description: approvalDescription('the online gate', approved, reasons, numbers),
  };
}

/** The clients the online gate calls. */
export interface OnlineGateClients {
  readonly sageMaker: SageMakerClient;
  readonly s3: S3Client;
  readonly ssm: SSMClient;
}

/** Where the online gate finds the data, and how it judges. */
export interface OnlineGateSettings {
  /** The level-4 environment's production data parameter (`productionDataParameterName`). */
  readonly productionDataParameterName: string;
  /** The endpoint of the model's serving slot in the level-4 environment. */
  readonly endpointName: string;
  /** The variant that serves the champion, e.g. `AllTraffic`. */
  readonly championVariantName: string;
  /** The shadow variant the challenger serves as, e.g. `Shadow`. */
  readonly shadowVariantName: string;
  readonly rules: OnlineGateRules;
}

/** What the workflow passes: the execution's input, and the window the shadow served in. */
export interface OnlineGateRequest extends OnlineGateInput {
  /** When the shadow started serving (ISO 8601). */
  readonly windowStart: string;
  /** How long it served: the window is `windowHours` hours from `windowStart` (1 to 168). */
  readonly windowHours: number;
}

/** What the online gate did with a package. */
export type OnlineGateResult =
  | {
      readonly outcome: 'approved' | 'rejected';
      readonly modelPackageArn: string;
      readonly decision: OnlineDecision;
      readonly update: UpdateModelPackageCommandInput;
    }
  | { readonly outcome: 'already-decided'; readonly modelPackageArn: string; readonly approvalStatus: string }
  | { readonly outcome: 'not-found'; readonly modelPackageArn: string };

const HOUR_MS = 3600_000;
/** The longest window: a week. */
export const MAX_WINDOW_HOURS = 168;

/** Checks the workflow's request. Throws OnlineGateError naming the field. */
export function parseOnlineGateRequest(event: unknown): OnlineGateRequest & { window: LiveWindow } {
  const body = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
  let modelPackageArn: string;
  try {
    modelPackageArn = parseModelPackageArn(body.modelPackageArn).arn;
  } catch (error) {
    throw new OnlineGateError(`the request's modelPackageArn is invalid: ${errorMessage(error)}`);
  }
  const start = typeof body.windowStart === 'string' ? new Date(body.windowStart) : new Date(NaN);
  if (Number.isNaN(start.getTime())) {
    throw new OnlineGateError(
      `the request's windowStart ${describeValue(body.windowStart)} is not an ISO 8601 time`,
    );
  }
  const hours = body.windowHours;
  if (!(typeof hours === 'number' && Number.isInteger(hours) && hours >= 1 && hours <= MAX_WINDOW_HOURS)) {
    throw new OnlineGateError(
      `the request's windowHours ${describeValue(hours)} is not a whole number of hours from 1 to ${MAX_WINDOW_HOURS}`,
    );
  }
  const end = new Date(start.getTime() + hours * HOUR_MS);
  const offline = body.offline as OnlineGateInput['offline'] | undefined;
  const strings = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'string');
  if (offline !== undefined && !(strings(offline?.reasons) && strings(offline?.numbers))) {
    throw new OnlineGateError("the request's offline must be {reasons: string[], numbers: string[]}");
  }
  return {
    modelPackageArn,
    offline: offline ?? { reasons: [], numbers: [] },
    windowStart: start.toISOString(),
    windowHours: hours,
    window: { start, end },
  };
}

/** The whole UTC hours that hold the window, the hour it starts in first. */
function windowHours(window: LiveWindow): { start: Date; hours: number } {
  const start = new Date(Math.floor(window.start.getTime() / HOUR_MS) * HOUR_MS);
  const last = Math.floor((window.end.getTime() - 1) / HOUR_MS) * HOUR_MS;
  return { start, hours: (last - start.getTime()) / HOUR_MS + 1 };
}

async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/**
 * Hands every line of every object under the prefixes to `sink`, in prefix then key order. A corrupt
 * object counts as unreadable; other failures (network, S3) are thrown.
 */
async function readObjects(
  s3: S3Client,
  bucket: string,
  prefixes: readonly string[],
  sink: (line: string, lastModified?: Date) => void,
): Promise<number> {
  let unreadable = 0;
  for (const prefix of prefixes) {
    for (const key of await listKeys(s3, bucket, prefix)) {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      try {
        await readLines(object.Body as Readable, (line) => sink(line, object.LastModified));
      } catch (error) {
        if (!isUnreadableObject(error)) throw error;
        unreadable += 1;
      }
    }
  }
  return unreadable;
}

/** The join restricted to predictions made in the window: those before the shadow served do not count. */
function inWindow(join: QualityJoin, window: LiveWindow): QualityJoin {
  const table = new JoinTable(join.table.size);
  const from = window.start.getTime();
  const to = window.end.getTime();
  for (const [id, entry] of join.table.entries()) {
    const t = entry.inferenceTime;
    const keepPrediction = entry.prediction !== undefined && (t === undefined || (t >= from && t <= to));
    if (keepPrediction) {
      table.set(id, entry);
    } else if (entry.label !== undefined) {
      table.set(id, { label: entry.label, labelTime: entry.labelTime });
    }
  }
  return { ...join, table };
}

function liveQuality(
  variantName: string,
  report: QualityReport,
  metric: LiveMetricName,
  unreadableObjects: number,
): LiveQuality {
  const value = (report.metrics as unknown as Record<string, number | null>)[metric] ?? null;
  return {
    variantName,
    matchedLabels: report.matchedLabels,
    value,
    malformedLines: report.malformedLines,
    unreadableObjects,
  };
}

/**
 * Reads both variants' live quality in the window: the champion's and the shadow's captures, each
 * joined with the same ground truth (the labels read once, added to both joins).
 */
export async function readLiveQuality(
  clients: Pick<OnlineGateClients, 's3' | 'ssm'>,
  settings: OnlineGateSettings,
  window: LiveWindow,
): Promise<{ champion: LiveQuality; shadow: LiveQuality }> {
  const location = await readProductionData(clients.ssm, settings.productionDataParameterName);
  const { capture, groundTruth } = location;
  const hours = windowHours(window);
  const { problemType } = LIVE_METRICS[settings.rules.liveMetric];
  const variants = [settings.championVariantName, settings.shadowVariantName];
  const joins = variants.map(() => emptyJoin(problemType));
  const unreadable = [0, 0];
  for (const [i, variant] of variants.entries()) {
    const prefixes = hourPrefixes(`${capture.prefix}${variant}/`, hours);
    unreadable[i] += await readObjects(clients.s3, capture.bucket, prefixes, (line) =>
      addCaptureLine(joins[i], line),
    );
  }
  const labelPrefixes = hourPrefixes(groundTruth.prefix, hours);
  const unreadableLabels = await readObjects(clients.s3, groundTruth.bucket, labelPrefixes, (line, at) => {
    for (const join of joins) addGroundTruthLine(join, line, at);
  });
  const [champion, shadow] = joins.map((join, i) =>
    liveQuality(
      variants[i],
      qualityReport(inWindow(join, window)),
      settings.rules.liveMetric,
      unreadable[i] + unreadableLabels,
    ),
  );
  return { champion, shadow };
}

/**
 * Judges the package on trial by its live quality and records the verdict with UpdateModelPackage.
 * A package a person decided during the trial, or that is gone, is left alone. Throws
 * OnlineGateError when the data cannot be found, and AWS errors as they are: nothing is decided.
 */
export async function runOnlineGate(
  clients: OnlineGateClients,
  settings: OnlineGateSettings,
  event: unknown,
): Promise<OnlineGateResult> {
  const request = parseOnlineGateRequest(event);
  const { modelPackageArn } = request;
  let approvalStatus: string;
  try {
    const described = await clients.sageMaker.send(
      new DescribeModelPackageCommand({ ModelPackageName: modelPackageArn }),
    );
    approvalStatus = described.ModelApprovalStatus ?? PENDING_MANUAL_APPROVAL;
  } catch (error) {
    if (isNotFound(error)) {
      return { outcome: 'not-found', modelPackageArn };
    }
    throw error;
  }
  if (approvalStatus !== PENDING_MANUAL_APPROVAL) {
    return { outcome: 'already-decided', modelPackageArn, approvalStatus };
  }
  const live = await readLiveQuality(clients, settings, request.window);
  const decision = decideOnline(settings.rules, {
    endpointName: settings.endpointName,
    window: request.window,
    ...live,
    offline: request.offline,
  });
  return recordVerdict(clients.sageMaker, modelPackageArn, decision);
}
