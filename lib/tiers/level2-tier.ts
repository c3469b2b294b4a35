import { RemovalPolicy } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { Capability } from '../maturity/capability';
import { MaturityContract } from '../maturity/maturity-contract';
import { describeValue } from '../private/describe-value';
import { MlopsValidationError, ProblemCollector } from '../private/errors';
import { IArtifactStore } from '../storage/artifact-store';
import { ExperimentTracking, ExperimentTrackingProps } from '../tracking/experiment-tracking';
import { checkModelNames, PlatformModel, PlatformModelOptions } from './platform-model';

/** Props of the Level 2 tier. */
export interface Level2TierProps {
  /** The Level 0 tier's artifact store: data in, pipeline outputs, models and MLflow artifacts out. */
  readonly artifactStore: IArtifactStore;
  /**
   * The models the environment runs, each with its own pipeline, model package group, serving
   * slot and release pointer. At least one; names are unique, also once hyphens are removed (the
   * form they take in logical ids).
   */
  readonly models: PlatformModelOptions[];
  /**
   * What happens to the model registries and the experiment tracking when they leave the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Where the models' serving slots go, e.g. a stack that holds serving and nothing else (see
   * PlatformModel's `servingScope`).
   *
   * @default - each under its model
   */
  readonly servingScope?: Construct;
  /** Options of the experiment tracking. @default - a serverless MLflow App */
  readonly experimentTrackingOptions?: Omit<ExperimentTrackingProps, 'artifactStore'>;
}

/**
 * Level 2 of the MLOps maturity model ("automated training"): one SageMaker managed MLflow for the
 * environment (`experiment-tracking`) and, per model, a PlatformModel: its reference training
 * pipeline (`training-pipeline`), model package group (`model-registry`) and serving slot released
 * with one command (`one-command-deployment`). Any number of models run side by side
 * (`multiple-models`).
 *
 * Each model's resources sit under a construct named after the model, so adding or removing a
 * model never changes another model's logical ids.
 */
export class Level2Tier extends Construct {
  public readonly experimentTracking: ExperimentTracking;
  /** The models, in the order given. */
  public readonly models: PlatformModel[];

  constructor(scope: Construct, id: string, props: Level2TierProps) {
    super(scope, id);
    validateModels(this, props.models);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.experimentTracking = new ExperimentTracking(this, 'ExperimentTracking', {
      artifactStore: props.artifactStore,
      removalPolicy,
      ...props.experimentTrackingOptions,
    });
    MaturityContract.provide(this.experimentTracking, Capability.EXPERIMENT_TRACKING);

    this.models = props.models.map(
      (model) =>
        new PlatformModel(this, model.modelName, {
          ...model,
          artifactStore: props.artifactStore,
          experimentTracking: this.experimentTracking,
          removalPolicy,
          servingScope: props.servingScope,
        }),
    );
    MaturityContract.provide(this, Capability.MULTIPLE_MODELS);
  }

  /** The model named `modelName`. Throws naming the models there are when there is none. */
  public model(modelName: string): PlatformModel {
    const found = this.models.find((m) => m.modelName === modelName);
    if (!found) {
      throw new MlopsValidationError(`Level2Tier '${this.node.path}'`, [
        `it has no model ${describeValue(modelName)}: its models are ` +
          this.models.map((m) => `'${m.modelName}'`).join(', '),
      ]);
    }
    return found;
  }
}

function validateModels(tier: Level2Tier, models: PlatformModelOptions[] | undefined): void {
  const problems = new ProblemCollector(`Level2Tier '${tier.node.path}'`);
  if (!Array.isArray(models) || models.length === 0) {
    problems.add(
      'models',
      models,
      "give at least one model, e.g. [{ modelName: 'trip-duration', releasePointer }]",
    );
    problems.throwIfAny();
  }
  checkModelNames(
    problems,
    models!.map((m) => m.modelName),
  );
  problems.throwIfAny();
}
