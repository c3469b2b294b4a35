import { ProblemCollector } from '../../lib/private/errors';
import { parseDelivery, parseEnvironment } from './blocks';
import { applyOverrides } from './overrides';
import { parseAutomation } from './automation';
import { parseRelease } from './release';
import { Json, isObject } from './read';
import { unknownKey } from './suggest';
import { CONFIG_CONTEXT_KEY, EnvironmentConfig, PlatformConfig, SELECT_CONTEXT_KEY } from './types';

const ROOT_KEYS = ['environments', 'delivery', 'release', 'automation'];

/**
 * Parses and validates the platform config from an app's context.
 *
 * The base config is `context.mlops.environments` (an object keyed by environment name, in
 * promotion order). Command-line overrides, each a separate `-c`:
 * - `mlops:env=dev,staging` builds only the named environments;
 * - `mlops:<env>:<key>=<value>` sets one key, e.g. `mlops:dev:level=1` or
 *   `mlops:dev:workspace.enabled=false`; the value is read as JSON when it parses, else as a string;
 * - `mlops={...}` replaces the whole config with a JSON document.
 *
 * All problems are reported together in one MlopsValidationError naming each key, its value and
 * the fix.
 */
export function parsePlatformConfig(context: Record<string, unknown>): PlatformConfig {
  const problems = new ProblemCollector('Invalid platform config');

  const root = readRoot(context[CONFIG_CONTEXT_KEY], problems);
  const rawEnvironments = root?.environments;
  if (!isObject(rawEnvironments) || Object.keys(rawEnvironments).length === 0) {
    problems.add(
      `context.${CONFIG_CONTEXT_KEY}.environments`,
      rawEnvironments,
      'define at least one environment, e.g. {"dev": {"level": 0}}, in cdk.json',
    );
    problems.throwIfAny();
  }
  if (root) {
    for (const key of Object.keys(root).filter((k) => !ROOT_KEYS.includes(k))) {
      problems.addMessage(unknownKey(`context.${CONFIG_CONTEXT_KEY}`, key, ROOT_KEYS));
    }
  }
  const deliveryRaw: Json = {
    delivery: structuredClone(root?.delivery),
    release: structuredClone(root?.release),
    automation: structuredClone(root?.automation),
  };

  const environments = structuredClone(rawEnvironments) as Record<string, unknown>;
  applyOverrides(context, environments, deliveryRaw, problems);
  const delivery = parseDelivery(deliveryRaw.delivery, problems);

  const parsed: EnvironmentConfig[] = [];
  const count = Object.keys(environments).length;
  Object.entries(environments).forEach(([name, raw], index) => {
    const env = parseEnvironment(name, raw, index === 0, index === count - 1, problems);
    if (env) {
      parsed.push(env);
    }
  });

  const pinned = parsed.filter((e) => e.account !== undefined || e.region !== undefined).map((e) => e.name);
  if (
    delivery.enabled &&
    pinned.length > 0 &&
    (delivery.account === undefined || delivery.region === undefined)
  ) {
    problems.add(
      `context.${CONFIG_CONTEXT_KEY}.delivery.${delivery.account === undefined ? 'account' : 'region'}`,
      undefined,
      `environment(s) ${pinned.join(', ')} name an account or region, so the pipeline that deploys them needs ` +
        'its own: set delivery.account and delivery.region (and bootstrap the targets with --trust that account)',
    );
  }
  // Over every environment: a workflow in one names the stacks and roles of the others.
  const release = parseRelease(deliveryRaw.release, parsed, problems);
  const automation = parseAutomation(deliveryRaw.automation, parsed, release, problems);
  const selected = selectEnvironments(context[SELECT_CONTEXT_KEY], parsed, problems);
  problems.throwIfAny();
  return {
    environments: selected,
    allEnvironments: parsed,
    delivery,
    release,
    automation,
    selected: context[SELECT_CONTEXT_KEY] !== undefined,
    workspaceHome: parsed.find((e) => e.workspace.enabled)?.name,
  };
}

function readRoot(value: unknown, problems: ProblemCollector): Json | undefined {
  let root = value;
  if (typeof root === 'string') {
    try {
      root = JSON.parse(root);
    } catch {
      problems.add(
        `context.${CONFIG_CONTEXT_KEY}`,
        value,
        'pass a JSON object, e.g. -c mlops=\'{"environments":{...}}\'',
      );
      return undefined;
    }
  }
  if (root !== undefined && !isObject(root)) {
    problems.add(`context.${CONFIG_CONTEXT_KEY}`, value, 'use an object with an "environments" key');
    return undefined;
  }
  return root as Json | undefined;
}

function selectEnvironments(
  value: unknown,
  environments: EnvironmentConfig[],
  problems: ProblemCollector,
): EnvironmentConfig[] {
  if (value === undefined) {
    return environments;
  }
  const names =
    typeof value === 'string'
      ? value
          .split(',')
          .map((n) => n.trim())
          .filter(Boolean)
      : [];
  const known = environments.map((e) => e.name);
  const unknown = names.filter((n) => !known.includes(n));
  if (typeof value !== 'string' || names.length === 0 || unknown.length > 0) {
    problems.add(
      `context ${SELECT_CONTEXT_KEY}`,
      unknown.length > 0 ? unknown.join(',') : value,
      `name environments that exist, comma-separated: ${known.join(', ')}`,
    );
    return environments;
  }
  return environments.filter((e) => names.includes(e.name));
}
