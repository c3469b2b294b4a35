import { RemovalPolicy } from 'aws-cdk-lib';
import { isMaturityLevel, MaturityLevel } from '../maturity/maturity-level';
import { describeValue, MlopsValidationError } from '../private/errors';
import { SAGEMAKER_NAME } from '../private/sagemaker-names';

/** The context key that holds the platform config in cdk.json. */
export const CONFIG_CONTEXT_KEY = 'mlops';
/** Context key selecting which environments to build (comma-separated names). */
export const SELECT_CONTEXT_KEY = 'mlops:env';
/** Prefix of per-key overrides: `-c mlops:<environment>:<key>[.<key>]=<value>`. */
export const OVERRIDE_PREFIX = 'mlops:';

/** How the environment's notebook workspace reaches the network. */
export type WorkspaceNetworkAccessConfig = 'PublicInternetOnly' | 'VpcOnly';

/** The notebook workspace of one environment. */
export interface WorkspaceConfig {
  /** Whether this environment has its own SageMaker Studio domain. */
  readonly enabled: boolean;
  /** Studio user profiles to create. */
  readonly userProfiles: string[];
  /** An existing VPC for the domain; when absent the workspace creates one without NAT gateways. */
  readonly vpcId?: string;
  /** Subnets of `vpcId` for the domain; required with `vpcId`. */
  readonly subnetIds?: string[];
  /** Network access mode of Studio apps. */
  readonly networkAccess?: WorkspaceNetworkAccessConfig;
  /** Minutes of inactivity after which JupyterLab apps shut down. */
  readonly idleTimeoutMinutes?: number;
}

/** Deploying one environment from GitHub Actions through OIDC. */
export interface GitHubOidcConfig {
  /** `owner/name` of the repository whose workflows may deploy. */
  readonly repository: string;
  /** The trusted branch (default `main`), unless `gitHubEnvironment` is given. */
  readonly branch?: string;
  /** The trusted GitHub environment. */
  readonly gitHubEnvironment?: string;
  /** An existing GitHub OIDC provider in the account (one is allowed per account). */
  readonly providerArn?: string;
}

/** The delivery pipeline, which deploys every environment in config order. */
export interface DeliveryConfig {
  /** Whether the app defines the pipeline stack. */
  readonly enabled: boolean;
  /** A CodeConnections connection ARN; without it the pipeline reads a zip from its S3 source bucket. */
  readonly connectionArn?: string;
  /** `owner/name`; required with `connectionArn`. */
  readonly repository?: string;
  /** The branch to release. */
  readonly branch: string;
  /** The pipeline's account; unset means the CLI's at deploy time. */
  readonly account?: string;
  /** The pipeline's region; unset means the CLI's at deploy time. */
  readonly region?: string;
}

/** How an environment's serving slot serves (level 2 and up). */
export interface ServingConfig {
  /** `serverless` (scales to zero) or `realTime` (instances, autoscaling, blue/green). */
  readonly mode: 'serverless' | 'realTime';
  /** Real-time: the instance type. */
  readonly instanceType?: string;
  /** Real-time: instances kept while a model is released. */
  readonly minInstances?: number;
  /** Real-time: the autoscaling maximum. */
  readonly maxInstances?: number;
  /** Serverless: memory per invocation, MB. */
  readonly memorySizeInMb?: number;
  /** Serverless: concurrent invocations. */
  readonly maxConcurrency?: number;
}

/** When an environment's training pipeline runs by itself (level 2 and up). */
export interface TrainingConfig {
  /** An EventBridge schedule expression, `rate(...)` or `cron(...)`. */
  readonly schedule?: string;
  /** Run when new objects arrive under the artifact store's `data/` prefix. */
  readonly triggerOnNewData: boolean;
}

/** One deployment environment of the platform, parsed and validated. */
export interface EnvironmentConfig {
  /** Name, also the Stage id: lower-case letters, digits and hyphens. */
  readonly name: string;
  /** The maturity level this environment must reach; synth fails when it does not. */
  readonly level: MaturityLevel;
  /** Target AWS account; unset means the CLI's current account at deploy time. */
  readonly account?: string;
  /** Target AWS region; unset means the CLI's current region at deploy time. */
  readonly region?: string;
  /**
   * What happens to data-bearing resources when they leave the stack. `destroy` also empties
   * the artifact store's buckets on deletion, so choose it only for disposable environments.
   */
  readonly removalPolicy: RemovalPolicy;
  readonly workspace: WorkspaceConfig;
  /** Whether a person approves before the delivery pipeline deploys this environment. */
  readonly manualApproval: boolean;
  /** A GitHub OIDC deploy role for this environment, when configured. */
  readonly githubOidc?: GitHubOidcConfig;
  /** The serving slot (level 2 and up). Default: serverless. */
  readonly serving: ServingConfig;
  /** Training triggers (level 2 and up). Default: none, runs are started by hand. */
  readonly training: TrainingConfig;
}

/** The parsed platform config: environments in config order (the promotion order). */
export interface PlatformConfig {
  /** The environments to build: all of them, or those selected with `-c mlops:env`. */
  readonly environments: EnvironmentConfig[];
  readonly delivery: DeliveryConfig;
  /** True when `-c mlops:env` selected a subset of the environments. */
  readonly selected: boolean;
  /** The first configured environment with a workspace, which serves those without one. */
  readonly workspaceHome?: string;
}

const ENVIRONMENT_KEYS = [
  'level',
  'account',
  'region',
  'removalPolicy',
  'workspace',
  'manualApproval',
  'githubOidc',
  'serving',
  'training',
] as const;
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
const DELIVERY_KEYS = ['enabled', 'connectionArn', 'repository', 'branch', 'account', 'region'] as const;
const OIDC_KEYS = ['repository', 'branch', 'gitHubEnvironment', 'providerArn'] as const;
const REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;
const CONNECTION_ARN =
  /^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection\/[0-9a-f-]+$/;
const BRANCH = /^[A-Za-z0-9._/-]{1,255}$/;
const OIDC_PROVIDER_ARN =
  /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/;
const WORKSPACE_KEYS = [
  'enabled',
  'userProfiles',
  'vpcId',
  'subnetIds',
  'networkAccess',
  'idleTimeoutMinutes',
] as const;
const REMOVAL_POLICIES: Record<string, RemovalPolicy> = {
  retain: RemovalPolicy.RETAIN,
  destroy: RemovalPolicy.DESTROY,
};
const NETWORK_ACCESS: WorkspaceNetworkAccessConfig[] = ['PublicInternetOnly', 'VpcOnly'];

const ENV_NAME = /^[a-z][a-z0-9-]{0,19}$/;
const ACCOUNT = /^\d{12}$/;
// Partition-aware: us-east-1, eu-central-2, us-gov-west-1, cn-northwest-1, us-isob-east-1.
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;

type Json = Record<string, unknown>;

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
  const problems: string[] = [];
  const fail = (key: string, value: unknown, fix: string) =>
    problems.push(`${key} ${describeValue(value)} is invalid: ${fix}`);

  const root = readRoot(context[CONFIG_CONTEXT_KEY], fail);
  const rawEnvironments = root?.environments;
  if (!isObject(rawEnvironments) || Object.keys(rawEnvironments).length === 0) {
    fail(
      `context.${CONFIG_CONTEXT_KEY}.environments`,
      rawEnvironments,
      'define at least one environment, e.g. {"dev": {"level": 0}}, in cdk.json',
    );
    throw new MlopsValidationError('Invalid platform config', problems);
  }
  if (root) {
    for (const key of Object.keys(root).filter((k) => k !== 'environments' && k !== 'delivery')) {
      problems.push(unknownKey(`context.${CONFIG_CONTEXT_KEY}`, key, ['environments', 'delivery']));
    }
  }
  const deliveryRaw: Json = { delivery: structuredClone(root?.delivery) };

  const environments = structuredClone(rawEnvironments) as Record<string, unknown>;
  applyOverrides(context, environments, deliveryRaw, problems);
  const delivery = parseDelivery(deliveryRaw.delivery, fail, problems);

  const parsed: EnvironmentConfig[] = [];
  const count = Object.keys(environments).length;
  Object.entries(environments).forEach(([name, raw], index) => {
    const env = parseEnvironment(name, raw, index === 0, index === count - 1, fail, problems);
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
    fail(
      `context.${CONFIG_CONTEXT_KEY}.delivery.${delivery.account === undefined ? 'account' : 'region'}`,
      undefined,
      `environment(s) ${pinned.join(', ')} name an account or region, so the pipeline that deploys them needs ` +
        'its own: set delivery.account and delivery.region (and bootstrap the targets with --trust that account)',
    );
  }
  const selected = selectEnvironments(context[SELECT_CONTEXT_KEY], parsed, fail);
  if (problems.length > 0) {
    throw new MlopsValidationError('Invalid platform config', problems);
  }
  return {
    environments: selected,
    delivery,
    selected: context[SELECT_CONTEXT_KEY] !== undefined,
    workspaceHome: parsed.find((e) => e.workspace.enabled)?.name,
  };
}

function parseDelivery(
  raw: unknown,
  fail: (k: string, v: unknown, f: string) => void,
  problems: string[],
): DeliveryConfig {
  const at = `context.${CONFIG_CONTEXT_KEY}.delivery`;
  const defaults: DeliveryConfig = { enabled: true, branch: 'main' };
  const read = readSwitchable(
    at,
    raw,
    DELIVERY_KEYS,
    'use true, false or an object such as {"connectionArn": "...", "repository": "owner/name"}',
    defaults,
    fail,
    problems,
  );
  if (!('block' in read)) {
    return read;
  }
  const block = read.block;
  const { enabled } = read;
  const { connectionArn, repository, account, region } = block;
  const branch = block.branch ?? 'main';
  if (
    connectionArn !== undefined &&
    !(typeof connectionArn === 'string' && CONNECTION_ARN.test(connectionArn))
  ) {
    fail(
      `${at}.connectionArn`,
      connectionArn,
      'use the ARN of an AWS CodeConnections connection, arn:aws:codeconnections:<region>:<account>:connection/<id>',
    );
  }
  if (repository !== undefined && !(typeof repository === 'string' && REPOSITORY.test(repository))) {
    fail(`${at}.repository`, repository, 'use "owner/name" as on the hosting service');
  }
  if ((connectionArn === undefined) !== (repository === undefined)) {
    fail(
      `${at}.${connectionArn === undefined ? 'connectionArn' : 'repository'}`,
      connectionArn ?? repository,
      'give connectionArn and repository together, or neither (S3 source)',
    );
  }
  if (!(typeof branch === 'string' && BRANCH.test(branch))) {
    fail(`${at}.branch`, branch, 'use one branch name such as "main"');
  }
  if (account !== undefined && !(typeof account === 'string' && ACCOUNT.test(account))) {
    fail(`${at}.account`, account, 'use a 12-digit AWS account id as a string, or leave it out');
  }
  if (region !== undefined && !(typeof region === 'string' && REGION.test(region))) {
    fail(`${at}.region`, region, 'use an AWS region code such as "eu-west-1", or leave it out');
  }
  return {
    enabled: enabled === true,
    connectionArn: connectionArn as string | undefined,
    repository: repository as string | undefined,
    branch: branch as string,
    account: account as string | undefined,
    region: region as string | undefined,
  };
}

function parseGitHubOidc(
  at: string,
  raw: unknown,
  fail: (k: string, v: unknown, f: string) => void,
  problems: string[],
): GitHubOidcConfig | undefined {
  if (raw === undefined) {
    return undefined;
  }
  if (
    !isKnownObject(
      at,
      raw,
      OIDC_KEYS,
      'use an object such as {"repository": "owner/name", "branch": "main"}',
      fail,
      problems,
    )
  ) {
    return undefined;
  }
  const { repository, branch, gitHubEnvironment, providerArn } = raw;
  if (!(typeof repository === 'string' && REPOSITORY.test(repository))) {
    fail(`${at}.repository`, repository, 'use "owner/name" exactly as on GitHub');
  }
  if (branch !== undefined && typeof branch !== 'string') {
    fail(`${at}.branch`, branch, 'use one branch name such as "main"');
  }
  if (gitHubEnvironment !== undefined && typeof gitHubEnvironment !== 'string') {
    fail(`${at}.gitHubEnvironment`, gitHubEnvironment, 'use the GitHub environment name');
  }
  if (
    providerArn !== undefined &&
    !(typeof providerArn === 'string' && OIDC_PROVIDER_ARN.test(providerArn))
  ) {
    fail(
      `${at}.providerArn`,
      providerArn,
      'use arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com',
    );
  }
  return {
    repository: repository as string,
    branch: branch as string | undefined,
    gitHubEnvironment: gitHubEnvironment as string | undefined,
    providerArn: providerArn as string | undefined,
  };
}

function readRoot(value: unknown, fail: (k: string, v: unknown, f: string) => void): Json | undefined {
  let root = value;
  if (typeof root === 'string') {
    try {
      root = JSON.parse(root);
    } catch {
      fail(
        `context.${CONFIG_CONTEXT_KEY}`,
        value,
        'pass a JSON object, e.g. -c mlops=\'{"environments":{...}}\'',
      );
      return undefined;
    }
  }
  if (root !== undefined && !isObject(root)) {
    fail(`context.${CONFIG_CONTEXT_KEY}`, value, 'use an object with an "environments" key');
    return undefined;
  }
  return root as Json | undefined;
}

function applyOverrides(
  context: Record<string, unknown>,
  environments: Json,
  deliveryHolder: Json,
  problems: string[],
): void {
  for (const [key, value] of Object.entries(context)) {
    if (!key.startsWith(OVERRIDE_PREFIX) || key === SELECT_CONTEXT_KEY) {
      continue;
    }
    const [envName, keyPath, ...rest] = key.slice(OVERRIDE_PREFIX.length).split(':');
    if (!envName || !keyPath || rest.length > 0) {
      problems.push(
        `context key '${key}' is not a valid override: use -c mlops:<environment>:<key>=<value> ` +
          `(e.g. mlops:dev:level=1) or -c mlops:env=<names>`,
      );
      continue;
    }
    if (envName === 'delivery') {
      // `-c mlops:delivery:<key>=<value>` sets a key of the delivery block.
      if (!isObject(deliveryHolder.delivery)) {
        deliveryHolder.delivery = deliveryHolder.delivery === false ? { enabled: false } : {};
      }
      (deliveryHolder.delivery as Json)[keyPath] = parseOverrideValue(`delivery.${keyPath}`, value);
      continue;
    }
    const env = environments[envName];
    if (!isObject(env)) {
      problems.push(
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

/** Override keys whose values are text, so `-c mlops:prod:account=012345678901` stays a string. */
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
  'training.schedule',
  'delivery.connectionArn',
  'delivery.repository',
  'delivery.branch',
  'delivery.account',
  'delivery.region',
]);

/** `-c` values arrive as strings: read JSON (numbers, booleans, lists) unless the key holds text. */
function parseOverrideValue(keyPath: string, value: unknown): unknown {
  if (typeof value !== 'string' || TEXT_KEYS.has(keyPath)) {
    return value;
  }
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function parseEnvironment(
  name: string,
  raw: unknown,
  isFirst: boolean,
  isLast: boolean,
  fail: (k: string, v: unknown, f: string) => void,
  problems: string[],
): EnvironmentConfig | undefined {
  const at = `context.${CONFIG_CONTEXT_KEY}.environments.${name}`;
  if (!ENV_NAME.test(name)) {
    fail(
      `${at} (environment name)`,
      name,
      'use 1-20 lower-case letters, digits and hyphens, starting with a letter',
    );
  }
  if (!isKnownObject(at, raw, ENVIRONMENT_KEYS, 'use an object such as {"level": 0}', fail, problems)) {
    return undefined;
  }

  const level = raw.level;
  if (!isMaturityLevel(level)) {
    fail(
      `${at}.level`,
      level,
      'use an integer maturity level from 0 to 4 (0 no MLOps, 1 DevOps, 2 automated training, ' +
        '3 automated deployment, 4 full automation)',
    );
  }
  const account = raw.account;
  if (account !== undefined && !(typeof account === 'string' && ACCOUNT.test(account))) {
    fail(
      `${at}.account`,
      account,
      'use a 12-digit AWS account id as a string, e.g. "123456789012", or leave it out',
    );
  }
  const region = raw.region;
  if (region !== undefined && !(typeof region === 'string' && REGION.test(region))) {
    fail(`${at}.region`, region, 'use an AWS region code such as "eu-west-1", or leave it out');
  }
  const removal = raw.removalPolicy ?? 'retain';
  if (typeof removal !== 'string' || !(removal in REMOVAL_POLICIES)) {
    fail(`${at}.removalPolicy`, removal, `use one of ${Object.keys(REMOVAL_POLICIES).join(', ')}`);
  }
  const workspace = parseWorkspace(`${at}.workspace`, raw.workspace, isFirst, fail, problems);
  // The last environment is production: a person approves before the pipeline deploys it.
  const manualApproval = raw.manualApproval ?? isLast;
  if (typeof manualApproval !== 'boolean') {
    fail(`${at}.manualApproval`, manualApproval, 'use true or false');
  }
  const githubOidc = parseGitHubOidc(`${at}.githubOidc`, raw.githubOidc, fail, problems);
  const serving = parseServing(`${at}.serving`, raw.serving, fail, problems);
  const training = parseTraining(`${at}.training`, raw.training, fail, problems);

  return {
    name,
    level: level as MaturityLevel,
    account: account as string | undefined,
    region: region as string | undefined,
    removalPolicy: REMOVAL_POLICIES[removal as string] ?? RemovalPolicy.RETAIN,
    workspace,
    manualApproval: manualApproval === true,
    githubOidc,
    serving,
    training,
  };
}

function parseServing(
  at: string,
  raw: unknown,
  fail: (k: string, v: unknown, f: string) => void,
  problems: string[],
): ServingConfig {
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
      fail,
      problems,
    )
  ) {
    return defaults;
  }
  const mode = raw.mode ?? 'serverless';
  if (!(SERVING_MODES as readonly unknown[]).includes(mode)) {
    fail(`${at}.mode`, mode, `use one of ${SERVING_MODES.join(', ')}`);
  }
  if (raw.instanceType !== undefined && typeof raw.instanceType !== 'string') {
    fail(`${at}.instanceType`, raw.instanceType, "use an instance type such as 'ml.m5.large'");
  }
  const realTimeOnly = ['instanceType', 'minInstances', 'maxInstances'];
  const serverlessOnly = ['memorySizeInMb', 'maxConcurrency'];
  for (const key of ['minInstances', 'maxInstances', 'memorySizeInMb', 'maxConcurrency']) {
    const value = raw[key];
    if (value !== undefined && !(typeof value === 'number' && Number.isInteger(value) && value > 0)) {
      fail(`${at}.${key}`, value, 'use a positive whole number');
    }
  }
  for (const key of mode === 'serverless' ? realTimeOnly : serverlessOnly) {
    if (raw[key] !== undefined) {
      fail(
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

function parseTraining(
  at: string,
  raw: unknown,
  fail: (k: string, v: unknown, f: string) => void,
  problems: string[],
): TrainingConfig {
  if (raw === undefined) {
    return { triggerOnNewData: false };
  }
  if (
    !isKnownObject(
      at,
      raw,
      TRAINING_KEYS,
      'use an object such as {"schedule": "rate(7 days)", "triggerOnNewData": true}',
      fail,
      problems,
    )
  ) {
    return { triggerOnNewData: false };
  }
  const { schedule } = raw;
  const triggerOnNewData = raw.triggerOnNewData ?? false;
  if (schedule !== undefined && !(typeof schedule === 'string' && SCHEDULE.test(schedule))) {
    fail(
      `${at}.schedule`,
      schedule,
      'use an EventBridge schedule expression such as "rate(7 days)" or "cron(0 3 ? * MON *)"',
    );
  }
  if (typeof triggerOnNewData !== 'boolean') {
    fail(`${at}.triggerOnNewData`, triggerOnNewData, 'use true or false');
  }
  return { schedule: schedule as string | undefined, triggerOnNewData: triggerOnNewData === true };
}

function parseWorkspace(
  at: string,
  raw: unknown,
  isFirst: boolean,
  fail: (k: string, v: unknown, f: string) => void,
  problems: string[],
): WorkspaceConfig {
  // The first environment is where people experiment, so it gets the workspace unless told otherwise.
  const defaults: WorkspaceConfig = { enabled: isFirst, userProfiles: [] };
  const read = readSwitchable(
    at,
    raw,
    WORKSPACE_KEYS,
    'use true, false or an object such as {"enabled": true, "userProfiles": ["alice"]}',
    defaults,
    fail,
    problems,
  );
  if (!('block' in read)) {
    return read;
  }
  const block = read.block;
  const { enabled } = read;
  const profiles = block.userProfiles ?? [];
  if (!Array.isArray(profiles) || profiles.some((p) => typeof p !== 'string' || !SAGEMAKER_NAME.test(p))) {
    fail(
      `${at}.userProfiles`,
      profiles,
      'use a list of names of 1-63 letters, digits and hyphens, starting with a letter or digit',
    );
  } else if (new Set(profiles).size !== profiles.length) {
    fail(`${at}.userProfiles`, profiles, 'remove the duplicate names');
  }
  const vpcId = block.vpcId;
  const subnetIds = block.subnetIds;
  if (vpcId !== undefined && !(typeof vpcId === 'string' && VPC_ID.test(vpcId))) {
    fail(`${at}.vpcId`, vpcId, 'use a VPC id such as "vpc-0123456789abcdef0"');
  }
  if (
    subnetIds !== undefined &&
    !(
      Array.isArray(subnetIds) &&
      subnetIds.length > 0 &&
      subnetIds.every((s) => typeof s === 'string' && SUBNET_ID.test(s))
    )
  ) {
    fail(
      `${at}.subnetIds`,
      subnetIds,
      'use a non-empty list of subnet ids such as ["subnet-0123456789abcdef0"]',
    );
  }
  if ((vpcId === undefined) !== (subnetIds === undefined)) {
    fail(
      `${at}.${vpcId === undefined ? 'subnetIds' : 'vpcId'}`,
      vpcId ?? subnetIds,
      'give vpcId and subnetIds together, or neither',
    );
  }
  const networkAccess = block.networkAccess;
  if (
    networkAccess !== undefined &&
    !NETWORK_ACCESS.includes(networkAccess as WorkspaceNetworkAccessConfig)
  ) {
    fail(`${at}.networkAccess`, networkAccess, `use one of ${NETWORK_ACCESS.join(', ')}`);
  }
  const idle = block.idleTimeoutMinutes;
  if (
    idle !== undefined &&
    !(typeof idle === 'number' && Number.isInteger(idle) && idle >= 60 && idle <= 525600)
  ) {
    fail(`${at}.idleTimeoutMinutes`, idle, 'use a whole number of minutes from 60 to 525600');
  }
  return {
    enabled: enabled === true,
    userProfiles: Array.isArray(profiles) ? (profiles as string[]) : [],
    vpcId: vpcId as string | undefined,
    subnetIds: subnetIds as string[] | undefined,
    networkAccess: networkAccess as WorkspaceNetworkAccessConfig | undefined,
    idleTimeoutMinutes: idle as number | undefined,
  };
}

function selectEnvironments(
  value: unknown,
  environments: EnvironmentConfig[],
  fail: (k: string, v: unknown, f: string) => void,
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
    fail(
      `context ${SELECT_CONTEXT_KEY}`,
      unknown.length > 0 ? unknown.join(',') : value,
      `name environments that exist, comma-separated: ${known.join(', ')}`,
    );
    return environments;
  }
  return environments.filter((e) => names.includes(e.name));
}

function unknownKey(at: string, key: string, allowed: readonly string[]): string {
  const suggestion = closest(key, allowed);
  return (
    `${at}.${key} is not a known key: ` +
    (suggestion ? `did you mean '${suggestion}'? ` : '') +
    `use one of ${allowed.join(', ')}`
  );
}

/**
 * A block that is left out (its defaults), `true` or `false` (its defaults, switched on or off), or
 * an object of known keys whose `enabled` defaults to true. Returns the finished config in the first
 * two cases (and for a malformed block, reported), else the object and whether it is enabled.
 */
function readSwitchable<T extends { enabled: boolean }>(
  at: string,
  raw: unknown,
  keys: readonly string[],
  example: string,
  defaults: T,
  fail: (k: string, v: unknown, f: string) => void,
  problems: string[],
): T | { block: Json; enabled: boolean } {
  if (raw === undefined) {
    return defaults;
  }
  if (typeof raw === 'boolean') {
    return { ...defaults, enabled: raw };
  }
  if (!isKnownObject(at, raw, keys, example, fail, problems)) {
    return defaults;
  }
  const enabled = raw.enabled ?? true;
  if (typeof enabled !== 'boolean') {
    fail(`${at}.enabled`, enabled, 'use true or false');
  }
  return { block: raw, enabled: enabled === true };
}

/**
 * Whether `raw` is an object: if not, reports it with `example` as the fix. Reports each key of it
 * that is not in `keys`, with the nearest allowed one.
 */
function isKnownObject(
  at: string,
  raw: unknown,
  keys: readonly string[],
  example: string,
  fail: (k: string, v: unknown, f: string) => void,
  problems: string[],
): raw is Json {
  if (!isObject(raw)) {
    fail(at, raw, example);
    return false;
  }
  for (const key of Object.keys(raw).filter((k) => !keys.includes(k))) {
    problems.push(unknownKey(at, key, keys));
  }
  return true;
}

/** The allowed key nearest to a misspelt one, when it is plausibly a typo. */
function closest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of allowed) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
