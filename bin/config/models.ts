// An environment's models (level 2 and up): the `models` map, or the one-model shorthand of the
// environment-level `serving` and `training` blocks.
import {
  LINEAR_STEP_PERCENT,
  MAX_CANARY_PERCENT,
  MAX_WAIT_SECONDS,
} from '../../lib/private/blue-green-update';
import { ProblemCollector } from '../../lib/private/errors';
import { CLOUDWATCH_ALARM_NAME, MODEL_NAME, modelNameKey } from '../../lib/private/patterns';
import { Json, isKnownObject, isObject } from './read';
import {
  CapacityConfig,
  DataCaptureConfig,
  ModelConfig,
  ServingConfig,
  VariantConfig,
  TrafficShiftingConfig,
  TrainingConfig,
  WorkloadConfig,
} from './types';

const MODEL_KEYS = ['workload', 'maxRmse', 'maxFare', 'serving', 'training'] as const;
const WORKLOADS: readonly WorkloadConfig[] = ['trip-duration', 'fare-amount'];
/** The name and workload of the one model of an environment without a `models` map. */
const SHORTHAND_MODEL: WorkloadConfig = 'trip-duration';
const SERVING_KEYS = [
  'mode',
  'instanceType',
  'minInstances',
  'maxInstances',
  'memorySizeInMb',
  'maxConcurrency',
  'trafficShifting',
  'rollbackAlarmNames',
  'variant',
  'dataCapture',
] as const;
const DATA_CAPTURE_KEYS = ['samplingPercentage', 'captureResponses'] as const;
const VARIANT_KINDS = ['challenger', 'shadow'] as const;
const VARIANT_KEYS = ['kind', 'instanceType', 'instanceCount'] as const;
const SERVING_MODES = ['serverless', 'realTime'] as const;
const TRAINING_KEYS = ['schedule', 'triggerOnNewData'] as const;
const SCHEDULE = /^(rate|cron)\(.+\)$/;
const TRAFFIC_SHIFTING_EXAMPLE =
  'use "allAtOnce", {"canary": {"percent": 10, "waitMinutes": 10}} or {"linear": {"percent": 20, "intervalMinutes": 5}}';
/** Production's default: a tenth of the new fleet takes traffic for 10 minutes before the rest. */
const LAST_ENVIRONMENT_TRAFFIC_SHIFTING: TrafficShiftingConfig = {
  kind: 'canary',
  size: { unit: 'percent', value: 10 },
  waitMinutes: 10,
};

/**
 * The models of the environment `raw` at `at`, whose level is 2 or up (or not valid, so that the
 * models' own problems are reported with the level's). The environment-level `serving` and
 * `training` are the shorthand for one model named `trip-duration`, so they cannot come with `models`.
 * In the last environment (production), real-time slots default to a canary update.
 */
export function parseModels(
  at: string,
  raw: Json,
  problems: ProblemCollector,
  isLast: boolean,
): ModelConfig[] {
  if (raw.models === undefined) {
    return [
      {
        name: SHORTHAND_MODEL,
        workload: SHORTHAND_MODEL,
        maxRmse: undefined,
        maxFare: undefined,
        serving: parseServing(`${at}.serving`, raw.serving, problems, isLast),
        training: parseTraining(`${at}.training`, raw.training, problems),
      },
    ];
  }
  const models = raw.models;
  if (!isObject(models) || Object.keys(models).length === 0) {
    problems.add(
      `${at}.models`,
      models,
      'define at least one model, e.g. {"trip-duration": {}} or ' +
        '{"fare-amount": {"serving": {"mode": "realTime"}}}, keyed by model name',
    );
    return [];
  }
  const names = Object.keys(models);
  for (const key of ['serving', 'training'] as const) {
    if (raw[key] !== undefined) {
      problems.add(
        `${at}.${key}`,
        raw[key],
        `it is the one-model shorthand and cannot come with models: move it into each model, ` +
          `e.g. models.${names[0]}.${key}`,
      );
    }
  }
  checkNames(`${at}.models`, names, problems);
  const parsed: ModelConfig[] = [];
  for (const name of names) {
    const model = parseModel(`${at}.models.${name}`, name, models[name], problems, isLast);
    if (model) {
      parsed.push(model);
    }
  }
  return parsed;
}

/** Each name's form, and no two names that logical ids (which drop hyphens) would make one. */
function checkNames(at: string, names: string[], problems: ProblemCollector): void {
  const byKey = new Map<string, string>();
  for (const name of names) {
    if (!MODEL_NAME.test(name)) {
      problems.add(
        `${at}.${name} (model name)`,
        name,
        'use 1-32 lower-case letters, digits and single hyphens, starting with a letter and not ending with a hyphen',
      );
      continue;
    }
    const key = modelNameKey(name);
    const first = byKey.get(key);
    if (first !== undefined) {
      problems.add(
        `${at}.${name} (model name)`,
        name,
        `models '${first}' and '${name}' differ only in hyphens, which logical ids drop (both become ` +
          `'${key}'): rename one`,
      );
    } else {
      byKey.set(key, name);
    }
  }
}

function parseModel(
  at: string,
  name: string,
  raw: unknown,
  problems: ProblemCollector,
  isLast: boolean,
): ModelConfig | undefined {
  if (
    !isKnownObject(
      at,
      raw,
      MODEL_KEYS,
      'use an object such as {"workload": "fare-amount", "serving": {"mode": "realTime"}}',
      problems,
    )
  ) {
    return undefined;
  }
  const namedWorkload = (WORKLOADS as readonly string[]).includes(name)
    ? (name as WorkloadConfig)
    : undefined;
  const workload = raw.workload ?? namedWorkload;
  const workloads = WORKLOADS.join(', ');
  if (workload === undefined) {
    problems.add(
      `${at}.workload`,
      workload,
      `the model's name is not a workload, so give one: use one of ${workloads}`,
    );
  } else if (!(WORKLOADS as readonly unknown[]).includes(workload)) {
    problems.add(`${at}.workload`, workload, `use one of ${workloads}`);
  }
  const { maxRmse, maxFare } = raw;
  if (maxRmse !== undefined && !isPositive(maxRmse)) {
    problems.add(
      `${at}.maxRmse`,
      maxRmse,
      "use a positive number in the workload's unit (minutes for trip-duration, dollars for fare-amount), " +
        'or leave it out',
    );
  }
  if (maxFare !== undefined && !isPositive(maxFare)) {
    problems.add(`${at}.maxFare`, maxFare, 'use a positive number of dollars, or leave it out');
  } else if (maxFare !== undefined && workload === 'trip-duration') {
    problems.add(
      `${at}.maxFare`,
      maxFare,
      'it applies to workload fare-amount only and the workload is trip-duration: remove it or change workload',
    );
  }
  return {
    name,
    workload: workload as WorkloadConfig,
    maxRmse: maxRmse as number | undefined,
    maxFare: maxFare as number | undefined,
    serving: parseServing(`${at}.serving`, raw.serving, problems, isLast),
    training: parseTraining(`${at}.training`, raw.training, problems),
  };
}

function isPositive(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

function parseServing(at: string, raw: unknown, problems: ProblemCollector, isLast: boolean): ServingConfig {
  const defaults: ServingConfig = { mode: 'serverless' };
  if (raw === undefined) {
    return defaults;
  }
  if (
    !isKnownObject(
      at,
      raw,
      SERVING_KEYS,
      'use an object such as {"mode": "realTime", "instanceType": "ml.m5.large"}',
      problems,
    )
  ) {
    return defaults;
  }
  const mode = raw.mode ?? 'serverless';
  if (!(SERVING_MODES as readonly unknown[]).includes(mode)) {
    problems.add(`${at}.mode`, mode, `use one of ${SERVING_MODES.join(', ')}`);
  }
  if (raw.instanceType !== undefined && typeof raw.instanceType !== 'string') {
    problems.add(`${at}.instanceType`, raw.instanceType, "use an instance type such as 'ml.m5.large'");
  }
  const realTimeOnly = [
    'instanceType',
    'minInstances',
    'maxInstances',
    'trafficShifting',
    'rollbackAlarmNames',
    'variant',
    'dataCapture',
  ];
  const serverlessOnly = ['memorySizeInMb', 'maxConcurrency'];
  for (const key of ['minInstances', 'maxInstances', 'memorySizeInMb', 'maxConcurrency']) {
    const value = raw[key];
    if (value !== undefined && !(typeof value === 'number' && Number.isInteger(value) && value > 0)) {
      problems.add(`${at}.${key}`, value, 'use a positive whole number');
    }
  }
  for (const key of mode === 'serverless' ? realTimeOnly : serverlessOnly) {
    if (raw[key] !== undefined) {
      problems.add(
        `${at}.${key}`,
        raw[key],
        `it applies to mode ${mode === 'serverless' ? 'realTime' : 'serverless'} only: remove it or change mode`,
      );
    }
  }
  return {
    mode: mode as ServingConfig['mode'],
    instanceType: raw.instanceType as string | undefined,
    minInstances: raw.minInstances as number | undefined,
    maxInstances: raw.maxInstances as number | undefined,
    memorySizeInMb: raw.memorySizeInMb as number | undefined,
    maxConcurrency: raw.maxConcurrency as number | undefined,
    // Only real-time slots shift traffic; a serverless one given these keys is reported above.
    ...(mode === 'realTime'
      ? {
          trafficShifting:
            raw.trafficShifting === undefined
              ? isLast
                ? LAST_ENVIRONMENT_TRAFFIC_SHIFTING
                : { kind: 'allAtOnce' }
              : parseTrafficShifting(`${at}.trafficShifting`, raw.trafficShifting, problems),
          rollbackAlarmNames: parseAlarmNames(`${at}.rollbackAlarmNames`, raw.rollbackAlarmNames, problems),
          ...(raw.variant !== undefined
            ? { variant: parseVariant(`${at}.variant`, raw.variant, problems) }
            : {}),
          ...(raw.dataCapture !== undefined && raw.dataCapture !== false
            ? { dataCapture: parseDataCapture(`${at}.dataCapture`, raw.dataCapture, problems) }
            : {}),
        }
      : {}),
  };
}

/**
 * `"challenger"`, `"shadow"`, or `{"kind": "challenger" | "shadow", "instanceType", "instanceCount"}`:
 * the slot's test variant, served from its own pointer once released.
 */
function parseVariant(at: string, raw: unknown, problems: ProblemCollector): VariantConfig | undefined {
  if (raw === undefined) {
    return undefined;
  }
  const block = typeof raw === 'string' ? { kind: raw } : raw;
  const example =
    'use "challenger" (an A/B test), "shadow" (a shadow test) or {"kind": "challenger", "instanceCount": 1}';
  if (!isKnownObject(at, block, VARIANT_KEYS, example, problems)) {
    return undefined;
  }
  const { kind, instanceType, instanceCount } = block;
  if (!(VARIANT_KINDS as readonly unknown[]).includes(kind)) {
    problems.add(typeof raw === 'string' ? at : `${at}.kind`, kind, example);
    return undefined;
  }
  if (instanceType !== undefined && typeof instanceType !== 'string') {
    problems.add(`${at}.instanceType`, instanceType, "use an instance type such as 'ml.m5.large'");
  }
  if (
    instanceCount !== undefined &&
    !(typeof instanceCount === 'number' && Number.isInteger(instanceCount) && instanceCount > 0)
  ) {
    problems.add(`${at}.instanceCount`, instanceCount, 'use a positive whole number');
  }
  return {
    kind: kind as VariantConfig['kind'],
    instanceType: instanceType as string | undefined,
    instanceCount: instanceCount as number | undefined,
  };
}

/** `true`, `false` or `{"samplingPercentage": 1-100, "captureResponses": true}`. */
function parseDataCapture(at: string, raw: unknown, problems: ProblemCollector): DataCaptureConfig {
  if (raw === true) {
    return {};
  }
  const example = 'use true, or an object such as {"samplingPercentage": 20, "captureResponses": true}';
  if (!isKnownObject(at, raw, DATA_CAPTURE_KEYS, example, problems)) {
    return {};
  }
  const { samplingPercentage, captureResponses } = raw;
  if (
    samplingPercentage !== undefined &&
    !(
      typeof samplingPercentage === 'number' &&
      Number.isInteger(samplingPercentage) &&
      samplingPercentage >= 1 &&
      samplingPercentage <= 100
    )
  ) {
    problems.add(`${at}.samplingPercentage`, samplingPercentage, 'use a whole number from 1 to 100');
  }
  if (captureResponses !== undefined && typeof captureResponses !== 'boolean') {
    problems.add(`${at}.captureResponses`, captureResponses, 'use true or false');
  }
  return {
    samplingPercentage: samplingPercentage as number | undefined,
    captureResponses: captureResponses as boolean | undefined,
  };
}

/**
 * `"allAtOnce"`, `{"canary": {...}}` or `{"linear": {...}}`. The bounds that depend on this key
 * alone are checked here, with SageMaker's limits as the ServingSlot checks them; those that
 * depend on the fleet (instances against minInstances and maxInstances, the total of the waits) are
 * checked by the slot at synth.
 */
function parseTrafficShifting(at: string, raw: unknown, problems: ProblemCollector): TrafficShiftingConfig {
  const fallback: TrafficShiftingConfig = { kind: 'allAtOnce' };
  if (raw === 'allAtOnce') {
    return fallback;
  }
  if (!isKnownObject(at, raw, ['canary', 'linear'], TRAFFIC_SHIFTING_EXAMPLE, problems)) {
    return fallback;
  }
  const kinds = (['canary', 'linear'] as const).filter((k) => raw[k] !== undefined);
  if (kinds.length !== 1) {
    problems.add(at, raw, `give exactly one of canary or linear: ${TRAFFIC_SHIFTING_EXAMPLE}`);
    return fallback;
  }
  const [kind] = kinds;
  const waitKey = kind === 'canary' ? 'waitMinutes' : 'intervalMinutes';
  const inner = raw[kind];
  const example =
    kind === 'canary'
      ? 'use an object such as {"percent": 10, "waitMinutes": 10}'
      : 'use an object such as {"percent": 20, "intervalMinutes": 5}';
  if (!isKnownObject(`${at}.${kind}`, inner, ['percent', 'instances', waitKey], example, problems)) {
    return fallback;
  }
  const size = parseCapacity(`${at}.${kind}`, kind, inner, problems);
  const minutes = inner[waitKey];
  const maxMinutes = MAX_WAIT_SECONDS / 60;
  if (!(typeof minutes === 'number' && Number.isInteger(minutes) && minutes >= 0 && minutes <= maxMinutes)) {
    problems.add(
      `${at}.${kind}.${waitKey}`,
      minutes,
      `give a whole number of minutes from 0 to ${maxMinutes} (SageMaker waits at most an hour between steps)`,
    );
  }
  if (!size) {
    return fallback;
  }
  return kind === 'canary'
    ? { kind, size, waitMinutes: minutes as number }
    : { kind, step: size, intervalMinutes: minutes as number };
}

/** A canary's size or a linear step: `percent` (within SageMaker's bounds) or `instances`, not both. */
function parseCapacity(
  at: string,
  kind: 'canary' | 'linear',
  raw: Json,
  problems: ProblemCollector,
): CapacityConfig | undefined {
  const { percent, instances } = raw;
  const [min, max] =
    kind === 'canary' ? [1, MAX_CANARY_PERCENT] : [LINEAR_STEP_PERCENT.min, LINEAR_STEP_PERCENT.max];
  const what = kind === 'canary' ? "the canary's size" : 'the size of each step';
  if ((percent === undefined) === (instances === undefined)) {
    problems.add(
      at,
      raw,
      `give ${what} as either "percent" (${min} to ${max}) or "instances" (a whole number), not both and not neither`,
    );
    return undefined;
  }
  if (percent !== undefined) {
    if (!(typeof percent === 'number' && Number.isInteger(percent) && percent >= min && percent <= max)) {
      problems.add(
        `${at}.percent`,
        percent,
        `use a whole number from ${min} to ${max}: SageMaker takes ${kind === 'canary' ? 'a canary of at most' : 'linear steps of'} ` +
          `${kind === 'canary' ? `${max}%` : `${min}% to ${max}%`} of the fleet`,
      );
      return undefined;
    }
    return { unit: 'percent', value: percent };
  }
  if (!(typeof instances === 'number' && Number.isInteger(instances) && instances > 0)) {
    problems.add(`${at}.instances`, instances, 'use a positive whole number');
    return undefined;
  }
  return { unit: 'instances', value: instances };
}

/** A list of CloudWatch alarm names; how many the slot may take more is checked by the slot. */
function parseAlarmNames(at: string, raw: unknown, problems: ProblemCollector): string[] {
  if (raw === undefined) {
    return [];
  }
  if (!Array.isArray(raw)) {
    problems.add(at, raw, 'use a list of CloudWatch alarm names, e.g. ["checkout-api-5xx"]');
    return [];
  }
  raw.forEach((name, index) => {
    if (typeof name !== 'string' || !CLOUDWATCH_ALARM_NAME.test(name)) {
      problems.add(
        `${at}[${index}]`,
        name,
        "use the name of a CloudWatch alarm in the environment's account and region: 1 to 255 characters, not " +
          'only spaces, without control characters',
      );
    }
  });
  return raw.filter((n): n is string => typeof n === 'string');
}

function parseTraining(at: string, raw: unknown, problems: ProblemCollector): TrainingConfig {
  if (raw === undefined) {
    return { triggerOnNewData: false };
  }
  if (
    !isKnownObject(
      at,
      raw,
      TRAINING_KEYS,
      'use an object such as {"schedule": "rate(7 days)", "triggerOnNewData": true}',
      problems,
    )
  ) {
    return { triggerOnNewData: false };
  }
  const { schedule } = raw;
  const triggerOnNewData = raw.triggerOnNewData ?? false;
  if (schedule !== undefined && !(typeof schedule === 'string' && SCHEDULE.test(schedule))) {
    problems.add(
      `${at}.schedule`,
      schedule,
      'use an EventBridge schedule expression such as "rate(7 days)" or "cron(0 3 ? * MON *)"',
    );
  }
  if (typeof triggerOnNewData !== 'boolean') {
    problems.add(`${at}.triggerOnNewData`, triggerOnNewData, 'use true or false');
  }
  return { schedule: schedule as string | undefined, triggerOnNewData: triggerOnNewData === true };
}
