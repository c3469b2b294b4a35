import { MaturityLevel } from '../../lib/maturity/maturity-level';
import { ProblemCollector } from '../../lib/private/errors';
import { describeValue } from '../../lib/private/describe-value';
import { Json, isKnownObject, isObject, readSwitchable, wholeNumber } from './read';
import { CONFIG_CONTEXT_KEY, EnvironmentConfig, ReleaseConfig, ReleaseTargetConfig } from './types';

const RELEASE_KEYS = [
  'enabled',
  'source',
  'promotion',
  'manualApproval',
  'soakMinutes',
  'approvalTimeoutHours',
  'smokeTest',
] as const;
const SMOKE_KEYS = ['contentType', 'body'] as const;
const CONTENT_TYPE = /^[a-z]+\/[a-z0-9.+-]+$/;

/**
 * Parses `context.mlops.release`: the release automation (level 3, release on approval) of every
 * configured environment, also those a `-c mlops:env` selection leaves out, because a release
 * workflow in one environment names the stacks and roles of the others.
 *
 * - `source`: the environment whose registry approvals start releases. Default: the first
 *   environment that trains (level 2 and up).
 * - `promotion`: the environments released to, in order. Default: the environments after the
 *   source that train, in config order. Each of the source's models is promoted to those of them
 *   that run a model of the same name.
 * - `manualApproval`: the environments a person approves each release to first. Default: the last of
 *   `promotion` (production) when it is below level 4.
 * - `soakMinutes` (default 10): how long a released environment serves before its health gate.
 * - `approvalTimeoutHours` (default 72): how long a manual approval may wait.
 * - `smokeTest`: per model, one request the released model must answer, `{"contentType", "body"}`.
 */
export function parseRelease(
  raw: unknown,
  environments: readonly EnvironmentConfig[],
  problems: ProblemCollector,
): ReleaseConfig {
  const at = `context.${CONFIG_CONTEXT_KEY}.release`;
  const off: ReleaseConfig = {
    enabled: false,
    targets: [],
    soakMinutes: 10,
    approvalTimeoutHours: 72,
    smokeTests: {},
  };
  const read = readSwitchable(
    at,
    raw,
    RELEASE_KEYS,
    'use true, false or an object such as {"source": "dev", "promotion": ["staging", "prod"]}',
    { ...off, enabled: true },
    problems,
  );
  const block: Json = 'block' in read ? read.block : {};
  if (!read.enabled) {
    return off;
  }
  const trains = environments.filter((e) => e.level >= MaturityLevel.AUTOMATED_TRAINING);
  const names = environments.map((e) => e.name);
  const byName = (name: string) => environments.find((e) => e.name === name);
  const trainingNames = trains.map((e) => `'${e.name}'`).join(', ') || '(none)';

  let source: EnvironmentConfig | undefined;
  if (block.source !== undefined) {
    source = typeof block.source === 'string' ? byName(block.source) : undefined;
    if (!source || source.level < MaturityLevel.AUTOMATED_TRAINING) {
      problems.add(
        `${at}.source`,
        block.source,
        `name an environment at level 2 or higher, whose registry approvals start releases: one of ${trainingNames}`,
      );
      return off;
    }
  } else {
    source = trains[0];
  }
  if (!source) {
    // Nothing trains, so nothing is approved: there is nothing to automate.
    return off;
  }

  let promotion: EnvironmentConfig[];
  if (block.promotion !== undefined) {
    const list = block.promotion;
    if (!Array.isArray(list) || list.length === 0 || !list.every((n) => typeof n === 'string')) {
      problems.add(
        `${at}.promotion`,
        list,
        `list the environments to release to, in order, e.g. ${JSON.stringify(
          trains.filter((e) => e !== source).map((e) => e.name),
        )}`,
      );
      return off;
    }
    promotion = [];
    (list as string[]).forEach((name, index) => {
      const env = byName(name);
      const key = `${at}.promotion[${index}]`;
      if (!env) {
        problems.add(key, name, `name a configured environment: one of ${names.join(', ')}`);
      } else if (env === source) {
        problems.add(key, name, `it is the source, whose own approvals start the releases: remove it`);
      } else if (env.level < MaturityLevel.AUTOMATED_TRAINING) {
        problems.add(
          key,
          name,
          `environment '${name}' is at level ${env.level}, which has no serving slot: raise its level to 2 or remove it`,
        );
      } else if (promotion.includes(env)) {
        problems.add(key, name, 'name each environment once');
      } else {
        promotion.push(env);
      }
    });
  } else {
    promotion = trains.filter((e) => names.indexOf(e.name) > names.indexOf(source!.name));
  }
  if (promotion.length === 0) {
    return off;
  }

  const last = promotion[promotion.length - 1];
  let approved: string[] = last.level < MaturityLevel.FULL_AUTOMATION ? [last.name] : [];
  if (block.manualApproval !== undefined) {
    const list = block.manualApproval;
    const promoted = promotion.map((e) => e.name);
    if (!Array.isArray(list) || !list.every((n) => typeof n === 'string' && promoted.includes(n))) {
      problems.add(
        `${at}.manualApproval`,
        list,
        `list the promoted environments a person approves each release to first, e.g. ${JSON.stringify([
          last.name,
        ])}, or [] for none; promoted: ${promoted.join(', ')}`,
      );
    } else {
      approved = list as string[];
    }
  }

  const soakMinutes = wholeNumber(`${at}.soakMinutes`, block.soakMinutes, 10, 0, 24 * 60, problems);
  const approvalTimeoutHours = wholeNumber(
    `${at}.approvalTimeoutHours`,
    block.approvalTimeoutHours,
    72,
    1,
    // A standard workflow runs for at most a year; a week is plenty for a person.
    7 * 24,
    problems,
  );
  const smokeTests = parseSmokeTests(`${at}.smokeTest`, block.smokeTest, source, problems);

  const targets: ReleaseTargetConfig[] = promotion.map((env) => ({
    environment: env.name,
    account: env.account,
    region: env.region,
    manualApproval: approved.includes(env.name),
    // A model is promoted to the environments that run a model of the same name.
    models: source!.models.map((m) => m.name).filter((name) => env.models.some((m) => m.name === name)),
  }));
  return {
    enabled: true,
    source: { environment: source.name, account: source.account, region: source.region },
    targets,
    soakMinutes,
    approvalTimeoutHours,
    smokeTests,
  };
}

function parseSmokeTests(
  at: string,
  raw: unknown,
  source: EnvironmentConfig,
  problems: ProblemCollector,
): ReleaseConfig['smokeTests'] {
  if (raw === undefined) {
    return {};
  }
  const models = source.models.map((m) => m.name);
  if (!isObject(raw)) {
    problems.add(
      at,
      raw,
      `use an object keyed by model, e.g. {"${models[0]}": {"contentType": "text/csv", "body": "..."}}`,
    );
    return {};
  }
  const tests: Record<string, { contentType: string; body: string }> = {};
  for (const [model, test] of Object.entries(raw)) {
    const key = `${at}.${model}`;
    if (!models.includes(model)) {
      problems.add(
        key,
        test,
        `no model '${model}' is released from '${source.name}': use one of ${models.join(', ')}`,
      );
      continue;
    }
    if (
      !isKnownObject(
        key,
        test,
        SMOKE_KEYS,
        'use {"contentType": "text/csv", "body": "<one request>"}',
        problems,
      )
    ) {
      continue;
    }
    const { contentType, body } = test;
    if (typeof contentType !== 'string' || !CONTENT_TYPE.test(contentType)) {
      problems.add(`${key}.contentType`, contentType, 'use a MIME type the model accepts, e.g. "text/csv"');
      continue;
    }
    // InvokeEndpoint takes up to 6 MB (25 MB for streaming); one smoke request is small.
    if (typeof body !== 'string' || body.length === 0 || body.length > 64 * 1024) {
      problems.add(
        `${key}.body`,
        typeof body === 'string' && body.length > 64 * 1024 ? `${describeValue(body.slice(0, 20))}...` : body,
        'use one request as a non-empty string of at most 64 KiB, e.g. one CSV row of features',
      );
      continue;
    }
    tests[model] = { contentType, body };
  }
  return tests;
}
