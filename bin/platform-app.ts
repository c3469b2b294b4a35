import { App, AppProps, Aspects, CfnOutput, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  CapacityConfig,
  EnvironmentConfig,
  LiveMetricName,
  ModelConfig,
  parsePlatformConfig,
  PlatformConfig,
  TrafficShiftingConfig,
  WorkloadConfig,
  WorkspaceConfig,
} from './config';
import { LiveQualityMetric } from '../lib/automation/online-gate-workflow';
import { Capability } from '../lib/maturity/capability';
import { MaturityLevel } from '../lib/maturity/maturity-level';
import { MaturityReport } from '../lib/maturity/maturity-report';
import { EnvironmentStage, EnvironmentStageProps } from '../lib/platform/environment-stage';
import {
  EnvironmentModelMonitoringOptions,
  EnvironmentModelOptions,
  PlatformWorkspaceOptions,
} from '../lib/platform/platform-stack';
import { ReferenceTarget } from '../lib/training/reference-workload';
import { ServingMode } from '../lib/serving/serving-slot';
import { CapacitySize, TrafficShifting } from '../lib/serving/traffic-shifting';
import { WorkspaceNetworkAccess } from '../lib/workspace/workspace';
import { DeliveryPipeline, DeliverySource } from '../lib/delivery/delivery-pipeline';
import { ArtifactStore } from '../lib/storage/artifact-store';
import { RedundantDependsOnLintAcknowledgement } from '../lib/verification/redundant-depends-on';

/** The platform app: one EnvironmentStage per configured environment, checked by cdk-nag at synth. */
export interface PlatformApp {
  readonly app: App;
  readonly config: PlatformConfig;
  readonly stages: EnvironmentStage[];
  /** The delivery pipeline, unless `mlops.delivery` disables it. */
  readonly delivery?: DeliveryPipeline;
}

/**
 * Builds the platform app from the context in `props` (or, under the CDK CLI, from cdk.json and
 * `-c` flags). Throws an MlopsValidationError when the config is invalid.
 */
export function createPlatformApp(props: AppProps = {}): PlatformApp {
  const app = new App(props);
  const config = parsePlatformConfig(app.node.getAllContext());
  // Every synth, not only the tests, fails on an unacknowledged AwsSolutions finding.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

  const stages: EnvironmentStage[] = [];
  for (const env of config.environments) {
    stages.push(
      new EnvironmentStage(
        app,
        env.name,
        automationProps(config, env, releaseProps(config, env, stages, environmentStageProps(env))),
      ),
    );
  }
  // Per stage and stack, not on the app: CDK Pipelines synthesizes each stage on its own.
  for (const scope of stages) {
    Aspects.of(scope).add(new RedundantDependsOnLintAcknowledgement());
  }

  // One Studio domain serves the platform: environments without one use the first that has one.
  for (const stage of stages) {
    const env = config.environments.find((e) => e.name === stage.stageName)!;
    if (!env.workspace.enabled && config.workspaceHome) {
      stage.contract.shareCapability(Capability.NOTEBOOK_WORKSPACE, config.workspaceHome);
    }
  }

  if (config.delivery.enabled && config.selected) {
    // Still delivered by the pipeline that the full app defines; only this synth leaves it out.
    for (const stage of stages) {
      stage.contract.shareCapability(Capability.CI_CD, 'delivery-pipeline');
      stage.contract.shareCapability(Capability.AUTOMATED_TESTS, 'delivery-pipeline');
    }
  }
  // The pipeline deploys every environment, so a `-c mlops:env` selection leaves it out rather than
  // defining a pipeline that would drop the others. Created last: it synthesizes the stages.
  const delivery =
    config.delivery.enabled && !config.selected ? createDelivery(app, config, stages) : undefined;
  return { app, config, stages, delivery };
}

/** The props of one configured environment's stage: config keys in construct vocabulary. */
export function environmentStageProps(env: EnvironmentConfig): EnvironmentStageProps {
  const oidc = env.githubOidc;
  return {
    env: { account: env.account, region: env.region },
    environmentName: env.name,
    level: env.level,
    removalPolicy: env.removalPolicy,
    workspace: env.workspace.enabled ? workspaceOptions(env.workspace) : false,
    gitHubDeployRole: oidc && {
      repository: oidc.repository,
      branch: oidc.branch,
      gitHubEnvironment: oidc.gitHubEnvironment,
      providerArn: oidc.providerArn,
    },
    // The config refuses models below level 2, so below it there is nothing to pass.
    ...(env.level >= MaturityLevel.AUTOMATED_TRAINING
      ? { models: modelOptions(env), modelMonitoring: monitoringOptions(env) }
      : {}),
  };
}

const LIVE_METRICS: Record<LiveMetricName, LiveQualityMetric> = {
  rmse: LiveQualityMetric.RMSE,
  mae: LiveQualityMetric.MAE,
  accuracy: LiveQualityMetric.ACCURACY,
  f1: LiveQualityMetric.F1,
};

/**
 * A model's endpoint name: literal per model, since a generated one would change with the construct
 * path, and the release workflows of other environments name it.
 */
function endpointNameOf(environment: string, model: string): string {
  return `mlops-${environment}-${model}`;
}

/**
 * The alarms of a model's slot that a release's health gate checks: a real-time slot's own
 * rollback alarms, or those its environment's monitoring gives a serverless slot in the serving
 * stack (both named after the endpoint; see ServingSlot and PlatformMonitoring).
 */
function slotAlarmNamesOf(environment: string, model: ModelConfig): string[] {
  const endpoint = endpointNameOf(environment, model.name);
  return model.serving.mode === 'realTime'
    ? [`${endpoint}-rollback-errors`, `${endpoint}-rollback-latency`]
    : [`${endpoint}-errors`, `${endpoint}-latency`];
}

/**
 * Adds the release automation of `config.release` to an environment's props: the source gets a
 * workflow per model, each target its release access. A target needs the source's model package
 * group names, read from the source's stage (built in a scratch app when it is not in this one,
 * e.g. under a `-c mlops:env` selection: the names derive from construct paths alone).
 */
function releaseProps(
  config: PlatformConfig,
  env: EnvironmentConfig,
  built: readonly EnvironmentStage[],
  props: EnvironmentStageProps,
): EnvironmentStageProps {
  const { release } = config;
  if (!release.enabled || !release.source || env.level < MaturityLevel.AUTOMATED_TRAINING) {
    return props;
  }
  const source = release.source;
  if (env.name === source.environment) {
    return {
      ...props,
      releaseAutomation: {
        targets: release.targets.map((target) => {
          const targetEnv = config.allEnvironments.find((e) => e.name === target.environment)!;
          return {
            environmentName: target.environment,
            account: target.account,
            region: target.region,
            manualApproval: target.manualApproval,
            models: Object.fromEntries(
              targetEnv.models
                .filter((m) => target.models.includes(m.name))
                .map((m) => [
                  m.name,
                  {
                    endpointName: endpointNameOf(target.environment, m.name),
                    alarmNames: slotAlarmNamesOf(target.environment, m),
                    // Only with the online gate on, so that the workflows stay as they are without it.
                    ...(config.automation.onlineGate.enabled
                      ? { onlineTrials: m.serving.variant?.kind === 'shadow' && !target.manualApproval }
                      : {}),
                  },
                ]),
            ),
          };
        }),
        soakTime: Duration.minutes(release.soakMinutes),
        approvalTimeout: Duration.hours(release.approvalTimeoutHours),
        smokeTests: release.smokeTests,
      },
    };
  }
  const target = release.targets.find((t) => t.environment === env.name);
  if (!target) {
    return props;
  }
  const sourceStage =
    built.find((s) => s.stageName === source.environment) ??
    new EnvironmentStage(
      new App({ context: { 'aws:cdk:bundling-stacks': [] } }),
      source.environment,
      environmentStageProps(config.allEnvironments.find((e) => e.name === source.environment)!),
    );
  return {
    ...props,
    releaseSource: {
      environmentName: source.environment,
      account: source.account,
      region: source.region,
      modelPackageGroupNames: Object.fromEntries(
        target.models.map((m) => [
          m,
          sourceStage.platform.level2!.model(m).modelRegistry.modelPackageGroupName,
        ]),
      ),
    },
  };
}

/**
 * Adds the level-4 loop of `config.automation` to an environment's props: the release source gets
 * a retraining loop per model, the level-4 environment the rules and data that drive it.
 */
function automationProps(
  config: PlatformConfig,
  env: EnvironmentConfig,
  props: EnvironmentStageProps,
): EnvironmentStageProps {
  const { automation } = config;
  if (!automation.enabled || !automation.source || !automation.environment) {
    return props;
  }
  if (env.name === automation.source) {
    const driving = config.allEnvironments.find((e) => e.name === automation.environment)!;
    const { gate, guardrails, onlineGate } = automation;
    return {
      ...props,
      modelAutomation: {
        environmentName: driving.name,
        account: driving.account,
        region: driving.region,
        models: automation.models,
        schedule: automation.schedule ? events.Schedule.expression(automation.schedule) : undefined,
        cooldown: Duration.minutes(guardrails.cooldownMinutes),
        maxStartsPerDay: guardrails.maxStartsPerDay,
        dataWindow: Duration.days(guardrails.dataWindowDays),
        primaryMetric: gate.primaryMetric,
        higherIsBetter: gate.higherIsBetter,
        marginPercent: gate.marginPercent,
        thresholds: gate.thresholds,
        onlineGate: onlineGate.enabled
          ? {
              windowHours: onlineGate.windowHours,
              minSamples: onlineGate.minSamples,
              liveMetric: LIVE_METRICS[onlineGate.liveMetric],
            }
          : undefined,
      },
    };
  }
  if (env.name === automation.environment) {
    return {
      ...props,
      automationSource: {
        environmentName: automation.source,
        models: automation.models,
        manualApproval: automation.manualApproval,
        onlineGate: automation.onlineGate.enabled,
      },
    };
  }
  return props;
}

function modelOptions(env: EnvironmentConfig): EnvironmentModelOptions[] {
  return env.models.map(({ name, workload, maxRmse, maxFare, serving, training }) => ({
    modelName: name,
    endpointName: endpointNameOf(env.name, name),
    target: WORKLOAD_TARGETS[workload],
    maxRmse,
    maxFare,
    servingMode:
      serving.mode === 'realTime'
        ? ServingMode.realTime({
            instanceType: serving.instanceType,
            minInstances: serving.minInstances,
            maxInstances: serving.maxInstances,
            trafficShifting: serving.trafficShifting && trafficShifting(serving.trafficShifting),
            rollbackAlarmNames: serving.rollbackAlarmNames,
            dataCapture: serving.dataCapture && {
              samplingPercentage: serving.dataCapture.samplingPercentage,
              captureResponses: serving.dataCapture.captureResponses,
            },
          })
        : ServingMode.serverless({
            memorySizeInMb: serving.memorySizeInMb,
            maxConcurrency: serving.maxConcurrency,
          }),
    ...(serving.variant
      ? {
          [serving.variant.kind]: {
            instanceType: serving.variant.instanceType,
            instanceCount: serving.variant.instanceCount,
          },
        }
      : {}),
    trainingSchedule: training.schedule ? events.Schedule.expression(training.schedule) : undefined,
    triggerTrainingOnNewData: training.triggerOnNewData,
  }));
}

/** The environment's monitoring block: off, or the settings of every monitored model. */
function monitoringOptions(env: EnvironmentConfig): EnvironmentModelMonitoringOptions | false {
  const m = env.monitoring;
  if (!m.enabled) {
    return false;
  }
  return {
    driftSchedule: m.driftSchedule ? events.Schedule.expression(m.driftSchedule) : undefined,
    qualitySchedule: m.qualitySchedule ? events.Schedule.expression(m.qualitySchedule) : undefined,
    psiThreshold: m.psiThreshold,
    driftedFeatureShareThreshold: m.driftedFeatureShareThreshold,
  };
}

function trafficShifting(config: TrafficShiftingConfig): TrafficShifting {
  const size = (c: CapacityConfig) =>
    c.unit === 'percent' ? CapacitySize.percent(c.value) : CapacitySize.instances(c.value);
  switch (config.kind) {
    case 'allAtOnce':
      return TrafficShifting.allAtOnce();
    case 'canary':
      return TrafficShifting.canary({ size: size(config.size), wait: Duration.minutes(config.waitMinutes) });
    case 'linear':
      return TrafficShifting.linear({
        step: size(config.step),
        interval: Duration.minutes(config.intervalMinutes),
      });
  }
}

/** The reference workload's target for each workload the config names. */
const WORKLOAD_TARGETS: Record<WorkloadConfig, ReferenceTarget> = {
  'trip-duration': ReferenceTarget.TRIP_DURATION,
  'fare-amount': ReferenceTarget.FARE_AMOUNT,
};

function workspaceOptions(ws: WorkspaceConfig): PlatformWorkspaceOptions {
  return {
    userProfiles: ws.userProfiles,
    vpcId: ws.vpcId,
    subnetIds: ws.subnetIds,
    networkAccess: ws.networkAccess === 'VpcOnly' ? WorkspaceNetworkAccess.VPC_ONLY : undefined,
    idleTimeout: ws.idleTimeoutMinutes !== undefined ? Duration.minutes(ws.idleTimeoutMinutes) : undefined,
  };
}

function sourceBucket(stack: Stack) {
  const bucket = new ArtifactStore(stack, 'Source').bucket;
  new CfnOutput(stack, 'SourceBucketName', {
    description: 'Upload a zip of the repository as source.zip here to release',
    value: bucket.bucketName,
  });
  return bucket;
}

/** The delivery pipeline stack: deploys every environment stage, in config order. */
function createDelivery(app: App, config: PlatformConfig, stages: EnvironmentStage[]): DeliveryPipeline {
  const d = config.delivery;
  const stack = new Stack(app, 'Delivery', {
    env: { account: d.account, region: d.region },
    description: 'cdk-mlops-maturity delivery pipeline: tests, synthesizes and deploys every environment',
  });
  Aspects.of(stack).add(new RedundantDependsOnLintAcknowledgement());
  const source =
    d.connectionArn && d.repository
      ? DeliverySource.connection(d.repository, d.connectionArn, d.branch)
      : // Upload a zip of the repository as source.zip to release (see README).
        DeliverySource.s3(sourceBucket(stack));
  const pipeline = new DeliveryPipeline(stack, 'Pipeline', {
    source,
    environments: stages.map((stage) => ({
      stage,
      manualApproval: config.environments.find((e) => e.name === stage.stageName)!.manualApproval,
    })),
  });
  new CfnOutput(stack, 'NotificationTopicArn', {
    description: 'Subscribe to receive pipeline failures and pending approvals',
    value: pipeline.notificationTopic.topicArn,
  });
  return pipeline;
}

/**
 * Synthesizes the app and writes the maturity report next to the templates. Returns the report.
 * A failed synth (nag finding, unmet maturity contract) throws before any report is written.
 */
export function synthesizePlatform(platform: PlatformApp): MaturityReport {
  const assembly = platform.app.synth();
  const report = MaturityReport.of(platform.app);
  report.writeTo(assembly.directory);
  return report;
}
