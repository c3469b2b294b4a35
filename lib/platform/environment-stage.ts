import { Stack, Stage, StageProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { MaturityContract } from '../maturity/maturity-contract';
import { MaturityLevel } from '../maturity/maturity-level';
import { MODEL_NAME } from '../private/patterns';
import { PLATFORM_STACK_ID, RELEASE_STACK_ID, SERVING_STACK_ID } from '../serving/naming';
import { ReleasePointer } from '../serving/release-pointer';
import { VariantWeight } from '../serving/variant-weight';
import {
  DEFAULT_MODEL_NAME,
  PlatformEnvironmentOptions,
  PlatformStack,
  VariantPointers,
} from './platform-stack';

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
   * The stack of the models' release pointers (level 2 and up), deployed before the platform
   * stack, which reads the pointers when it deploys.
   */
  public readonly release?: Stack;
  /**
   * The stack of the models' serving slots (level 2 and up), deployed after the platform stack:
   * SageMaker models, endpoint configs, endpoints, their autoscaling and alarms, and nothing else,
   * so that a release updates it through a role that can change only serving (docs/adr/0006).
   */
  public readonly serving?: Stack;
  /** Each model's release pointer, by model name (level 2 and up). */
  public readonly releasePointers: { readonly [modelName: string]: ReleasePointer } = {};
  /** The pointers and weights of the models' test variants, by model name. */
  public readonly variantPointers: {
    readonly [modelName: string]: {
      readonly challenger?: VariantPointers;
      readonly shadow?: VariantPointers;
    };
  } = {};

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
        models: props.models,
        releaseSource: props.releaseSource,
        releaseAutomation: props.releaseAutomation,
        modelMonitoring: props.modelMonitoring,
        modelAutomation: props.modelAutomation,
        automationSource: props.automationSource,
      };
    const name = environment.environmentName;
    this.contract = MaturityContract.declare(this, {
      environmentName: name,
      declaredLevel: environment.level,
    });
    let releasePointers: Record<string, ReleasePointer> | undefined;
    if (environment.level >= MaturityLevel.AUTOMATED_TRAINING) {
      this.release = new Stack(this, RELEASE_STACK_ID, {
        description: `cdk-mlops-maturity release pointers, environment ${name}: which version each model serves`,
      });
      const release = this.release;
      const models = environment.models ?? [{ modelName: DEFAULT_MODEL_NAME }];
      // Named after the model, so that adding one leaves the others' pointers alone. A name that
      // is not a valid model name fails in the platform stack, with the prop named.
      releasePointers = Object.fromEntries(
        [...new Set(models.map((model) => model.modelName))]
          .filter((modelName) => typeof modelName === 'string' && MODEL_NAME.test(modelName))
          .map((modelName) => [
            modelName,
            new ReleasePointer(release, `Pointer-${modelName}`, {
              environmentName: name,
              slotName: modelName,
              removalPolicy: environment.removalPolicy,
            }),
          ]),
      );
      this.releasePointers = releasePointers;
      // Named after the model and the variant, like the champion's pointer.
      this.variantPointers = Object.fromEntries(
        models
          .filter(
            (m) =>
              typeof m.modelName === 'string' && MODEL_NAME.test(m.modelName) && (m.challenger || m.shadow),
          )
          .map((model) => {
            const variant = (kind: 'challenger' | 'shadow'): VariantPointers => {
              const options = {
                environmentName: name,
                slotName: model.modelName,
                variant: kind,
                removalPolicy: environment.removalPolicy,
              };
              return {
                pointer: new ReleasePointer(release, `Pointer-${model.modelName}-${kind}`, options),
                weight: new VariantWeight(release, `Weight-${model.modelName}-${kind}`, options),
              };
            };
            return [
              model.modelName,
              {
                challenger: model.challenger ? variant('challenger') : undefined,
                shadow: model.shadow ? variant('shadow') : undefined,
              },
            ];
          }),
      );
    }
    if (environment.level >= MaturityLevel.AUTOMATED_TRAINING) {
      this.serving = new Stack(this, SERVING_STACK_ID, {
        description: `cdk-mlops-maturity serving, environment ${name}: the endpoints serving each model's released version`,
      });
    }
    this.platform = new PlatformStack(this, PLATFORM_STACK_ID, {
      ...environment,
      releasePointers,
      variantPointers: this.release ? this.variantPointers : undefined,
      servingScope: this.serving,
      description: `cdk-mlops-maturity platform, environment ${name} (maturity level ${environment.level})`,
    });
  }
}
