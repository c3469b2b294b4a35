import { Stage, StageProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { EnvironmentConfig } from '../config/environment-config';
import { MaturityContract } from '../maturity/maturity-contract';
import { PlatformStack } from './platform-stack';

/** Props of an EnvironmentStage. */
export interface EnvironmentStageProps extends StageProps {
  /** The environment's parsed config. */
  readonly config: EnvironmentConfig;
}

/**
 * One deployment environment of the platform (dev, staging, prod, ...): its stacks and its
 * maturity contract. A Stage so that the same unit deploys from `cdk deploy` and from a pipeline.
 */
export class EnvironmentStage extends Stage {
  public readonly contract: MaturityContract;
  public readonly platform: PlatformStack;

  constructor(scope: Construct, id: string, props: EnvironmentStageProps) {
    super(scope, id, {
      ...props,
      env: props.env ?? { account: props.config.account, region: props.config.region },
    });
    this.contract = MaturityContract.declare(this, {
      environmentName: props.config.name,
      declaredLevel: props.config.level,
    });
    this.platform = new PlatformStack(this, 'Platform', {
      config: props.config,
      description: `cdk-mlops-maturity platform, environment ${props.config.name} (maturity level ${props.config.level})`,
    });
  }
}
