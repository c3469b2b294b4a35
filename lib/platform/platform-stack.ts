import { CfnOutput, Duration, Fn, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { EnvironmentConfig } from '../config/environment-config';
import * as iam from 'aws-cdk-lib/aws-iam';
import { MaturityLevel } from '../maturity/maturity-level';
import { Level0Tier } from '../tiers/level0-tier';
import { Level1Tier } from '../tiers/level1-tier';
import { WorkspaceNetworkAccess, WorkspaceProps } from '../workspace/workspace';

/** Props of a PlatformStack. */
export interface PlatformStackProps extends StackProps {
  /** The environment this stack serves. */
  readonly config: EnvironmentConfig;
}

/**
 * The platform's resources for one environment: the tiers up to the environment's level.
 */
export class PlatformStack extends Stack {
  public readonly level0: Level0Tier;
  /** The Level 1 tier, when the environment's level is 1 or more. */
  public readonly level1?: Level1Tier;

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
