import { PipelineExpression, PipelineValue } from './expressions';
import { PipelineStepType } from './steps';

/**
 * The keys AWS's published pipeline definition schema (version 2020-12-01) allows in each step
 * type's Arguments, transcribed into this project's own table. An object shape lists its keys;
 * `true` accepts any value (a literal or an expression); a one-element array is a list of that
 * shape; the key `'*'` marks an object that the schema leaves open.
 *
 * Only the step types this model renders are listed. Keys that the service accepts but the schema
 * does not (e.g. `ModelApprovalStatus` in RegisterModel, `AppManaged` in processing inputs) are
 * rejected here too, so that every definition this model renders passes the schema.
 */
export type ArgumentShape = true | readonly [ArgumentShape] | { readonly [key: string]: ArgumentShape };

const S3_CONTENT = { ContentDigest: true, ContentType: true, S3Uri: true } as const;
const TAGS = [{ Key: true, Value: true }] as const;
const VPC = { SecurityGroupIds: true, Subnets: true } as const;
const PARAMETER_RANGES = {
  CategoricalParameterRanges: [{ Name: true, Values: true }],
  ContinuousParameterRanges: [{ MaxValue: true, MinValue: true, Name: true, ScalingType: true }],
  IntegerParameterRanges: [{ MaxValue: true, MinValue: true, Name: true, ScalingType: true }],
} as const;
const ALGORITHM = {
  AlgorithmName: true,
  EnableSageMakerMetricsTimeSeries: true,
  MetricDefinitions: [{ Name: true, Regex: true }],
  TrainingImage: true,
  TrainingInputMode: true,
} as const;
const INPUT_DATA_CONFIG = [
  {
    '*': true,
    ChannelName: true,
    CompressionType: true,
    ContentType: true,
    DataSource: {
      '*': true,
      S3DataSource: { AttributeNames: true, S3DataDistributionType: true, S3DataType: true, S3Uri: true },
    },
    InputMode: true,
    RecordWrapperType: true,
    ShuffleConfig: { Seed: true },
  },
] as const;
const OUTPUT_DATA_CONFIG = { KmsKeyId: true, S3OutputPath: true } as const;
const RESOURCE_CONFIG = {
  InstanceCount: true,
  InstanceType: true,
  VolumeKmsKeyId: true,
  VolumeSizeInGB: true,
} as const;
const TUNING_TRAINING_JOB_DEFINITION = {
  AlgorithmSpecification: ALGORITHM,
  CheckpointConfig: { LocalPath: true, S3Uri: true },
  DefinitionName: true,
  EnableInterContainerTrafficEncryption: true,
  EnableManagedSpotTraining: true,
  EnableNetworkIsolation: true,
  HyperParameterRanges: PARAMETER_RANGES,
  InputDataConfig: INPUT_DATA_CONFIG,
  OutputDataConfig: OUTPUT_DATA_CONFIG,
  ResourceConfig: RESOURCE_CONFIG,
  RetryStrategy: { MaximumRetryAttempts: true },
  RoleArn: true,
  StaticHyperParameters: true,
  StoppingCondition: { MaxRuntimeInSeconds: true, MaxWaitTimeInSeconds: true },
  TuningObjective: { MetricName: true, Type: true },
  VpcConfig: VPC,
} as const;
const CONTAINER = {
  ContainerHostname: true,
  Environment: true,
  Image: true,
  ImageConfig: {
    RepositoryAccessMode: true,
    RepositoryAuthConfig: { RepositoryCredentialsProviderArn: true },
  },
  InferenceSpecificationName: true,
  Mode: true,
  ModelDataUrl: true,
  ModelPackageName: true,
  MultiModelConfig: { ModelCacheSetting: true },
} as const;

export const STEP_ARGUMENT_SHAPES: Record<PipelineStepType, ArgumentShape> = {
  Processing: {
    AppSpecification: { ContainerArguments: true, ContainerEntrypoint: true, ImageUri: true },
    Environment: true,
    NetworkConfig: {
      EnableInterContainerTrafficEncryption: true,
      EnableNetworkIsolation: true,
      VpcConfig: VPC,
    },
    ProcessingInputs: [
      {
        InputName: true,
        S3Input: {
          LocalPath: true,
          S3CompressionType: true,
          S3DataDistributionType: true,
          S3DataType: true,
          S3InputMode: true,
          S3Uri: true,
        },
      },
    ],
    ProcessingJobName: true,
    ProcessingOutputConfig: {
      KmsKeyId: true,
      Outputs: [{ OutputName: true, S3Output: { LocalPath: true, S3UploadMode: true, S3Uri: true } }],
    },
    ProcessingResources: {
      ClusterConfig: { InstanceCount: true, InstanceType: true, VolumeKmsKeyId: true, VolumeSizeInGB: true },
    },
    RoleArn: true,
    StoppingCondition: { MaxRuntimeInSeconds: true },
    Tags: TAGS,
  },
  Training: {
    AlgorithmSpecification: ALGORITHM,
    CheckpointConfig: { LocalPath: true, S3Uri: true },
    DebugHookConfig: true,
    DebugRuleConfigurations: true,
    EnableInterContainerTrafficEncryption: true,
    EnableManagedSpotTraining: true,
    EnableNetworkIsolation: true,
    HyperParameters: true,
    InputDataConfig: INPUT_DATA_CONFIG,
    OutputDataConfig: OUTPUT_DATA_CONFIG,
    ResourceConfig: RESOURCE_CONFIG,
    RoleArn: true,
    StoppingCondition: { MaxRuntimeInSeconds: true, MaxWaitTimeInSeconds: true },
    Tags: TAGS,
    TensorBoardOutputConfig: { LocalPath: true, S3OutputPath: true },
    TrainingJobName: true,
    VpcConfig: VPC,
  },
  Tuning: {
    HyperParameterTuningJobConfig: {
      HyperParameterTuningJobObjective: { MetricName: true, Type: true },
      ParameterRanges: PARAMETER_RANGES,
      ResourceLimits: { MaxNumberOfTrainingJobs: true, MaxParallelTrainingJobs: true },
      Strategy: true,
      TrainingJobEarlyStoppingType: true,
      TuningJobCompletionCriteria: { TargetObjectiveMetricValue: true },
    },
    HyperParameterTuningJobName: true,
    Tags: TAGS,
    TrainingJobDefinition: TUNING_TRAINING_JOB_DEFINITION,
    TrainingJobDefinitions: [TUNING_TRAINING_JOB_DEFINITION],
    WarmStartConfig: {
      ParentHyperParameterTuningJobs: [{ HyperParameterTuningJobName: true }],
      WarmStartType: true,
    },
  },
  Model: {
    Containers: [CONTAINER],
    EnableNetworkIsolation: true,
    ExecutionRoleArn: true,
    InferenceExecutionConfig: { Mode: true },
    ModelName: true,
    PrimaryContainer: CONTAINER,
    Tags: TAGS,
    VpcConfig: VPC,
  },
  RegisterModel: {
    CertifyForMarketplace: true,
    InferenceSpecification: {
      Containers: [
        { ContainerHostname: true, Image: true, ImageDigest: true, ModelDataUrl: true, ProductId: true },
      ],
      SupportedContentTypes: true,
      SupportedRealtimeInferenceInstanceTypes: true,
      SupportedResponseMIMETypes: true,
      SupportedTransformInstanceTypes: true,
    },
    ModelMetrics: {
      Bias: { Report: S3_CONTENT },
      DeploymentSpecification: true,
      Explainability: { Report: S3_CONTENT },
      ModelDataQuality: { Constraints: S3_CONTENT, Statistics: S3_CONTENT },
      ModelQuality: { Constraints: S3_CONTENT, Statistics: S3_CONTENT },
    },
    ModelPackageDescription: true,
    ModelPackageGroupName: true,
  },
  // Condition arguments are rendered by the model itself from typed props.
  Condition: true,
  Fail: { '*': true, ErrorMessage: true },
};

/**
 * Arguments each step type must have, per the schema's `required` lists. (Condition steps always
 * render their `Conditions`.)
 */
export const STEP_REQUIRED_ARGUMENTS: Partial<Record<PipelineStepType, readonly string[]>> = {
  Tuning: ['HyperParameterTuningJobConfig'],
  Model: ['ExecutionRoleArn'],
};

/** Problems of `value` against `shape`, each as "<path> <what is wrong>". */
export function shapeProblems(
  value: PipelineValue | undefined,
  shape: ArgumentShape,
  path: string,
): string[] {
  if (shape === true || value === undefined || value instanceof PipelineExpression) {
    return [];
  }
  if (Array.isArray(shape)) {
    return Array.isArray(value)
      ? value.flatMap((item, i) => shapeProblems(item, shape[0], `${path}[${i}]`))
      : [`${path} is not a list`];
  }
  if (Array.isArray(value) || typeof value !== 'object' || value === null) {
    return [`${path} is not an object`];
  }
  const objectShape = shape as { readonly [key: string]: ArgumentShape };
  return Object.entries(value).flatMap(([key, item]) => {
    const inner = objectShape[key];
    if (inner === undefined) {
      return objectShape['*']
        ? []
        : [
            `${path}.${key} is not allowed by the pipeline definition schema (allowed: ${Object.keys(
              objectShape,
            )
              .filter((k) => k !== '*')
              .join(', ')})`,
          ];
    }
    return shapeProblems(item, inner, `${path}.${key}`);
  });
}

/** The type the schema gives a literal leaf of the Arguments: a number, a flag or one of some words. */
export type LeafType = 'Integer' | 'Float' | 'Boolean' | readonly string[];

const SCALING_TYPES = ['Auto', 'Linear', 'Logarithmic', 'ReverseLogarithmic'] as const;
const OBJECTIVE_TYPES = ['Maximize', 'Minimize'] as const;
const TUNING_DEFINITION_LEAVES = (prefix: string): Record<string, LeafType> => ({
  [`${prefix}.AlgorithmSpecification.EnableSageMakerMetricsTimeSeries`]: 'Boolean',
  [`${prefix}.EnableInterContainerTrafficEncryption`]: 'Boolean',
  [`${prefix}.EnableManagedSpotTraining`]: 'Boolean',
  [`${prefix}.EnableNetworkIsolation`]: 'Boolean',
  [`${prefix}.HyperParameterRanges.IntegerParameterRanges[].ScalingType`]: SCALING_TYPES,
  [`${prefix}.HyperParameterRanges.ContinuousParameterRanges[].ScalingType`]: SCALING_TYPES,
  [`${prefix}.InputDataConfig[].ShuffleConfig.Seed`]: 'Integer',
  [`${prefix}.ResourceConfig.InstanceCount`]: 'Integer',
  [`${prefix}.ResourceConfig.VolumeSizeInGB`]: 'Integer',
  [`${prefix}.RetryStrategy.MaximumRetryAttempts`]: 'Integer',
  [`${prefix}.StoppingCondition.MaxRuntimeInSeconds`]: 'Integer',
  [`${prefix}.StoppingCondition.MaxWaitTimeInSeconds`]: 'Integer',
  [`${prefix}.TuningObjective.Type`]: OBJECTIVE_TYPES,
});
const CONTAINER_LEAVES = (prefix: string): Record<string, LeafType> => ({
  [`${prefix}.ImageConfig.RepositoryAccessMode`]: ['Platform', 'Vpc'],
  [`${prefix}.Mode`]: ['SingleModel', 'MultiModel'],
  [`${prefix}.MultiModelConfig.ModelCacheSetting`]: ['Enabled', 'Disabled'],
});

/**
 * Literal leaves the schema types as something other than a string, by path (`[]` for any list
 * index), per step type. Every other literal leaf must be a string: the schema's
 * `StringArgumentValue` (e.g. every hyperparameter value and environment variable).
 */
export const STEP_ARGUMENT_LEAF_TYPES: Partial<Record<PipelineStepType, Record<string, LeafType>>> = {
  Processing: {
    'NetworkConfig.EnableInterContainerTrafficEncryption': 'Boolean',
    'NetworkConfig.EnableNetworkIsolation': 'Boolean',
    'ProcessingResources.ClusterConfig.InstanceCount': 'Integer',
    'ProcessingResources.ClusterConfig.VolumeSizeInGB': 'Integer',
    'StoppingCondition.MaxRuntimeInSeconds': 'Integer',
  },
  Training: {
    'AlgorithmSpecification.EnableSageMakerMetricsTimeSeries': 'Boolean',
    'DebugRuleConfigurations[].VolumeSizeInGB': 'Integer',
    EnableInterContainerTrafficEncryption: 'Boolean',
    EnableManagedSpotTraining: 'Boolean',
    EnableNetworkIsolation: 'Boolean',
    'InputDataConfig[].ShuffleConfig.Seed': 'Integer',
    'ResourceConfig.InstanceCount': 'Integer',
    'ResourceConfig.VolumeSizeInGB': 'Integer',
    'StoppingCondition.MaxRuntimeInSeconds': 'Integer',
    'StoppingCondition.MaxWaitTimeInSeconds': 'Integer',
  },
  Tuning: {
    'HyperParameterTuningJobConfig.HyperParameterTuningJobObjective.Type': OBJECTIVE_TYPES,
    'HyperParameterTuningJobConfig.ParameterRanges.IntegerParameterRanges[].ScalingType': SCALING_TYPES,
    'HyperParameterTuningJobConfig.ParameterRanges.ContinuousParameterRanges[].ScalingType': SCALING_TYPES,
    'HyperParameterTuningJobConfig.ResourceLimits.MaxNumberOfTrainingJobs': 'Integer',
    'HyperParameterTuningJobConfig.ResourceLimits.MaxParallelTrainingJobs': 'Integer',
    'HyperParameterTuningJobConfig.Strategy': ['Bayesian', 'Random'],
    'HyperParameterTuningJobConfig.TrainingJobEarlyStoppingType': ['Off', 'Auto'],
    'HyperParameterTuningJobConfig.TuningJobCompletionCriteria.TargetObjectiveMetricValue': 'Float',
    'WarmStartConfig.WarmStartType': ['IdenticalDataAndAlgorithm', 'TransferLearning'],
    ...TUNING_DEFINITION_LEAVES('TrainingJobDefinition'),
    ...TUNING_DEFINITION_LEAVES('TrainingJobDefinitions[]'),
  },
  Model: {
    EnableNetworkIsolation: 'Boolean',
    'InferenceExecutionConfig.Mode': ['Serial', 'Direct'],
    ...CONTAINER_LEAVES('PrimaryContainer'),
    ...CONTAINER_LEAVES('Containers[]'),
  },
  RegisterModel: {
    CertifyForMarketplace: 'Boolean',
    'ModelMetrics.DeploymentSpecification.HealthCheckConfig.NumPayloads': 'Integer',
    'ModelMetrics.DeploymentSpecification.HealthCheckConfig.NumFailuresAllowed': 'Integer',
  },
};

/**
 * Problems of the literal leaves of `value` against the schema's types: numbers, flags and words
 * where the schema asks for them, strings everywhere else. Expressions are left to run time, as the
 * schema leaves them.
 */
export function leafProblems(
  value: PipelineValue | undefined,
  types: Record<string, LeafType>,
  path: string,
  key: string = '',
): string[] {
  if (value === undefined || value instanceof PipelineExpression) {
    return [];
  }
  if (Array.isArray(value)) {
    return value.flatMap((item, i) => leafProblems(item, types, `${path}[${i}]`, `${key}[]`));
  }
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([k, item]) =>
      leafProblems(item, types, `${path}.${k}`, key ? `${key}.${k}` : k),
    );
  }
  const expected: LeafType | 'String' = key in types ? types[key] : 'String';
  const ok =
    expected === 'String'
      ? typeof value === 'string'
      : expected === 'Integer'
        ? typeof value === 'number' && Number.isInteger(value)
        : expected === 'Float'
          ? typeof value === 'number'
          : expected === 'Boolean'
            ? typeof value === 'boolean'
            : typeof value === 'string' && (expected as readonly string[]).includes(value);
  if (ok) {
    return [];
  }
  const wanted =
    typeof expected === 'string'
      ? `${expected === 'Integer' ? 'an' : 'a'} ${expected}`
      : `one of ${expected.join(', ')}`;
  return [`${path} is ${JSON.stringify(value)} but the pipeline definition schema wants ${wanted}`];
}
