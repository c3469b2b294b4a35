import { Stack, Stage, StageProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { MaturityContract } from '../maturity/maturity-contract';
import { MaturityLevel } from '../maturity/maturity-level';
import { PLATFORM_STACK_ID, RELEASE_STACK_ID } from '../serving/naming';
import { ReleasePointer } from '../serving/release-pointer';
import { PlatformEnvironmentOptions, PlatformStack } from './platform-stack';

/**
 * Props of an EnvironmentStage: the environment, as PlatformStack takes it, and where it deploys
 * (`env`, default the CLI's account and region at deploy time).
 */
export interface EnvironmentStageProps extends StageProps, PlatformEnvironmentOptions {}

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
    super(scope, id, props);
    // Every key listed, so that the compiler flags a new environment option that is not passed on.
    const environment: { [K in keyof Required<PlatformEnvironmentOptions>]: PlatformEnvironmentOptions[K] } =
      {
        environmentName: props.environmentName,
        level: props.level,
        removalPolicy: props.removalPolicy,
        workspace: props.workspace,
        gitHubDeployRole: props.gitHubDeployRole,
        servingMode: props.servingMode,
        endpointName: props.endpointName,
        trainingSchedule: props.trainingSchedule,
        triggerTrainingOnNewData: props.triggerTrainingOnNewData,
      };
    const name = environment.environmentName;
    this.contract = MaturityContract.declare(this, {
      environmentName: name,
      declaredLevel: environment.level,
    });
    let releasePointer: ReleasePointer | undefined;
    if (environment.level >= MaturityLevel.AUTOMATED_TRAINING) {
      this.release = new Stack(this, RELEASE_STACK_ID, {
        description: `cdk-mlops-maturity release pointer, environment ${name}: which model the environment serves`,
      });
      releasePointer = new ReleasePointer(this.release, 'Pointer', {
        environmentName: name,
        removalPolicy: environment.removalPolicy,
      });
    }
    this.platform = new PlatformStack(this, PLATFORM_STACK_ID, {
      ...environment,
      releasePointer,
      description: `cdk-mlops-maturity platform, environment ${name} (maturity level ${environment.level})`,
    });
  }
}
