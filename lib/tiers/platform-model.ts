import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { Capability } from '../maturity/capability';
import { MaturityContract } from '../maturity/maturity-contract';
import { ProblemCollector } from '../private/errors';
import { MODEL_NAME, modelNameKey } from '../private/patterns';
import { ModelRegistry, ModelRegistryProps } from '../registry/model-registry';
import { IReleasePointer } from '../serving/release-pointer';
import { ServingMode, ServingSlot, ServingSlotProps } from '../serving/serving-slot';
import { IArtifactStore } from '../storage/artifact-store';
import { IExperimentTracking } from '../tracking/experiment-tracking';
import { ReferenceWorkload, ReferenceWorkloadProps } from '../training/reference-workload';

/** What a model of the Level 2 tier is made of: the options of its registry, pipeline and slot. */
export interface PlatformModelOptions {
  /**
   * The model's name within its environment: 1-32 lower-case letters, digits and single hyphens,
   * starting with a letter. It is the construct id of the model's resources (so their logical ids
   * and generated names derive from it), its folder in the artifact store, and the slot name of
   * its release pointer. Renaming a model replaces its resources; adding or removing another
   * leaves them alone.
   */
  readonly modelName: string;
  /** The model's release pointer, created in a stack deployed before this one (see ReleasePointer). */
  readonly releasePointer: IReleasePointer;
  /** Options of the model package group. @default - ModelRegistry's defaults */
  readonly modelRegistryOptions?: ModelRegistryProps;
  /**
   * Options of the reference training pipeline. @default - ReferenceWorkload's defaults, with
   * `artifactFolder` the model's name
   */
  readonly workloadOptions?: Omit<
    ReferenceWorkloadProps,
    'artifactStore' | 'modelRegistry' | 'experimentTracking'
  >;
  /**
   * Options of the serving slot. @default - a serverless slot that reads model artifacts only
   * from the workload's folder
   */
  readonly servingOptions?: Omit<ServingSlotProps, 'artifactStore' | 'pointer' | 'modelRegistry'>;
}

/** Props of a PlatformModel. */
export interface PlatformModelProps extends PlatformModelOptions {
  /** Where the pipeline reads data and writes its outputs, and the slot reads model artifacts. */
  readonly artifactStore: IArtifactStore;
  /**
   * The environment's shared experiment tracking: the model's runs go to its own experiment there
   * (named after its pipeline).
   *
   * @default - no experiment tracking
   */
  readonly experimentTracking?: IExperimentTracking;
  /**
   * What happens to the model package group when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Where the model's serving slot goes, e.g. a stack of its own, so that the stack holds serving
   * and nothing else (docs/adr/0006). The slot is created there under the model's name; when that
   * scope is in another stack, the model's role is created here, so the slot's stack holds no IAM.
   *
   * @default - under this construct, as `Serving`
   */
  readonly servingScope?: Construct;
}

/**
 * One model of an environment (maturity level 2): its model package group (`model-registry`), its
 * training pipeline (`training-pipeline`) and its serving slot, which serves only that group's
 * packages (`one-command-deployment`). An environment holds any number of them side by side,
 * sharing the artifact store and the experiment tracking.
 */
export class PlatformModel extends Construct {
  public readonly modelName: string;
  public readonly modelRegistry: ModelRegistry;
  public readonly workload: ReferenceWorkload;
  public readonly servingSlot: ServingSlot;
  /** The model's folder in the artifact store: its pipeline writes under `<prefix><folder>/`. */
  public readonly artifactFolder: string;

  constructor(scope: Construct, id: string, props: PlatformModelProps) {
    super(scope, id);
    const problems = new ProblemCollector(`PlatformModel '${this.node.path}'`);
    problems.checkPattern('modelName', props.modelName ?? '', MODEL_NAME, MODEL_NAME_FIX);
    problems.throwIfAny();
    this.modelName = props.modelName;

    this.modelRegistry = new ModelRegistry(this, 'ModelRegistry', {
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      ...props.modelRegistryOptions,
    });
    MaturityContract.provide(this.modelRegistry, Capability.MODEL_REGISTRY);

    this.workload = new ReferenceWorkload(this, 'Training', {
      ...props.workloadOptions,
      artifactFolder: props.workloadOptions?.artifactFolder ?? props.modelName,
      artifactStore: props.artifactStore,
      modelRegistry: this.modelRegistry,
      experimentTracking: props.experimentTracking,
    });
    MaturityContract.provide(this.workload, Capability.TRAINING_PIPELINE);

    const mode = props.servingOptions?.mode ?? ServingMode.serverless();
    const folder = props.workloadOptions?.artifactFolder ?? props.modelName;
    this.artifactFolder = folder;
    const servingScope = props.servingScope ?? this;
    const elsewhere = Stack.of(servingScope) !== Stack.of(this);
    this.servingSlot = new ServingSlot(servingScope, elsewhere ? props.modelName : 'Serving', {
      // Its own pipeline's model artifacts, and no other model's.
      modelArtifactsFolder: folder,
      role: elsewhere
        ? new iam.Role(this, 'ModelRole', {
            assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
            description: `Runs the model ${props.modelName} in its serving slot`,
          })
        : undefined,
      ...props.servingOptions,
      mode,
      artifactStore: props.artifactStore,
      pointer: props.releasePointer,
      modelRegistry: this.modelRegistry,
    });
    MaturityContract.provide(this.servingSlot, Capability.ONE_COMMAND_DEPLOYMENT);
    if (elsewhere) {
      MaturityContract.attributeToModel(this.servingSlot, props.modelName);
    }

    MaturityContract.registerModel(this, {
      name: props.modelName,
      pipelineName: this.workload.pipeline.pipelineName,
      modelPackageGroupName: this.modelRegistry.modelPackageGroupName,
      endpointName: this.servingSlot.endpointName,
      servingMode: mode._kind,
    });
  }
}

const MODEL_NAME_FIX =
  'use 1-32 lower-case letters, digits and single hyphens, starting with a letter, e.g. trip-duration';

/**
 * Records a problem for each name of `names` (the `modelName` of `models[i]`) that is not a model
 * name, repeats another, or equals another once hyphens are removed (logical ids drop them).
 * Returns the valid names.
 *
 * @internal
 */
export function checkModelNames(problems: ProblemCollector, names: unknown[]): string[] {
  const byKey = new Map<string, string>();
  const valid: string[] = [];
  names.forEach((name, index) => {
    const prop = `models[${index}].modelName`;
    if (typeof name !== 'string' || !MODEL_NAME.test(name)) {
      problems.add(prop, name, MODEL_NAME_FIX);
      return;
    }
    const other = byKey.get(modelNameKey(name));
    if (other === name) {
      problems.add(prop, name, 'give each model its own name');
      return;
    }
    if (other !== undefined) {
      problems.add(
        prop,
        name,
        `it differs from model '${other}' only in hyphens, which logical ids drop, so their resources would collide: rename one`,
      );
      return;
    }
    byKey.set(modelNameKey(name), name);
    valid.push(name);
  });
  return valid;
}
