// An environment's models (level 2 and up): the `models` map, or the one-model shorthand of the
// environment-level `serving` and `training` blocks.
import { ProblemCollector } from '../../lib/private/errors';
import { MODEL_NAME, modelNameKey } from '../../lib/private/patterns';
import { Json, isKnownObject, isObject } from './read';
import { ModelConfig, ServingConfig, TrainingConfig, WorkloadConfig } from './types';

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
] as const;
const SERVING_MODES = ['serverless', 'realTime'] as const;
const TRAINING_KEYS = ['schedule', 'triggerOnNewData'] as const;
const SCHEDULE = /^(rate|cron)\(.+\)$/;

/**
 * The models of the environment `raw` at `at`, whose level is 2 or up (or not valid, so that the
 * models' own problems are reported with the level's). The environment-level `serving` and
 * `training` are the shorthand for one model named `trip-duration`, so they cannot come with `models`.
 */
export function parseModels(at: string, raw: Json, problems: ProblemCollector): ModelConfig[] {
  if (raw.models === undefined) {
    return [
      {
        name: SHORTHAND_MODEL,
        workload: SHORTHAND_MODEL,
        maxRmse: undefined,
        maxFare: undefined,
        serving: parseServing(`${at}.serving`, raw.serving, problems),
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
    const model = parseModel(`${at}.models.${name}`, name, models[name], problems);
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
    serving: parseServing(`${at}.serving`, raw.serving, problems),
    training: parseTraining(`${at}.training`, raw.training, problems),
  };
}

function isPositive(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

function parseServing(at: string, raw: unknown, problems: ProblemCollector): ServingConfig {
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
  const realTimeOnly = ['instanceType', 'minInstances', 'maxInstances'];
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
  };
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
