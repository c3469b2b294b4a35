import { ProblemCollector } from '../../lib/private/errors';
import { Json, isObject } from './read';
import { OVERRIDE_PREFIX, SELECT_CONTEXT_KEY } from './types';

/**
 * Applies the `-c mlops:<environment>:<key>[.<key>]=<value>` overrides (and `mlops:delivery:<key>`)
 * `mlops:release:<key>` and `mlops:automation:<key>[.<key>]` (nested keys also as `[:<key>]`) in `context` to copies of the
 * configured environments and the delivery, release and automation blocks.
 */
export function applyOverrides(
  context: Record<string, unknown>,
  environments: Json,
  deliveryHolder: Json,
  problems: ProblemCollector,
): void {
  for (const [key, value] of Object.entries(context)) {
    if (!key.startsWith(OVERRIDE_PREFIX) || key === SELECT_CONTEXT_KEY) {
      continue;
    }
    const [envName, ...path] = key.slice(OVERRIDE_PREFIX.length).split(':');
    const block = envName === 'delivery' || envName === 'release' || envName === 'automation';
    // A block's nested keys may also be separated by colons: mlops:automation:onlineGate:enabled.
    const keyPath = block ? path.join('.') : path[0];
    if (!envName || !keyPath || path.some((p) => p === '') || (!block && path.length > 1)) {
      problems.addMessage(
        `context key '${key}' is not a valid override: use -c mlops:<environment>:<key>=<value> ` +
          `(e.g. mlops:dev:level=1) or -c mlops:env=<names>`,
      );
      continue;
    }
    if (block) {
      // `-c mlops:delivery:<key>=<value>` sets a key of the delivery block, `mlops:release:<key>` of
      // the release block, `mlops:automation:<key>[.<key>]` (or `[:<key>]`) of the automation block.
      if (!isObject(deliveryHolder[envName])) {
        deliveryHolder[envName] = deliveryHolder[envName] === false ? { enabled: false } : {};
      }
      const segments = keyPath.split('.');
      let holder = deliveryHolder[envName] as Json;
      for (const segment of segments.slice(0, -1)) {
        if (!isObject(holder[segment])) {
          holder[segment] = {};
        }
        holder = holder[segment] as Json;
      }
      holder[segments[segments.length - 1]] = parseOverrideValue(`${envName}.${keyPath}`, value);
      continue;
    }
    const env = environments[envName];
    if (!isObject(env)) {
      problems.addMessage(
        `context key '${key}' names environment '${envName}', which does not exist: ` +
          `use one of ${Object.keys(environments).join(', ')}, or add it to context.mlops.environments in cdk.json`,
      );
      continue;
    }
    const segments = keyPath.split('.');
    let target: Json = env;
    for (const segment of segments.slice(0, -1)) {
      if (!isObject(target[segment])) {
        target[segment] = {};
      }
      target = target[segment] as Json;
    }
    target[segments[segments.length - 1]] = parseOverrideValue(keyPath, value);
  }
}

/**
 * Override keys whose values are text, so `-c mlops:prod:account=012345678901` stays a string.
 * `serving.*` and `training.*` are the one-model shorthand's; a model's own are in MODEL_TEXT_KEYS.
 */
const TEXT_KEYS = new Set([
  'account',
  'region',
  'removalPolicy',
  'workspace.vpcId',
  'workspace.networkAccess',
  'githubOidc.repository',
  'githubOidc.branch',
  'githubOidc.gitHubEnvironment',
  'githubOidc.providerArn',
  'serving.mode',
  'serving.instanceType',
  'serving.variant',
  'serving.variant.kind',
  'serving.variant.instanceType',
  'training.schedule',
  'monitoring.driftSchedule',
  'monitoring.qualitySchedule',
  'delivery.connectionArn',
  'delivery.repository',
  'delivery.branch',
  'delivery.account',
  'delivery.region',
  'release.source',
  'automation.environment',
  'automation.schedule',
  'automation.gate.primaryMetric',
  'automation.onlineGate.liveMetric',
]);

/** The text keys of one model, `models.<name>.<key>`. */
const MODEL_TEXT_KEYS = new Set([
  'workload',
  'serving.mode',
  'serving.instanceType',
  'serving.variant',
  'serving.variant.kind',
  'serving.variant.instanceType',
  'training.schedule',
]);
const MODEL_KEY = /^models\.[^.]+\.(.+)$/;

function isTextKey(keyPath: string): boolean {
  const modelKey = MODEL_KEY.exec(keyPath)?.[1];
  return TEXT_KEYS.has(keyPath) || (modelKey !== undefined && MODEL_TEXT_KEYS.has(modelKey));
}

/** `-c` values arrive as strings: read JSON (numbers, booleans, lists) unless the key holds text. */
function parseOverrideValue(keyPath: string, value: unknown): unknown {
  if (typeof value !== 'string' || isTextKey(keyPath)) {
    return value;
  }
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
