import { MaturityLevel } from '../../lib/maturity/maturity-level';
import { ProblemCollector } from '../../lib/private/errors';
import { Json, isKnownObject, isObject, readSwitchable, wholeNumber } from './read';
import {
  AutomationConfig,
  CONFIG_CONTEXT_KEY,
  EnvironmentConfig,
  LiveMetricName,
  OnlineGateConfig,
  ReleaseConfig,
} from './types';

const AUTOMATION_KEYS = ['enabled', 'environment', 'gate', 'guardrails', 'schedule', 'onlineGate'] as const;
const GATE_KEYS = ['primaryMetric', 'higherIsBetter', 'marginPercent', 'thresholds'] as const;
const GUARDRAIL_KEYS = ['cooldownMinutes', 'maxStartsPerDay', 'dataWindowDays'] as const;
const ONLINE_GATE_KEYS = ['enabled', 'windowHours', 'minSamples', 'liveMetric'] as const;
const LIVE_METRICS: readonly LiveMetricName[] = ['rmse', 'mae', 'accuracy', 'f1'];
const METRIC_PATH = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$/;
const SCHEDULE = /^(rate\(.+\)|cron\(.+\))$/;

const OFF: AutomationConfig = {
  enabled: false,
  models: [],
  manualApproval: false,
  gate: { primaryMetric: 'regression_metrics.rmse', higherIsBetter: false, marginPercent: 1, thresholds: {} },
  guardrails: { cooldownMinutes: 360, maxStartsPerDay: 2, dataWindowDays: 30 },
  onlineGate: { enabled: false, windowHours: 24, minSamples: 100, liveMetric: 'rmse' },
};

/**
 * Parses `context.mlops.automation`: the level-4 loop. The release source retrains each model it
 * releases to the level-4 environment, driven by that environment's alarms, judged against the
 * model it serves. The loop is on when an environment is at level 4.
 *
 * - `environment`: the level-4 environment that drives the loop. Default: the last environment of
 *   the release promotion at level 4. Exactly one environment may be at level 4.
 * - `gate`: `primaryMetric` (default `regression_metrics.rmse`), `higherIsBetter` (false),
 *   `marginPercent` (1), `thresholds` (`{"<metric>": {"min"?, "max"?}}`, default none).
 * - `guardrails`: `cooldownMinutes` (360), `maxStartsPerDay` (2), `dataWindowDays` (30).
 * - `schedule`: also retrain on this EventBridge schedule expression. Default: alarms only.
 * - `onlineGate`: `enabled` (false), `windowHours` (24), `minSamples` (100), `liveMetric` (`rmse`,
 *   `mae`, `accuracy` or `f1`; default: the last part of `gate.primaryMetric` when it is one of
 *   them, else `rmse`). With it, each challenger the offline gate approves is tried as the shadow
 *   of the level-4 environment first, so every model in the loop must serve a `shadow` variant
 *   there, and the release to it must not wait for a person.
 */
export function parseAutomation(
  raw: unknown,
  environments: readonly EnvironmentConfig[],
  release: ReleaseConfig,
  problems: ProblemCollector,
): AutomationConfig {
  const at = `context.${CONFIG_CONTEXT_KEY}.automation`;
  const read = readSwitchable(
    at,
    raw,
    AUTOMATION_KEYS,
    'use true, false or an object such as {"guardrails": {"cooldownMinutes": 360}}',
    { ...OFF, enabled: true },
    problems,
  );
  const block: Json = 'block' in read ? read.block : {};
  const fullAutomation = environments.filter((e) => e.level === MaturityLevel.FULL_AUTOMATION);
  if (fullAutomation.length === 0) {
    if (block.environment !== undefined) {
      problems.add(
        `${at}.environment`,
        block.environment,
        'no environment is at level 4: raise the level of the environment whose production drives retraining to 4',
      );
    }
    return OFF;
  }
  const levelFour = fullAutomation.map((e) => `'${e.name}'`).join(', ');
  if (!read.enabled) {
    problems.add(
      at,
      false,
      `environment(s) ${levelFour} are at level 4, which needs the retraining loop: enable it or lower their level to 3`,
    );
    return OFF;
  }
  if (!release.enabled || !release.source) {
    problems.add(
      `context.${CONFIG_CONTEXT_KEY}.release`,
      release.enabled,
      `environment(s) ${levelFour} are at level 4: the loop retrains in the release source and releases through ` +
        'the release automation, so enable it (and give it a source that trains)',
    );
    return OFF;
  }
  const source = release.source;
  const promoted = release.targets.filter((t) => fullAutomation.some((e) => e.name === t.environment));
  let drivingName: string | undefined;
  if (block.environment !== undefined) {
    if (typeof block.environment !== 'string' || !promoted.some((t) => t.environment === block.environment)) {
      problems.add(
        `${at}.environment`,
        block.environment,
        `name the level-4 environment the release automation promotes to: one of ${
          promoted.map((t) => `'${t.environment}'`).join(', ') || '(none)'
        }`,
      );
      return OFF;
    }
    drivingName = block.environment;
  } else {
    drivingName = promoted[promoted.length - 1]?.environment;
  }
  if (drivingName === undefined) {
    problems.add(
      `context.${CONFIG_CONTEXT_KEY}.release.promotion`,
      release.targets.map((t) => t.environment),
      `environment(s) ${levelFour} are at level 4 but not promoted to from '${source.environment}': add them to the promotion`,
    );
    return OFF;
  }
  for (const other of fullAutomation.filter((e) => e.name !== drivingName)) {
    problems.add(
      `context.${CONFIG_CONTEXT_KEY}.environments.${other.name}.level`,
      other.level,
      `only one environment drives the retraining loop of '${source.environment}' ('${drivingName}'): lower '${other.name}' to level 3`,
    );
  }
  const target = release.targets.find((t) => t.environment === drivingName)!;
  const driving = environments.find((e) => e.name === drivingName)!;
  if (driving.account !== source.account || driving.region !== source.region) {
    const where = (e: { account?: string; region?: string }) =>
      `account ${e.account ?? '(the CLI default)'}, region ${e.region ?? '(the CLI default)'}`;
    problems.add(
      `context.${CONFIG_CONTEXT_KEY}.environments.${driving.name}.level`,
      driving.level,
      `the retraining loop is supported only with the release source and the level-4 environment in the same ` +
        `account and region: '${source.environment}' is in ${where(source)}, '${driving.name}' in ${where(driving)}. ` +
        `Give them the same account and region, or lower '${driving.name}' to level 3`,
    );
  }

  const gate = parseGate(`${at}.gate`, block.gate, problems);
  const guardrails = parseGuardrails(`${at}.guardrails`, block.guardrails, problems);
  let schedule: string | undefined;
  if (block.schedule !== undefined) {
    if (typeof block.schedule !== 'string' || !SCHEDULE.test(block.schedule.trim())) {
      problems.add(
        `${at}.schedule`,
        block.schedule,
        'use an EventBridge schedule expression, e.g. "rate(7 days)"',
      );
    } else {
      schedule = block.schedule.trim();
    }
  }
  const onlineGate = parseOnlineGate(`${at}.onlineGate`, block.onlineGate, gate.primaryMetric, problems);
  if (onlineGate.enabled) {
    checkOnlineGate(`${at}.onlineGate.enabled`, driving, target.models, target.manualApproval, problems);
  }
  return {
    enabled: true,
    source: source.environment,
    environment: driving.name,
    models: target.models,
    manualApproval: target.manualApproval,
    gate,
    guardrails,
    schedule,
    onlineGate,
  };
}

function parseGate(at: string, raw: unknown, problems: ProblemCollector): AutomationConfig['gate'] {
  if (raw === undefined) {
    return OFF.gate;
  }
  if (
    !isKnownObject(
      at,
      raw,
      GATE_KEYS,
      'use an object such as {"primaryMetric": "regression_metrics.rmse"}',
      problems,
    )
  ) {
    return OFF.gate;
  }
  let { primaryMetric, higherIsBetter, marginPercent } = OFF.gate;
  if (raw.primaryMetric !== undefined) {
    if (typeof raw.primaryMetric === 'string' && METRIC_PATH.test(raw.primaryMetric)) {
      primaryMetric = raw.primaryMetric;
    } else {
      problems.add(
        `${at}.primaryMetric`,
        raw.primaryMetric,
        'use a dotted path into the evaluation report, e.g. "regression_metrics.rmse"',
      );
    }
  }
  if (raw.higherIsBetter !== undefined) {
    if (typeof raw.higherIsBetter === 'boolean') {
      higherIsBetter = raw.higherIsBetter;
    } else {
      problems.add(
        `${at}.higherIsBetter`,
        raw.higherIsBetter,
        'use true (accuracy-like metrics) or false (errors)',
      );
    }
  }
  if (raw.marginPercent !== undefined) {
    const m = raw.marginPercent;
    if (typeof m === 'number' && Number.isFinite(m) && m >= 0 && m < 100) {
      marginPercent = m;
    } else {
      problems.add(`${at}.marginPercent`, m, 'use a percentage from 0 up to, but not including, 100');
    }
  }
  const thresholds: Record<string, { min?: number; max?: number }> = {};
  if (raw.thresholds !== undefined) {
    if (!isObject(raw.thresholds)) {
      problems.add(
        `${at}.thresholds`,
        raw.thresholds,
        'use an object such as {"regression_metrics.rmse": {"max": 6}}',
      );
    } else {
      for (const [metric, bounds] of Object.entries(raw.thresholds)) {
        const key = `${at}.thresholds.${metric}`;
        if (!METRIC_PATH.test(metric)) {
          problems.add(
            key,
            bounds,
            'key each bound by a dotted path into the report, e.g. "regression_metrics.rmse"',
          );
          continue;
        }
        if (
          !isKnownObject(
            key,
            bounds,
            ['min', 'max'],
            'use {"min": <number>, "max": <number>}, either or both',
            problems,
          )
        ) {
          continue;
        }
        const finite = (v: unknown) => v === undefined || (typeof v === 'number' && Number.isFinite(v));
        if (
          (bounds.min === undefined && bounds.max === undefined) ||
          !finite(bounds.min) ||
          !finite(bounds.max)
        ) {
          problems.add(key, bounds, 'give "min", "max" or both as numbers');
        } else if (
          bounds.min !== undefined &&
          bounds.max !== undefined &&
          (bounds.min as number) > (bounds.max as number)
        ) {
          problems.add(key, bounds, 'min is above max, so no value could pass: swap or widen them');
        } else {
          thresholds[metric] = {
            ...(bounds.min !== undefined ? { min: bounds.min as number } : {}),
            ...(bounds.max !== undefined ? { max: bounds.max as number } : {}),
          };
        }
      }
    }
  }
  return { primaryMetric, higherIsBetter, marginPercent, thresholds };
}

function parseGuardrails(
  at: string,
  raw: unknown,
  problems: ProblemCollector,
): AutomationConfig['guardrails'] {
  if (raw === undefined) {
    return OFF.guardrails;
  }
  if (
    !isKnownObject(
      at,
      raw,
      GUARDRAIL_KEYS,
      'use an object such as {"cooldownMinutes": 360, "maxStartsPerDay": 2}',
      problems,
    )
  ) {
    return OFF.guardrails;
  }
  return {
    cooldownMinutes: wholeNumber(
      `${at}.cooldownMinutes`,
      raw.cooldownMinutes,
      OFF.guardrails.cooldownMinutes,
      0,
      40320,
      problems,
    ),
    maxStartsPerDay: wholeNumber(
      `${at}.maxStartsPerDay`,
      raw.maxStartsPerDay,
      OFF.guardrails.maxStartsPerDay,
      1,
      1000,
      problems,
    ),
    dataWindowDays: wholeNumber(
      `${at}.dataWindowDays`,
      raw.dataWindowDays,
      OFF.guardrails.dataWindowDays,
      1,
      3650,
      problems,
    ),
  };
}

function parseOnlineGate(
  at: string,
  raw: unknown,
  primaryMetric: string,
  problems: ProblemCollector,
): OnlineGateConfig {
  const last = primaryMetric.split('.').pop() as LiveMetricName;
  const defaults: OnlineGateConfig = {
    ...OFF.onlineGate,
    liveMetric: LIVE_METRICS.includes(last) ? last : OFF.onlineGate.liveMetric,
  };
  if (raw === undefined) {
    return defaults;
  }
  if (
    !isKnownObject(
      at,
      raw,
      ONLINE_GATE_KEYS,
      'use an object such as {"enabled": true, "windowHours": 24, "minSamples": 100, "liveMetric": "rmse"}',
      problems,
    )
  ) {
    return defaults;
  }
  let { enabled, liveMetric } = defaults;
  if (raw.enabled !== undefined) {
    if (typeof raw.enabled === 'boolean') {
      enabled = raw.enabled;
    } else {
      problems.add(
        `${at}.enabled`,
        raw.enabled,
        'use true (try each challenger as the shadow first) or false',
      );
    }
  }
  if (raw.liveMetric !== undefined) {
    if (LIVE_METRICS.includes(raw.liveMetric as LiveMetricName)) {
      liveMetric = raw.liveMetric as LiveMetricName;
    } else {
      problems.add(
        `${at}.liveMetric`,
        raw.liveMetric,
        `use one of ${LIVE_METRICS.map((m) => `'${m}'`).join(', ')}, or leave it out for '${defaults.liveMetric}'`,
      );
    }
  }
  return {
    enabled,
    windowHours: wholeNumber(`${at}.windowHours`, raw.windowHours, defaults.windowHours, 1, 168, problems),
    minSamples: wholeNumber(`${at}.minSamples`, raw.minSamples, defaults.minSamples, 1, 10_000_000, problems),
    liveMetric,
  };
}

/**
 * The online gate releases each challenger to the level-4 environment's shadow variant, and a
 * person approving that release would hold every trial.
 */
function checkOnlineGate(
  at: string,
  driving: EnvironmentConfig,
  models: readonly string[],
  manualApproval: boolean,
  problems: ProblemCollector,
): void {
  for (const name of models) {
    const model = driving.models.find((m) => m.name === name);
    const variant = model?.serving.variant;
    if (variant?.kind !== 'shadow') {
      problems.add(
        `context.${CONFIG_CONTEXT_KEY}.environments.${driving.name}.models.${name}.serving.variant`,
        variant?.kind,
        `${at} is true: the online gate tries each challenger of '${name}' as the shadow in '${driving.name}', so serve ` +
          `'${name}' there with a shadow variant ("serving": {"mode": "realTime", "variant": "shadow"}), or turn the online gate off`,
      );
    }
  }
  if (manualApproval) {
    problems.add(
      `context.${CONFIG_CONTEXT_KEY}.release.manualApproval`,
      driving.name,
      `${at} is true: a person approving each release to '${driving.name}' would hold every online trial; ` +
        `take '${driving.name}' out of release.manualApproval, or turn the online gate off`,
    );
  }
}
