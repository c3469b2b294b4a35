import { CfnOutput, Duration, Fn, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { EnvironmentConfig } from '../config/environment-config';
import * as iam from 'aws-cdk-lib/aws-iam';
import { MaturityLevel } from '../maturity/maturity-level';
import { Level0Tier } from '../tiers/level0-tier';
import { Level1Tier } from '../tiers/level1-tier';
import { Level2Tier } from '../tiers/level2-tier';
import { ReleasePointer } from '../serving/release-pointer';
import { ServingMode } from '../serving/serving-slot';
import * as events from 'aws-cdk-lib/aws-events';
import { MlopsValidationError } from '../private/errors';
import { WorkspaceNetworkAccess, WorkspaceProps } from '../workspace/workspace';

/** Props of a PlatformStack. */
export interface PlatformStackProps extends StackProps {
  /** The environment this stack serves. */
  readonly config: EnvironmentConfig;
  /** The serving slot's release pointer, in a stack deployed first; required from level 2. */
  readonly releasePointer?: ReleasePointer;
}

/**
 * The platform's resources for one environment: the tiers up to the environment's level.
 */
export class PlatformStack extends Stack {
  public readonly level0: Level0Tier;
  /** The Level 1 tier, when the environment's level is 1 or more. */
  public readonly level1?: Level1Tier;
  /** The Level 2 tier, when the environment's level is 2 or more. */
  public readonly level2?: Level2Tier;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.level0 = new Level0Tier(this, 'Level0', {
      removalPolicy: config.removalPolicy,
      enableWorkspace: config.workspace.enabled,
      workspaceOptions: config.workspace.enabled ? this.workspaceOptions(config) : undefined,
    });

    if (config.level >= MaturityLevel.DEVOPS) {
      const oidc = config.githubOidc;
      this.level1 = new Level1Tier(this, 'Level1', {
        environmentName: config.name,
        monitoringOptions: { removalPolicy: config.removalPolicy },
        gitHubDeployRole: oidc && {
          repository: oidc.repository,
          branch: oidc.branch,
          gitHubEnvironment: oidc.gitHubEnvironment,
          provider: oidc.providerArn
            ? iam.OidcProviderNative.fromOidcProviderArn(this, 'GitHubOidcProvider', oidc.providerArn)
            : undefined,
        },
      });
      new CfnOutput(this, 'AlarmTopicArn', {
        description: `Subscribe to receive the alarms of environment ${config.name}`,
        value: this.level1.monitoring.alarmTopic.topicArn,
      });
    }

    if (config.level >= MaturityLevel.AUTOMATED_TRAINING) {
      const level2 = this.createLevel2(config, props.releasePointer);
      this.level2 = level2;
      new CfnOutput(this, 'TrainingPipelineName', {
        description: `Start a training run: aws sagemaker start-pipeline-execution --pipeline-name <this>`,
        value: level2.workload.pipeline.pipelineName,
      });
      new CfnOutput(this, 'ModelPackageGroupName', {
        description: 'The model registry: approve a version, then release it with npm run release',
        value: level2.modelRegistry.modelPackageGroupName,
      });
      new CfnOutput(this, 'ServingEndpointName', {
        description: `The endpoint serving the released model (exists once a model is released to ${config.name})`,
        value: level2.servingSlot.endpointName,
      });
      new CfnOutput(this, 'MlflowTrackingArn', {
        description: 'MLFLOW_TRACKING_URI for notebooks (with the sagemaker-mlflow plugin)',
        value: level2.experimentTracking.trackingArn,
      });
    }
  }

  private createLevel2(config: EnvironmentConfig, pointer: ReleasePointer | undefined): Level2Tier {
    if (!pointer) {
      throw new MlopsValidationError(`PlatformStack '${this.node.path}'`, [
        `releasePointer is undefined but environment '${config.name}' is at level ${config.level}: ` +
          'create a ReleasePointer in a stack deployed before this one and pass it (EnvironmentStage does this)',
      ]);
    }
    const serving = config.serving;
    return new Level2Tier(this, 'Level2', {
      artifactStore: this.level0.artifactStore,
      releasePointer: pointer,
      removalPolicy: config.removalPolicy,
      workloadOptions: {
        schedule: config.training.schedule ? events.Schedule.expression(config.training.schedule) : undefined,
        triggerOnNewData: config.training.triggerOnNewData,
      },
      servingOptions: {
        endpointName: `mlops-${config.name}`,
        mode:
          serving.mode === 'realTime'
            ? ServingMode.realTime({
                instanceType: serving.instanceType,
                minInstances: serving.minInstances,
                maxInstances: serving.maxInstances,
              })
            : ServingMode.serverless({
                memorySizeInMb: serving.memorySizeInMb,
                maxConcurrency: serving.maxConcurrency,
              }),
      },
    });
  }

  private workspaceOptions(config: EnvironmentConfig): WorkspaceProps {
    const ws = config.workspace;
    const byId = ws.vpcId !== undefined && ws.subnetIds !== undefined;
    // Ids are all a Studio domain needs, so no lookup (and no credentials) is required at synth.
    const vpc = byId
      ? ec2.Vpc.fromVpcAttributes(this, 'WorkspaceVpc', {
          vpcId: ws.vpcId!,
          // Unused: the subnets below are given explicitly. A token keeps synth free of lookups.
          availabilityZones: Fn.getAzs(),
        })
      : undefined;
    const vpcSubnets = byId
      ? { subnets: ws.subnetIds!.map((id) => ec2.Subnet.fromSubnetId(this, `WorkspaceSubnet-${id}`, id)) }
      : undefined;
    return {
      removalPolicy: config.removalPolicy,
      userProfiles: ws.userProfiles,
      vpc,
      vpcSubnets,
      networkAccess: ws.networkAccess === 'VpcOnly' ? WorkspaceNetworkAccess.VPC_ONLY : undefined,
      idleTimeout: ws.idleTimeoutMinutes !== undefined ? Duration.minutes(ws.idleTimeoutMinutes) : undefined,
    };
  }
}
