// The shapes of the platform app's config (cdk.json context `mlops`), as parsed and validated.
import { RemovalPolicy } from 'aws-cdk-lib';
import { MaturityLevel } from '../../lib/maturity/maturity-level';

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

/** How a model's serving slot serves (level 2 and up). */
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
  /**
   * Real-time: how a blue/green update shifts traffic. Default: a canary of 10% for 10 minutes in
   * the last environment (production), all at once in the others.
   */
  readonly trafficShifting?: TrafficShiftingConfig;
  /** Real-time: more CloudWatch alarms, by name, that roll an update back. Default: none. */
  readonly rollbackAlarmNames?: string[];
  /** Real-time: a test variant (A/B challenger or shadow), served once its pointer names a package. */
  readonly variant?: VariantConfig;
  /** Real-time: capture requests (and responses) to the artifact store, for model monitoring. Default: off. */
  readonly dataCapture?: DataCaptureConfig;
}

/** A real-time slot's data capture. */
export interface DataCaptureConfig {
  /** The share of requests captured, 1-100. Default: 100. */
  readonly samplingPercentage?: number;
  /** Capture the responses too (model quality joins them with ground truth). Default: true. */
  readonly captureResponses?: boolean;
}

/**
 * An environment's model monitoring (level 2 and up; level 3 needs it): every model whose real-time
 * slot captures data is monitored.
 */
export interface MonitoringConfig {
  readonly enabled: boolean;
  /** An EventBridge schedule expression for the drift workflows. Default: every hour. */
  readonly driftSchedule?: string;
  /** An EventBridge schedule expression for the model quality jobs. Default: every day. */
  readonly qualitySchedule?: string;
  /** PSI at or above this marks a feature drifted. Default: 0.2. */
  readonly psiThreshold?: number;
  /** The drift alarm fires above this share of drifted features. Default: 0.3. */
  readonly driftedFeatureShareThreshold?: number;
}

/** A real-time slot's test variant. */
export interface VariantConfig {
  /** `challenger`: answers a share of the requests; `shadow`: gets a copy of a share of them. */
  readonly kind: 'challenger' | 'shadow';
  /** The variant's instance type. Default: the champion's. */
  readonly instanceType?: string;
  /** The variant's fixed fleet. Default: 1. */
  readonly instanceCount?: number;
}

/** A share of a real-time fleet: a percentage of its instances, or a number of them. */
export interface CapacityConfig {
  readonly unit: 'percent' | 'instances';
  readonly value: number;
}

/**
 * How a real-time slot's blue/green update shifts traffic: `"allAtOnce"`,
 * `{"canary": {"percent" | "instances", "waitMinutes"}}` or
 * `{"linear": {"percent" | "instances", "intervalMinutes"}}` in the config.
 */
export type TrafficShiftingConfig =
  | { readonly kind: 'allAtOnce' }
  | { readonly kind: 'canary'; readonly size: CapacityConfig; readonly waitMinutes: number }
  | { readonly kind: 'linear'; readonly step: CapacityConfig; readonly intervalMinutes: number };

/** When a model's training pipeline runs by itself (level 2 and up). */
export interface TrainingConfig {
  /** An EventBridge schedule expression, `rate(...)` or `cron(...)`. */
  readonly schedule?: string;
  /** Run when new objects arrive under the artifact store's `data/` prefix. */
  readonly triggerOnNewData: boolean;
}

/** The workloads a model of the app can run: the reference pipeline's two targets on the taxi trips. */
export type WorkloadConfig = 'trip-duration' | 'fare-amount';

/** One model of an environment (level 2 and up). */
export interface ModelConfig {
  /** The model's name: the key in `models`. */
  readonly name: string;
  readonly workload: WorkloadConfig;
  /** The largest test RMSE to register a model, in the workload's unit. Default: the workload's. */
  readonly maxRmse?: number;
  /** fare-amount only: fares above this many dollars are dropped. Default: the workload's. */
  readonly maxFare?: number;
  /** The model's serving slot. Default: serverless. */
  readonly serving: ServingConfig;
  /** The model's training triggers. Default: none, runs are started by hand. */
  readonly training: TrainingConfig;
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
  /**
   * The environment's models, in config order (level 2 and up; empty below). Without a `models`
   * map, one model named `trip-duration` takes the environment-level `serving` and `training`.
   */
  readonly models: ModelConfig[];
  /** The monitoring of the models whose slots capture data. */
  readonly monitoring: MonitoringConfig;
}

/** The parsed platform config: environments in config order (the promotion order). */
export interface PlatformConfig {
  /** The environments to build: all of them, or those selected with `-c mlops:env`. */
  readonly environments: EnvironmentConfig[];
  /** Every configured environment, selected or not, in config order. */
  readonly allEnvironments: EnvironmentConfig[];
  readonly delivery: DeliveryConfig;
  /** The release automation, over every configured environment (also those not selected). */
  readonly release: ReleaseConfig;
  /** The level-4 loop, over every configured environment (also those not selected). */
  readonly automation: AutomationConfig;
  /** True when `-c mlops:env` selected a subset of the environments. */
  readonly selected: boolean;
  /** The first configured environment with a workspace, which serves those without one. */
  readonly workspaceHome?: string;
}

/** Where a release workflow runs, or releases to: an environment and where it deploys. */
export interface ReleaseEnvironmentConfig {
  readonly environment: string;
  /** The environment's account; unset means the CLI's at deploy time, the same as the others'. */
  readonly account?: string;
  /** The environment's region; unset means the CLI's at deploy time. */
  readonly region?: string;
}

/** One environment a release is promoted to, in order. */
export interface ReleaseTargetConfig extends ReleaseEnvironmentConfig {
  /** Whether a person approves each release to it first. */
  readonly manualApproval: boolean;
  /** The source's models promoted to it: those it runs a model of the same name for. */
  readonly models: string[];
}

/** The release automation (level 3): approvals in the source's registry released through the targets. */
export interface ReleaseConfig {
  readonly enabled: boolean;
  /** The environment whose registry approvals start releases; absent when the automation is off. */
  readonly source?: ReleaseEnvironmentConfig;
  /** The environments released to, in promotion order; empty when the automation is off. */
  readonly targets: ReleaseTargetConfig[];
  /** Minutes a released environment serves before its health gate. */
  readonly soakMinutes: number;
  /** Hours a manual approval may wait. */
  readonly approvalTimeoutHours: number;
  /** Per model, one request the released model must answer in each target. */
  readonly smokeTests: {
    readonly [modelName: string]: { readonly contentType: string; readonly body: string };
  };
}

/**
 * The level-4 loop (`context.mlops.automation`): the release source retrains each model it
 * releases to the level-4 environment, on that environment's drift and quality alarms.
 */
export interface AutomationConfig {
  readonly enabled: boolean;
  /** The release source, where the models retrain and their gate runs; absent when off. */
  readonly source?: string;
  /** The level-4 environment whose alarms, champion and production data drive the loop; absent when off. */
  readonly environment?: string;
  /** The models in the loop: the source's models released to `environment`. */
  readonly models: string[];
  /** Whether the release to `environment` waits for a person (then the release is not automatic). */
  readonly manualApproval: boolean;
  /** The approval gate's rules. */
  readonly gate: {
    readonly primaryMetric: string;
    readonly higherIsBetter: boolean;
    readonly marginPercent: number;
    readonly thresholds: { readonly [metric: string]: { readonly min?: number; readonly max?: number } };
  };
  /** The retrain trigger's guardrails. */
  readonly guardrails: {
    readonly cooldownMinutes: number;
    readonly maxStartsPerDay: number;
    readonly dataWindowDays: number;
  };
  /** An EventBridge schedule expression that also starts retraining. */
  readonly schedule?: string;
  /** The online gate: each challenger the offline gate approves is tried as the level-4 environment's shadow first. */
  readonly onlineGate: OnlineGateConfig;
}

/** The live metrics the online gate compares (`LiveQualityMetric`). */
export type LiveMetricName = 'rmse' | 'mae' | 'accuracy' | 'f1';

/** The online gate (`context.mlops.automation.onlineGate`). */
export interface OnlineGateConfig {
  readonly enabled: boolean;
  /** Hours the challenger serves as the shadow before it is judged. */
  readonly windowHours: number;
  /** The fewest matched labels each of the shadow and the champion needs in the window. */
  readonly minSamples: number;
  /** The live metric compared. */
  readonly liveMetric: LiveMetricName;
}
