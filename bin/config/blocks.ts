import { RemovalPolicy } from 'aws-cdk-lib';
import { isMaturityLevel, MaturityLevel } from '../../lib/maturity/maturity-level';
import { ProblemCollector } from '../../lib/private/errors';
import {
  ACCOUNT,
  BRANCH,
  CONNECTION_ARN,
  ENVIRONMENT_NAME,
  GITHUB_OIDC_PROVIDER_ARN,
  REGION,
  REPOSITORY,
  SAGEMAKER_NAME,
  SUBNET_ID,
  VPC_ID,
} from '../../lib/private/patterns';
import { parseModels } from './models';
import { isKnownObject, readSwitchable } from './read';
import {
  CONFIG_CONTEXT_KEY,
  DeliveryConfig,
  EnvironmentConfig,
  GitHubOidcConfig,
  MonitoringConfig,
  WorkspaceConfig,
  WorkspaceNetworkAccessConfig,
} from './types';

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
  'models',
  'monitoring',
] as const;
const MONITORING_KEYS = [
  'enabled',
  'driftSchedule',
  'qualitySchedule',
  'psiThreshold',
  'driftedFeatureShareThreshold',
] as const;
const SCHEDULE = /^(rate|cron)\(.+\)$/;
const DELIVERY_KEYS = ['enabled', 'connectionArn', 'repository', 'branch', 'account', 'region'] as const;
const OIDC_KEYS = ['repository', 'branch', 'gitHubEnvironment', 'providerArn'] as const;
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

export function parseEnvironment(
  name: string,
  raw: unknown,
  isFirst: boolean,
  isLast: boolean,
  problems: ProblemCollector,
): EnvironmentConfig | undefined {
  const at = `context.${CONFIG_CONTEXT_KEY}.environments.${name}`;
  if (!ENVIRONMENT_NAME.test(name)) {
    problems.add(
      `${at} (environment name)`,
      name,
      'use 1-20 lower-case letters, digits and hyphens, starting with a letter',
    );
  }
  if (!isKnownObject(at, raw, ENVIRONMENT_KEYS, 'use an object such as {"level": 0}', problems)) {
    return undefined;
  }

  const level = raw.level;
  if (!isMaturityLevel(level)) {
    problems.add(
      `${at}.level`,
      level,
      'use an integer maturity level from 0 to 4 (0 no MLOps, 1 DevOps, 2 automated training, ' +
        '3 automated deployment, 4 full automation)',
    );
  }
  // A block for a tier above the level would be ignored: say so rather than deploy less than asked.
  const from = {
    githubOidc: MaturityLevel.DEVOPS,
    serving: MaturityLevel.AUTOMATED_TRAINING,
    training: MaturityLevel.AUTOMATED_TRAINING,
    models: MaturityLevel.AUTOMATED_TRAINING,
    monitoring: MaturityLevel.AUTOMATED_TRAINING,
  };
  for (const [key, minimum] of Object.entries(from)) {
    if (isMaturityLevel(level) && level < minimum && raw[key] !== undefined) {
      problems.add(
        `${at}.${key}`,
        raw[key],
        `it applies from level ${minimum} and the level is ${level}: raise level or remove it`,
      );
    }
  }
  const account = raw.account;
  if (account !== undefined && !(typeof account === 'string' && ACCOUNT.test(account))) {
    problems.add(
      `${at}.account`,
      account,
      'use a 12-digit AWS account id as a string, e.g. "123456789012", or leave it out',
    );
  }
  const region = raw.region;
  if (region !== undefined && !(typeof region === 'string' && REGION.test(region))) {
    problems.add(`${at}.region`, region, 'use an AWS region code such as "eu-west-1", or leave it out');
  }
  const removal = raw.removalPolicy ?? 'retain';
  if (typeof removal !== 'string' || !(removal in REMOVAL_POLICIES)) {
    problems.add(`${at}.removalPolicy`, removal, `use one of ${Object.keys(REMOVAL_POLICIES).join(', ')}`);
  }
  const workspace = parseWorkspace(`${at}.workspace`, raw.workspace, isFirst, problems);
  // The last environment is production: a person approves before the pipeline deploys it.
  const manualApproval = raw.manualApproval ?? isLast;
  if (typeof manualApproval !== 'boolean') {
    problems.add(`${at}.manualApproval`, manualApproval, 'use true or false');
  }
  const githubOidc = parseGitHubOidc(`${at}.githubOidc`, raw.githubOidc, problems);
  // Below level 2 the blocks above are refused and there are no models; an invalid level is
  // reported above, and the models' own problems with it.
  const below = isMaturityLevel(level) && level < MaturityLevel.AUTOMATED_TRAINING;
  const models = below ? [] : parseModels(at, raw, problems, isLast);
  const monitoring = parseMonitoring(`${at}.monitoring`, raw.monitoring, problems);

  return {
    name,
    level: level as MaturityLevel,
    account: account as string | undefined,
    region: region as string | undefined,
    removalPolicy: REMOVAL_POLICIES[removal as string] ?? RemovalPolicy.RETAIN,
    workspace,
    manualApproval: manualApproval === true,
    githubOidc,
    models,
    monitoring,
  };
}

/**
 * `true`, `false` or `{"driftSchedule", "qualitySchedule", "psiThreshold",
 * "driftedFeatureShareThreshold"}`: the monitoring of every model whose real-time slot captures data.
 */
function parseMonitoring(at: string, raw: unknown, problems: ProblemCollector): MonitoringConfig {
  const read = readSwitchable(
    at,
    raw,
    MONITORING_KEYS,
    'use true, false or an object such as {"driftSchedule": "rate(1 hour)", "psiThreshold": 0.2}',
    { enabled: true } as MonitoringConfig,
    problems,
  );
  if (!('block' in read)) {
    return read;
  }
  const { driftSchedule, qualitySchedule, psiThreshold, driftedFeatureShareThreshold } = read.block;
  for (const [key, value] of [
    ['driftSchedule', driftSchedule],
    ['qualitySchedule', qualitySchedule],
  ] as const) {
    if (value !== undefined && !(typeof value === 'string' && SCHEDULE.test(value))) {
      problems.add(
        `${at}.${key}`,
        value,
        'use an EventBridge schedule expression such as "rate(1 hour)" or "cron(15 * * * ? *)"',
      );
    }
  }
  if (psiThreshold !== undefined && !(typeof psiThreshold === 'number' && psiThreshold > 0)) {
    problems.add(`${at}.psiThreshold`, psiThreshold, 'use a positive number, e.g. 0.2');
  }
  if (
    driftedFeatureShareThreshold !== undefined &&
    !(
      typeof driftedFeatureShareThreshold === 'number' &&
      driftedFeatureShareThreshold >= 0 &&
      driftedFeatureShareThreshold <= 1
    )
  ) {
    problems.add(
      `${at}.driftedFeatureShareThreshold`,
      driftedFeatureShareThreshold,
      'use a share from 0 to 1, e.g. 0.3',
    );
  }
  return {
    enabled: read.enabled,
    driftSchedule: driftSchedule as string | undefined,
    qualitySchedule: qualitySchedule as string | undefined,
    psiThreshold: psiThreshold as number | undefined,
    driftedFeatureShareThreshold: driftedFeatureShareThreshold as number | undefined,
  };
}

export function parseDelivery(raw: unknown, problems: ProblemCollector): DeliveryConfig {
  const at = `context.${CONFIG_CONTEXT_KEY}.delivery`;
  const defaults: DeliveryConfig = { enabled: true, branch: 'main' };
  const read = readSwitchable(
    at,
    raw,
    DELIVERY_KEYS,
    'use true, false or an object such as {"connectionArn": "...", "repository": "owner/name"}',
    defaults,
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
    problems.add(
      `${at}.connectionArn`,
      connectionArn,
      'use the ARN of an AWS CodeConnections connection, arn:aws:codeconnections:<region>:<account>:connection/<id>',
    );
  }
  if (repository !== undefined && !(typeof repository === 'string' && REPOSITORY.test(repository))) {
    problems.add(`${at}.repository`, repository, 'use "owner/name" as on the hosting service');
  }
  if ((connectionArn === undefined) !== (repository === undefined)) {
    problems.add(
      `${at}.${connectionArn === undefined ? 'connectionArn' : 'repository'}`,
      connectionArn ?? repository,
      'give connectionArn and repository together, or neither (S3 source)',
    );
  }
  if (!(typeof branch === 'string' && BRANCH.test(branch))) {
    problems.add(`${at}.branch`, branch, 'use one branch name such as "main"');
  }
  if (account !== undefined && !(typeof account === 'string' && ACCOUNT.test(account))) {
    problems.add(`${at}.account`, account, 'use a 12-digit AWS account id as a string, or leave it out');
  }
  if (region !== undefined && !(typeof region === 'string' && REGION.test(region))) {
    problems.add(`${at}.region`, region, 'use an AWS region code such as "eu-west-1", or leave it out');
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

function parseGitHubOidc(at: string, raw: unknown, problems: ProblemCollector): GitHubOidcConfig | undefined {
  if (raw === undefined) {
    return undefined;
  }
  if (
    !isKnownObject(
      at,
      raw,
      OIDC_KEYS,
      'use an object such as {"repository": "owner/name", "branch": "main"}',
      problems,
    )
  ) {
    return undefined;
  }
  const { repository, branch, gitHubEnvironment, providerArn } = raw;
  if (!(typeof repository === 'string' && REPOSITORY.test(repository))) {
    problems.add(`${at}.repository`, repository, 'use "owner/name" exactly as on GitHub');
  }
  // The same rule as GitHubOidcDeployRole's, so a branch accepted here is not rejected at synth.
  if (branch !== undefined && !(typeof branch === 'string' && BRANCH.test(branch))) {
    problems.add(`${at}.branch`, branch, 'use one branch name such as "main", without wildcards');
  }
  if (gitHubEnvironment !== undefined && typeof gitHubEnvironment !== 'string') {
    problems.add(`${at}.gitHubEnvironment`, gitHubEnvironment, 'use the GitHub environment name');
  }
  if (
    providerArn !== undefined &&
    !(typeof providerArn === 'string' && GITHUB_OIDC_PROVIDER_ARN.test(providerArn))
  ) {
    problems.add(
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

function parseWorkspace(
  at: string,
  raw: unknown,
  isFirst: boolean,
  problems: ProblemCollector,
): WorkspaceConfig {
  // The first environment is where people experiment, so it gets the workspace unless told otherwise.
  const defaults: WorkspaceConfig = { enabled: isFirst, userProfiles: [] };
  const read = readSwitchable(
    at,
    raw,
    WORKSPACE_KEYS,
    'use true, false or an object such as {"enabled": true, "userProfiles": ["alice"]}',
    defaults,
    problems,
  );
  if (!('block' in read)) {
    return read;
  }
  const block = read.block;
  const { enabled } = read;
  const profiles = block.userProfiles ?? [];
  if (!Array.isArray(profiles) || profiles.some((p) => typeof p !== 'string' || !SAGEMAKER_NAME.test(p))) {
    problems.add(
      `${at}.userProfiles`,
      profiles,
      'use a list of names of 1-63 letters, digits and hyphens, starting with a letter or digit',
    );
  } else if (new Set(profiles).size !== profiles.length) {
    problems.add(`${at}.userProfiles`, profiles, 'remove the duplicate names');
  }
  const vpcId = block.vpcId;
  const subnetIds = block.subnetIds;
  if (vpcId !== undefined && !(typeof vpcId === 'string' && VPC_ID.test(vpcId))) {
    problems.add(`${at}.vpcId`, vpcId, 'use a VPC id such as "vpc-0123456789abcdef0"');
  }
  if (
    subnetIds !== undefined &&
    !(
      Array.isArray(subnetIds) &&
      subnetIds.length > 0 &&
      subnetIds.every((s) => typeof s === 'string' && SUBNET_ID.test(s))
    )
  ) {
    problems.add(
      `${at}.subnetIds`,
      subnetIds,
      'use a non-empty list of subnet ids such as ["subnet-0123456789abcdef0"]',
    );
  }
  if ((vpcId === undefined) !== (subnetIds === undefined)) {
    problems.add(
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
    problems.add(`${at}.networkAccess`, networkAccess, `use one of ${NETWORK_ACCESS.join(', ')}`);
  }
  const idle = block.idleTimeoutMinutes;
  if (
    idle !== undefined &&
    !(typeof idle === 'number' && Number.isInteger(idle) && idle >= 60 && idle <= 525600)
  ) {
    problems.add(`${at}.idleTimeoutMinutes`, idle, 'use a whole number of minutes from 60 to 525600');
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
