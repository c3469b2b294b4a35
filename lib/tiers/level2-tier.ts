import { RemovalPolicy } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { Capability } from '../maturity/capability';
import { MaturityContract } from '../maturity/maturity-contract';
import { ModelRegistry, ModelRegistryProps } from '../registry/model-registry';
import { IReleasePointer } from '../serving/release-pointer';
import { ServingSlot, ServingSlotProps } from '../serving/serving-slot';
import { IArtifactStore } from '../storage/artifact-store';
import { ExperimentTracking, ExperimentTrackingProps } from '../tracking/experiment-tracking';
import { ReferenceWorkload, ReferenceWorkloadProps } from '../training/reference-workload';

/** Props of the Level 2 tier. */
export interface Level2TierProps {
  /** The Level 0 tier's artifact store: data in, pipeline outputs, models and MLflow artifacts out. */
  readonly artifactStore: IArtifactStore;
  /**
   * The serving slot's release pointer, created in a stack deployed before this tier's (see
   * ReleasePointer), or imported with `ReleasePointer.fromParameterName` (then deploy the
   * parameter first: an imported pointer adds no stack dependency).
   */
  readonly releasePointer: IReleasePointer;
  /**
   * What happens to the model registry and the experiment tracking when they leave the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /** Options of the model registry. @default - ModelRegistry's defaults */
  readonly modelRegistryOptions?: ModelRegistryProps;
  /** Options of the experiment tracking. @default - a serverless MLflow App */
  readonly experimentTrackingOptions?: Omit<ExperimentTrackingProps, 'artifactStore'>;
  /** Options of the reference training pipeline. @default - ReferenceWorkload's defaults */
  readonly workloadOptions?: Omit<
    ReferenceWorkloadProps,
    'artifactStore' | 'modelRegistry' | 'experimentTracking'
  >;
  /** Options of the serving slot. @default - a serverless slot */
  readonly servingOptions?: Omit<ServingSlotProps, 'artifactStore' | 'pointer'>;
}

/**
 * Level 2 of the MLOps maturity model ("automated training"): the reference training pipeline
 * (`training-pipeline`), SageMaker managed MLflow (`experiment-tracking`), a model package group
 * (`model-registry`) and a serving slot released with one command (`one-command-deployment`).
 */
export class Level2Tier extends Construct {
  public readonly modelRegistry: ModelRegistry;
  public readonly experimentTracking: ExperimentTracking;
  public readonly workload: ReferenceWorkload;
  public readonly servingSlot: ServingSlot;

  constructor(scope: Construct, id: string, props: Level2TierProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.modelRegistry = new ModelRegistry(this, 'ModelRegistry', {
      removalPolicy,
      ...props.modelRegistryOptions,
    });
    MaturityContract.provide(this.modelRegistry, Capability.MODEL_REGISTRY);

    this.experimentTracking = new ExperimentTracking(this, 'ExperimentTracking', {
      artifactStore: props.artifactStore,
      removalPolicy,
      ...props.experimentTrackingOptions,
    });
    MaturityContract.provide(this.experimentTracking, Capability.EXPERIMENT_TRACKING);

    this.workload = new ReferenceWorkload(this, 'Training', {
      artifactStore: props.artifactStore,
      modelRegistry: this.modelRegistry,
      experimentTracking: this.experimentTracking,
      ...props.workloadOptions,
    });
    MaturityContract.provide(this.workload, Capability.TRAINING_PIPELINE);

    this.servingSlot = new ServingSlot(this, 'Serving', {
      artifactStore: props.artifactStore,
      pointer: props.releasePointer,
      ...props.servingOptions,
    });
    MaturityContract.provide(this.servingSlot, Capability.ONE_COMMAND_DEPLOYMENT);
  }
}
