import { Construct } from 'constructs';
import { GitHubOidcDeployRole, GitHubOidcDeployRoleProps } from '../delivery/github-oidc-deploy-role';
import { Capability } from '../maturity/capability';
import { MaturityContract } from '../maturity/maturity-contract';
import { PlatformMonitoring, PlatformMonitoringProps } from '../monitoring/platform-monitoring';

/** Props of the Level 1 tier. */
export interface Level1TierProps {
  /** The environment's name, for alarm and dashboard names. */
  readonly environmentName: string;

  /**
   * Options of the environment's monitoring.
   *
   * @default - PlatformMonitoring's defaults, discovering the stack that holds this tier
   */
  readonly monitoringOptions?: Omit<PlatformMonitoringProps, 'environmentName'>;

  /**
   * A role for deploying this environment from GitHub Actions. With it, the environment counts as
   * delivered (`ci-cd`, `automated-tests`) without the delivery pipeline: the documented workflow
   * runs the test command before `cdk deploy`.
   *
   * @default - no role; the environment is delivered by the DeliveryPipeline, which registers those capabilities
   */
  readonly gitHubDeployRole?: GitHubOidcDeployRoleProps;
}

/**
 * Level 1 of the MLOps maturity model ("DevOps, no MLOps"), the parts that live in each
 * environment: operational monitoring (`ops-metrics`) and, optionally, a GitHub OIDC deploy role.
 * The delivery pipeline, which lives in its own stack, adds `ci-cd` and `automated-tests` to the
 * environments it deploys.
 */
export class Level1Tier extends Construct {
  public readonly monitoring: PlatformMonitoring;
  public readonly gitHubDeployRole?: GitHubOidcDeployRole;

  constructor(scope: Construct, id: string, props: Level1TierProps) {
    super(scope, id);
    this.monitoring = new PlatformMonitoring(this, 'Monitoring', {
      environmentName: props.environmentName,
      ...props.monitoringOptions,
    });
    MaturityContract.provide(this.monitoring, Capability.OPS_METRICS);

    if (props.gitHubDeployRole) {
      this.gitHubDeployRole = new GitHubOidcDeployRole(this, 'GitHubDeployRole', props.gitHubDeployRole);
      MaturityContract.provide(this.gitHubDeployRole, Capability.CI_CD, Capability.AUTOMATED_TESTS);
    }
  }
}
