import { App, AppProps, Aspects, CfnOutput, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  CapacityConfig,
  EnvironmentConfig,
  parsePlatformConfig,
  PlatformConfig,
  TrafficShiftingConfig,
  WorkloadConfig,
  WorkspaceConfig,
} from './config';
import { Capability } from '../lib/maturity/capability';
import { MaturityLevel } from '../lib/maturity/maturity-level';
import { MaturityReport } from '../lib/maturity/maturity-report';
import { EnvironmentStage, EnvironmentStageProps } from '../lib/platform/environment-stage';
import { EnvironmentModelOptions, PlatformWorkspaceOptions } from '../lib/platform/platform-stack';
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

  const stages = config.environments.map(
    (env) => new EnvironmentStage(app, env.name, environmentStageProps(env)),
  );
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
    ...(env.level >= MaturityLevel.AUTOMATED_TRAINING ? { models: modelOptions(env) } : {}),
  };
}

function modelOptions(env: EnvironmentConfig): EnvironmentModelOptions[] {
  return env.models.map(({ name, workload, maxRmse, maxFare, serving, training }) => ({
    modelName: name,
    // A literal name per model: a generated one would change with the construct path.
    endpointName: `mlops-${env.name}-${name}`,
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
          })
        : ServingMode.serverless({
            memorySizeInMb: serving.memorySizeInMb,
            maxConcurrency: serving.maxConcurrency,
          }),
    trainingSchedule: training.schedule ? events.Schedule.expression(training.schedule) : undefined,
    triggerTrainingOnNewData: training.triggerOnNewData,
  }));
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
