import { parsePlatformConfig } from '../../bin/config';

const config = (
  environments: Record<string, unknown>,
  automation?: unknown,
  extra: Record<string, unknown> = {},
  release?: unknown,
) => parsePlatformConfig({ mlops: { environments, delivery: false, release, automation }, ...extra });

const SHADOW = { mode: 'realTime', variant: 'shadow', dataCapture: true };
const CHALLENGER = { mode: 'realTime', variant: 'challenger', dataCapture: true };
/** dev trains, staging is at 3, prod at 4 drives the loop; prod's models serve `prodServing`. */
const envs = (prodServing: unknown = SHADOW) => ({
  dev: { level: 2, models: { 'trip-duration': {}, 'fare-amount': { workload: 'fare-amount' } } },
  staging: { level: 3, models: { 'trip-duration': { serving: SHADOW } } },
  prod: {
    level: 4,
    models: {
      'trip-duration': { serving: prodServing },
      'fare-amount': { workload: 'fare-amount', serving: prodServing },
    },
  },
});

/** The message of the config error `run` throws. */
function errorOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a config error');
}

describe('context.mlops.automation', () => {
  test('no environment at level 4 with an `environment` key: the error says to raise one to 4', () => {
    const message = errorOf(() => config({ dev: { level: 2 }, prod: { level: 3 } }, { environment: 'prod' }));
    expect(message).toMatch(/context\.mlops\.automation\.environment/);
    expect(message).toMatch(/'prod'/);
    expect(message).toMatch(/no environment is at level 4: raise the level/);
  });

  test('two environments at level 4: the one not driving the loop must go to level 3', () => {
    const message = errorOf(() =>
      config({ dev: { level: 2 }, staging: { level: 4 }, prod: { level: 4 } }, { environment: 'prod' }),
    );
    expect(message).toMatch(/context\.mlops\.environments\.staging\.level/);
    expect(message).toMatch(
      /only one environment drives the retraining loop of 'dev' \('prod'\): lower 'staging' to level 3/,
    );
  });

  test.each([
    [{ cooldownMinutes: -1 }, /guardrails\.cooldownMinutes.*-1.*whole number from 0 to 40320/],
    [{ maxStartsPerDay: 0 }, /guardrails\.maxStartsPerDay.*0.*whole number from 1 to 1000/],
    [{ dataWindowDays: 1.5 }, /guardrails\.dataWindowDays.*1\.5.*whole number from 1 to 3650/],
    [{ cooldown: 5 }, /guardrails/],
  ])('bad guardrails %j fail naming the key and the range', (guardrails, expected) => {
    expect(errorOf(() => config(envs(), { guardrails }))).toMatch(expected);
  });

  test.each([
    [
      { 'regression_metrics.rmse': { min: 7, max: 6 } },
      /thresholds\.regression_metrics\.rmse.*min is above max/,
    ],
    [{ 'regression_metrics.rmse': {} }, /give "min", "max" or both as numbers/],
    [{ 'regression_metrics.rmse': { max: 'six' } }, /give "min", "max" or both as numbers/],
    [{ 'not a path': { max: 6 } }, /key each bound by a dotted path/],
    ['rmse < 6', /gate\.thresholds.*use an object such as/],
  ])('bad gate thresholds %j fail naming the metric', (thresholds, expected) => {
    expect(errorOf(() => config(envs(), { gate: { thresholds } }))).toMatch(expected);
  });

  test.each(['every 7 days', 7, 'rate(7 days'])('a bad schedule %j fails with an example', (schedule) => {
    expect(errorOf(() => config(envs(), { schedule }))).toMatch(
      /automation\.schedule.*use an EventBridge schedule expression, e\.g\. "rate\(7 days\)"/,
    );
  });
});

describe('context.mlops.automation.onlineGate', () => {
  test('defaults: off, a day, 100 samples, the live metric of the gate', () => {
    expect(config(envs(CHALLENGER)).automation.onlineGate).toEqual({
      enabled: false,
      windowHours: 24,
      minSamples: 100,
      liveMetric: 'rmse',
    });
  });

  test.each([
    ['binary_classification_metrics.accuracy', 'accuracy'],
    ['regression_metrics.mae', 'mae'],
    ['binary_classification_metrics.f1', 'f1'],
    ['regression_metrics.r2', 'rmse'],
  ])('the live metric follows a primary metric %s when it maps: %s', (primaryMetric, liveMetric) => {
    const { automation } = config(envs(), { gate: { primaryMetric, higherIsBetter: liveMetric !== 'mae' } });
    expect(automation.onlineGate.liveMetric).toBe(liveMetric);
  });

  test('enabled with every model of the loop as a shadow in prod', () => {
    const { automation } = config(envs(), {
      onlineGate: { enabled: true, windowHours: 12, minSamples: 500, liveMetric: 'mae' },
    });
    expect(automation.onlineGate).toEqual({
      enabled: true,
      windowHours: 12,
      minSamples: 500,
      liveMetric: 'mae',
    });
  });

  test('enabled while prod serves a challenger: the error names each model, what it serves and the fix', () => {
    const message = errorOf(() => config(envs(CHALLENGER), { onlineGate: { enabled: true } }));
    for (const model of ['trip-duration', 'fare-amount']) {
      expect(message).toContain(`context.mlops.environments.prod.models.${model}.serving.variant`);
    }
    expect(message).toMatch(/'challenger'/);
    expect(message).toMatch(
      /the online gate tries each challenger of 'trip-duration' as the shadow in 'prod', so serve 'trip-duration' there with a shadow variant \("serving": \{"mode": "realTime", "variant": "shadow"\}\)/,
    );
  });

  test('enabled while prod serves no variant at all', () => {
    const message = errorOf(() =>
      config(envs({ mode: 'realTime', dataCapture: true }), { onlineGate: { enabled: true } }),
    );
    expect(message).toContain('context.mlops.environments.prod.models.trip-duration.serving.variant');
    expect(message).toMatch(/with a shadow variant/);
  });

  test('enabled while a person approves each release to prod: the trial would wait for them', () => {
    const message = errorOf(() =>
      config(envs(), { onlineGate: { enabled: true } }, {}, { manualApproval: ['prod'] }),
    );
    expect(message).toMatch(/context\.mlops\.release\.manualApproval/);
    expect(message).toMatch(/would hold every online trial/);
  });

  test.each([
    [{ enabled: 'yes' }, /onlineGate\.enabled.*'yes'.*use true/],
    [{ windowHours: 0 }, /onlineGate\.windowHours.*whole number from 1 to 168/],
    [{ minSamples: 2.5 }, /onlineGate\.minSamples.*whole number from 1 to 10000000/],
    [{ liveMetric: 'r2' }, /onlineGate\.liveMetric.*'r2'.*use one of 'rmse', 'mae', 'accuracy', 'f1'/],
    [{ window: 24 }, /onlineGate/],
  ])('bad %j fails naming the key', (onlineGate, expected) => {
    expect(errorOf(() => config(envs(), { onlineGate }))).toMatch(expected);
  });

  test.each([
    [
      'mlops:automation:onlineGate:enabled',
      'mlops:automation:onlineGate:windowHours',
      'mlops:automation:onlineGate:liveMetric',
    ],
    [
      'mlops:automation:onlineGate.enabled',
      'mlops:automation:onlineGate.windowHours',
      'mlops:automation:onlineGate.liveMetric',
    ],
  ])('-c %s=true (and the other keys) turn it on', (enabled, windowHours, liveMetric) => {
    const { automation } = config(envs(), undefined, {
      [enabled]: 'true',
      [windowHours]: '6',
      [liveMetric]: 'mae',
    });
    expect(automation.onlineGate).toEqual({
      enabled: true,
      windowHours: 6,
      minSamples: 100,
      liveMetric: 'mae',
    });
  });

  test('-c overrides of prod models to shadows let the online gate on', () => {
    const { automation } = config(envs(CHALLENGER), undefined, {
      'mlops:automation:onlineGate:enabled': 'true',
      'mlops:prod:models.trip-duration.serving.variant': 'shadow',
      'mlops:prod:models.fare-amount.serving.variant': 'shadow',
    });
    expect(automation.onlineGate.enabled).toBe(true);
  });

  test('an environment override with an extra colon is still refused', () => {
    expect(errorOf(() => config(envs(), undefined, { 'mlops:prod:level:x': '4' }))).toMatch(
      /context key 'mlops:prod:level:x' is not a valid override/,
    );
  });
});
