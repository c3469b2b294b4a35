import { PipelineExpression, PipelineValue } from './expressions';
import { PipelineStepType } from './steps';

/** A leaf value that must be one of some words (the schema's `enum`). */
export class SchemaEnum {
  public readonly words: readonly string[];
  constructor(...words: string[]) {
    this.words = words;
  }
}

/**
 * What the schema accepts at a leaf of the Arguments, for literal values (expressions are left to
 * run time, as the schema leaves them):
 * - `'String'`: strings (the schema's `StringArgumentValue`), also as the items of lists and the
 *   values of maps (environment variables, hyperparameters);
 * - `'Integer'`, `'Float'`, `'Boolean'`: a number, a whole number, a flag;
 * - a `SchemaEnum`: one of its words;
 * - `'Any'`: not checked.
 */
export type LeafType = 'String' | 'Integer' | 'Float' | 'Boolean' | 'Any' | SchemaEnum;

/**
 * What AWS's published pipeline definition schema (version 2020-12-01) allows in each step type's
 * Arguments, transcribed into this project's own table: an object shape lists its keys (the key
 * `'*'` gives the shape of keys the schema leaves open), a one-element array is a list of that
 * shape, and a leaf type says which literals fit.
 *
 * Only the step types this model renders are listed. Keys that the service accepts but the schema
 * does not (e.g. `ModelApprovalStatus` in RegisterModel, `AppManaged` in processing inputs) are
 * rejected here too, so that every definition this model renders passes the schema.
 */
export type ArgumentShape = LeafType | readonly [ArgumentShape] | { readonly [key: string]: ArgumentShape };

const S3_CONTENT = { ContentDigest: 'String', ContentType: 'String', S3Uri: 'String' } as const;
const TAGS = [{ Key: 'String', Value: 'String' }] as const;
const VPC = { SecurityGroupIds: 'String', Subnets: 'String' } as const;
const SCALING_TYPE = new SchemaEnum('Auto', 'Linear', 'Logarithmic', 'ReverseLogarithmic');
const OBJECTIVE = { MetricName: 'String', Type: new SchemaEnum('Maximize', 'Minimize') } as const;
const RANGE = { MaxValue: 'String', MinValue: 'String', Name: 'String', ScalingType: SCALING_TYPE } as const;
const PARAMETER_RANGES = {
  CategoricalParameterRanges: [{ Name: 'String', Values: 'String' }],
  ContinuousParameterRanges: [RANGE],
  IntegerParameterRanges: [RANGE],
} as const;
const ALGORITHM = {
  AlgorithmName: 'String',
  EnableSageMakerMetricsTimeSeries: 'Boolean',
  MetricDefinitions: [{ Name: 'String', Regex: 'String' }],
  TrainingImage: 'String',
  TrainingInputMode: 'String',
} as const;
const INPUT_DATA_CONFIG = [
  {
    '*': 'String',
    ChannelName: 'String',
    CompressionType: 'String',
    ContentType: 'String',
    DataSource: {
      '*': 'String',
      S3DataSource: {
        AttributeNames: 'String',
        S3DataDistributionType: 'String',
        S3DataType: 'String',
        S3Uri: 'String',
      },
    },
    InputMode: 'String',
    RecordWrapperType: 'String',
    ShuffleConfig: { Seed: 'Integer' },
  },
] as const;
const OUTPUT_DATA_CONFIG = { KmsKeyId: 'String', S3OutputPath: 'String' } as const;
const RESOURCE_CONFIG = {
  InstanceCount: 'Integer',
  InstanceType: 'String',
  VolumeKmsKeyId: 'String',
  VolumeSizeInGB: 'Integer',
} as const;
const STOPPING_CONDITION = { MaxRuntimeInSeconds: 'Integer', MaxWaitTimeInSeconds: 'Integer' } as const;
const TUNING_TRAINING_JOB_DEFINITION = {
  AlgorithmSpecification: ALGORITHM,
  CheckpointConfig: { LocalPath: 'String', S3Uri: 'String' },
  DefinitionName: 'String',
  EnableInterContainerTrafficEncryption: 'Boolean',
  EnableManagedSpotTraining: 'Boolean',
  EnableNetworkIsolation: 'Boolean',
  HyperParameterRanges: PARAMETER_RANGES,
  InputDataConfig: INPUT_DATA_CONFIG,
  OutputDataConfig: OUTPUT_DATA_CONFIG,
  ResourceConfig: RESOURCE_CONFIG,
  RetryStrategy: { MaximumRetryAttempts: 'Integer' },
  RoleArn: 'String',
  StaticHyperParameters: 'String',
  StoppingCondition: STOPPING_CONDITION,
  TuningObjective: OBJECTIVE,
  VpcConfig: VPC,
} as const;
const CONTAINER = {
  ContainerHostname: 'String',
  Environment: 'String',
  Image: 'String',
  ImageConfig: {
    RepositoryAccessMode: new SchemaEnum('Platform', 'Vpc'),
    RepositoryAuthConfig: { RepositoryCredentialsProviderArn: 'String' },
  },
  InferenceSpecificationName: 'String',
  Mode: new SchemaEnum('SingleModel', 'MultiModel'),
  ModelDataUrl: 'String',
  ModelPackageName: 'String',
  MultiModelConfig: { ModelCacheSetting: new SchemaEnum('Enabled', 'Disabled') },
} as const;

export const STEP_ARGUMENT_SHAPES: Record<PipelineStepType, ArgumentShape> = {
  Processing: {
    AppSpecification: { ContainerArguments: 'String', ContainerEntrypoint: 'String', ImageUri: 'String' },
    Environment: 'String',
    NetworkConfig: {
      EnableInterContainerTrafficEncryption: 'Boolean',
      EnableNetworkIsolation: 'Boolean',
      VpcConfig: VPC,
    },
    ProcessingInputs: [
      {
        InputName: 'String',
        S3Input: {
          LocalPath: 'String',
          S3CompressionType: 'String',
          S3DataDistributionType: 'String',
          S3DataType: 'String',
          S3InputMode: 'String',
          S3Uri: 'String',
        },
      },
    ],
    ProcessingJobName: 'String',
    ProcessingOutputConfig: {
      KmsKeyId: 'String',
      Outputs: [
        { OutputName: 'String', S3Output: { LocalPath: 'String', S3UploadMode: 'String', S3Uri: 'String' } },
      ],
    },
    ProcessingResources: { ClusterConfig: RESOURCE_CONFIG },
    RoleArn: 'String',
    StoppingCondition: { MaxRuntimeInSeconds: 'Integer' },
    Tags: TAGS,
  },
  Training: {
    AlgorithmSpecification: ALGORITHM,
    CheckpointConfig: { LocalPath: 'String', S3Uri: 'String' },
    DebugHookConfig: 'String',
    DebugRuleConfigurations: [{ '*': 'String', VolumeSizeInGB: 'Integer' }],
    EnableInterContainerTrafficEncryption: 'Boolean',
    EnableManagedSpotTraining: 'Boolean',
    EnableNetworkIsolation: 'Boolean',
    HyperParameters: 'String',
    InputDataConfig: INPUT_DATA_CONFIG,
    OutputDataConfig: OUTPUT_DATA_CONFIG,
    ResourceConfig: RESOURCE_CONFIG,
    RoleArn: 'String',
    StoppingCondition: STOPPING_CONDITION,
    Tags: TAGS,
    TensorBoardOutputConfig: { LocalPath: 'String', S3OutputPath: 'String' },
    TrainingJobName: 'String',
    VpcConfig: VPC,
  },
  Tuning: {
    HyperParameterTuningJobConfig: {
      HyperParameterTuningJobObjective: OBJECTIVE,
      ParameterRanges: PARAMETER_RANGES,
      ResourceLimits: { MaxNumberOfTrainingJobs: 'Integer', MaxParallelTrainingJobs: 'Integer' },
      Strategy: new SchemaEnum('Bayesian', 'Random'),
      TrainingJobEarlyStoppingType: new SchemaEnum('Off', 'Auto'),
      TuningJobCompletionCriteria: { TargetObjectiveMetricValue: 'Float' },
    },
    HyperParameterTuningJobName: 'String',
    Tags: TAGS,
    TrainingJobDefinition: TUNING_TRAINING_JOB_DEFINITION,
    TrainingJobDefinitions: [TUNING_TRAINING_JOB_DEFINITION],
    WarmStartConfig: {
      ParentHyperParameterTuningJobs: [{ HyperParameterTuningJobName: 'String' }],
      WarmStartType: new SchemaEnum('IdenticalDataAndAlgorithm', 'TransferLearning'),
    },
  },
  Model: {
    Containers: [CONTAINER],
    EnableNetworkIsolation: 'Boolean',
    ExecutionRoleArn: 'String',
    InferenceExecutionConfig: { Mode: new SchemaEnum('Serial', 'Direct') },
    ModelName: 'String',
    PrimaryContainer: CONTAINER,
    Tags: TAGS,
    VpcConfig: VPC,
  },
  RegisterModel: {
    CertifyForMarketplace: 'Boolean',
    InferenceSpecification: {
      Containers: [
        {
          ContainerHostname: 'String',
          Image: 'String',
          ImageDigest: 'String',
          ModelDataUrl: 'String',
          ProductId: 'String',
        },
      ],
      SupportedContentTypes: 'String',
      SupportedRealtimeInferenceInstanceTypes: 'String',
      SupportedResponseMIMETypes: 'String',
      SupportedTransformInstanceTypes: 'String',
    },
    ModelMetrics: {
      Bias: { Report: S3_CONTENT },
      DeploymentSpecification: {
        HealthCheckConfig: { NumFailuresAllowed: 'Integer', NumPayloads: 'Integer' },
        TestInput: 'String',
      },
      Explainability: { Report: S3_CONTENT },
      ModelDataQuality: { Constraints: S3_CONTENT, Statistics: S3_CONTENT },
      ModelQuality: { Constraints: S3_CONTENT, Statistics: S3_CONTENT },
    },
    ModelPackageDescription: 'String',
    ModelPackageGroupName: 'String',
  },
  // Condition arguments are rendered by the model itself from typed props.
  Condition: 'Any',
  Fail: { '*': 'Any', ErrorMessage: 'Any' },
  // The function's event: any object (the schema says no more).
  Lambda: { '*': 'Any' },
};

/**
 * Arguments each step type must have, per the schema's `required` lists. (Condition steps always
 * render their `Conditions`.)
 */
export const STEP_REQUIRED_ARGUMENTS: Partial<Record<PipelineStepType, readonly string[]>> = {
  Tuning: ['HyperParameterTuningJobConfig'],
  Model: ['ExecutionRoleArn'],
};

const KEY_FIX = 'remove it or use the field the schema names';

/**
 * Problems of `value` against `shape`, each as "<path> <what is wrong>: <fix>": keys the schema
 * does not allow (and nothing below them), lists and objects where it wants the other, and
 * literals of the wrong type.
 */
export function shapeProblems(
  value: PipelineValue | undefined,
  shape: ArgumentShape,
  path: string,
): string[] {
  if (value === undefined || value instanceof PipelineExpression || shape === 'Any') {
    return [];
  }
  if (typeof shape === 'string' || shape instanceof SchemaEnum) {
    return leafProblems(value, shape, path);
  }
  if (Array.isArray(shape)) {
    return Array.isArray(value)
      ? value.flatMap((item, i) => shapeProblems(item, shape[0], `${path}[${i}]`))
      : [`${path} is not a list: ${KEY_FIX}`];
  }
  if (Array.isArray(value) || typeof value !== 'object' || value === null) {
    return [`${path} is not an object: ${KEY_FIX}`];
  }
  const objectShape = shape as { readonly [key: string]: ArgumentShape };
  return Object.entries(value).flatMap(([key, item]) => {
    const inner = objectShape[key] ?? objectShape['*'];
    if (inner === undefined) {
      const allowed = Object.keys(objectShape).join(', ');
      return [
        `${path}.${key} is not allowed by the pipeline definition schema (allowed: ${allowed}): ${KEY_FIX}`,
      ];
    }
    return shapeProblems(item, inner, `${path}.${key}`);
  });
}

/** Problems of literal values against a leaf type, through the lists and maps that hold them. */
function leafProblems(value: PipelineValue, type: Exclude<LeafType, 'Any'>, path: string): string[] {
  if (value instanceof PipelineExpression) {
    return [];
  }
  if (Array.isArray(value)) {
    return value.flatMap((item, i) => leafProblems(item, type, `${path}[${i}]`));
  }
  if (typeof value === 'object' && value !== null) {
    // An undefined value is not rendered, so there is nothing to check.
    return Object.entries(value).flatMap(([k, item]) =>
      item === undefined ? [] : leafProblems(item, type, `${path}.${k}`),
    );
  }
  const ok =
    type instanceof SchemaEnum
      ? typeof value === 'string' && type.words.includes(value)
      : type === 'String'
        ? typeof value === 'string'
        : type === 'Integer'
          ? typeof value === 'number' && Number.isInteger(value)
          : type === 'Float'
            ? typeof value === 'number'
            : typeof value === 'boolean';
  if (ok) {
    return [];
  }
  const wanted =
    type instanceof SchemaEnum
      ? `one of ${type.words.join(', ')}`
      : `${type === 'Integer' ? 'an' : 'a'} ${type}`;
  return [`${path} is ${JSON.stringify(value)} but the pipeline definition schema wants ${wanted}`];
}
