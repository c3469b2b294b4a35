import { Stack, Stage, StageProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { EnvironmentConfig } from '../config/environment-config';
import { MaturityContract } from '../maturity/maturity-contract';
import { MaturityLevel } from '../maturity/maturity-level';
import { PLATFORM_STACK_ID, RELEASE_STACK_ID } from '../serving/naming';
import { ReleasePointer } from '../serving/release-pointer';
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
  /**
   * The stack of the serving slot's release pointer (level 2 and up), deployed before the platform
   * stack, which reads the pointer when it deploys.
   */
  public readonly release?: Stack;

  constructor(scope: Construct, id: string, props: EnvironmentStageProps) {
    super(scope, id, {
      ...props,
      env: props.env ?? { account: props.config.account, region: props.config.region },
    });
    this.contract = MaturityContract.declare(this, {
      environmentName: props.config.name,
      declaredLevel: props.config.level,
    });
    let releasePointer: ReleasePointer | undefined;
    if (props.config.level >= MaturityLevel.AUTOMATED_TRAINING) {
      this.release = new Stack(this, RELEASE_STACK_ID, {
        description: `cdk-mlops-maturity release pointer, environment ${props.config.name}: which model the environment serves`,
      });
      releasePointer = new ReleasePointer(this.release, 'Pointer', {
        environmentName: props.config.name,
        removalPolicy: props.config.removalPolicy,
      });
    }
    this.platform = new PlatformStack(this, PLATFORM_STACK_ID, {
      config: props.config,
      releasePointer,
      description: `cdk-mlops-maturity platform, environment ${props.config.name} (maturity level ${props.config.level})`,
    });
  }
}
