import { MlopsValidationError } from '../../private/errors';
import {
  Join,
  JsonGet,
  PipelineExpression,
  ParameterReference,
  PipelineObject,
  PipelineValue,
  PipelineValueType,
  StepPropertyReference,
  renderValue,
} from './expressions';

/** A pipeline parameter: its name, type and default. */
export class PipelineParameter {
  public static string(name: string, defaultValue?: string): PipelineParameter {
    return new PipelineParameter(name, 'String', defaultValue);
  }
  public static integer(name: string, defaultValue?: number): PipelineParameter {
    return new PipelineParameter(name, 'Integer', defaultValue);
  }
  public static float(name: string, defaultValue?: number): PipelineParameter {
    return new PipelineParameter(name, 'Float', defaultValue);
  }
  public static boolean(name: string, defaultValue?: boolean): PipelineParameter {
    return new PipelineParameter(name, 'Boolean', defaultValue);
  }

  private constructor(
    public readonly name: string,
    public readonly type: Exclude<PipelineValueType, 'Unknown'>,
    public readonly defaultValue?: string | number | boolean,
  ) {}

  /** The parameter's value at run time. */
  public get ref(): ParameterReference {
    return new ParameterReference(this.name, this.type);
  }

  public render(): unknown {
    return {
      Name: this.name,
      Type: this.type,
      ...(this.defaultValue !== undefined ? { DefaultValue: this.defaultValue } : {}),
    };
  }
}

/** The step types this model renders, as the definition names them. */
export type PipelineStepType =
  'Processing' | 'Training' | 'Tuning' | 'Model' | 'Condition' | 'RegisterModel' | 'Fail' | 'Lambda';

/**
 * The properties a step exposes, by first path segment, as SageMaker documents them for each step
 * type (the Describe* response of the job the step runs). A reference to any other root is a
 * mistake that would only fail at run time.
 */
export const STEP_PROPERTY_ROOTS: Record<PipelineStepType, readonly string[]> = {
  Processing: [
    'ProcessingJobName',
    'ProcessingJobArn',
    'ProcessingJobStatus',
    'ProcessingOutputConfig',
    'ProcessingInputs',
    'ExitMessage',
  ],
  Training: [
    'TrainingJobName',
    'TrainingJobArn',
    'TrainingJobStatus',
    'ModelArtifacts',
    'FinalMetricDataList',
    'HyperParameters',
    'OutputDataConfig',
  ],
  // DescribeHyperParameterTuningJob, plus the job summaries SageMaker lists for the tuning job.
  Tuning: [
    'HyperParameterTuningJobName',
    'HyperParameterTuningJobArn',
    'HyperParameterTuningJobStatus',
    'HyperParameterTuningJobConfig',
    'TrainingJobDefinition',
    'TrainingJobDefinitions',
    'TrainingJobStatusCounters',
    'ObjectiveStatusCounters',
    'BestTrainingJob',
    'OverallBestTrainingJob',
    'TrainingJobSummaries',
  ],
  Model: ['ModelName', 'ModelArn', 'PrimaryContainer', 'Containers', 'ExecutionRoleArn'],
  Condition: ['Outcome'],
  RegisterModel: ['ModelPackageArn', 'ModelPackageName', 'ModelPackageVersion', 'ModelApprovalStatus'],
  Fail: [],
  // What the function returned, by the names of the step's OutputParameters.
  Lambda: ['OutputParameters'],
};

/** Common options of every step. */
export interface PipelineStepOptions {
  /** Steps that must finish first, beyond those this step's values already refer to. */
  readonly dependsOn?: PipelineStep[];
  /** A display name. */
  readonly displayName?: string;
  /** A description. */
  readonly description?: string;
}

/** A step of a pipeline definition. */
export abstract class PipelineStep {
  public abstract readonly type: PipelineStepType;

  protected constructor(
    public readonly name: string,
    protected readonly options: PipelineStepOptions = {},
  ) {}

  /** A property of this step's job, e.g. `ModelArtifacts.S3ModelArtifacts`, for later steps. */
  public property(path: string, valueType: PipelineValueType = 'Unknown'): StepPropertyReference {
    return new StepPropertyReference(this.name, path, valueType);
  }

  /** The step's Arguments, as a value tree that may hold expressions. */
  public abstract arguments(): PipelineValue;

  /** Steps nested in this one (a condition's branches). */
  public children(): PipelineStep[] {
    return [];
  }

  /** Property files this step declares. */
  public propertyFileNames(): string[] {
    return [];
  }

  /** Names of the steps this one explicitly depends on. */
  public get dependsOn(): string[] {
    return (this.options.dependsOn ?? []).map((s) => s.name);
  }

  /** The step as definition JSON (PascalCase keys). */
  public render(): Record<string, unknown> {
    return {
      Name: this.name,
      Type: this.type,
      ...(this.options.displayName ? { DisplayName: this.options.displayName } : {}),
      ...(this.options.description ? { Description: this.options.description } : {}),
      ...(this.dependsOn.length > 0 ? { DependsOn: this.dependsOn } : {}),
      Arguments: renderValue(this.arguments()),
      ...this.extraFields(),
    };
  }

  protected extraFields(): Record<string, unknown> {
    return {};
  }
}

/** Props of a step whose arguments are a SageMaker API request. */
export interface RequestStepProps extends PipelineStepOptions {
  /** The request (PascalCase) of the API the step calls; values may be expressions. */
  readonly arguments: PipelineObject;
}

/**
 * A step whose Arguments are the request of the SageMaker API it calls (CreateProcessingJob,
 * CreateTrainingJob, ...), checked against the schema's shape for its type by the definition.
 */
export abstract class RequestStep extends PipelineStep {
  protected constructor(
    name: string,
    protected readonly props: RequestStepProps,
  ) {
    super(name, props);
  }
  public arguments(): PipelineValue {
    return this.props.arguments;
  }
}

/** A JSON file a processing step writes to one of its outputs, readable with JsonGet. */
export interface PropertyFile {
  /** The name JsonGet refers to. */
  readonly name: string;
  /** The processing output that holds the file. */
  readonly outputName: string;
  /** The file's path within that output. */
  readonly path: string;
}

/** Props of a ProcessingStep: the CreateProcessingJob request. */
export interface ProcessingStepProps extends RequestStepProps {
  /** JSON files the step writes, for JsonGet. */
  readonly propertyFiles?: PropertyFile[];
}

/** A processing job step (e.g. preprocess, evaluate). */
export class ProcessingStep extends RequestStep {
  public readonly type = 'Processing' as const;
  private readonly propertyFiles: PropertyFile[];

  constructor(name: string, props: ProcessingStepProps) {
    super(name, props);
    this.propertyFiles = props.propertyFiles ?? [];
  }

  public override propertyFileNames(): string[] {
    return this.propertyFiles.map((f) => f.name);
  }

  /** A value read from one of this step's property files. */
  public jsonGet(propertyFile: string, path: string, valueType: PipelineValueType = 'Float'): JsonGet {
    return new JsonGet(this.name, propertyFile, path, valueType);
  }

  protected override extraFields(): Record<string, unknown> {
    const files = this.propertyFiles;
    return files.length === 0
      ? {}
      : {
          PropertyFiles: files.map((f) => ({
            PropertyFileName: f.name,
            OutputName: f.outputName,
            FilePath: f.path,
          })),
        };
  }
}

/** Props of a TrainingStep: the CreateTrainingJob request. */
export type TrainingStepProps = RequestStepProps;

/** A training job step. */
export class TrainingStep extends RequestStep {
  public readonly type = 'Training' as const;
  constructor(name: string, props: TrainingStepProps) {
    super(name, props);
  }
  /** The S3 URI of the trained model artifacts. */
  public get modelArtifacts(): StepPropertyReference {
    return this.property('ModelArtifacts.S3ModelArtifacts', 'String');
  }
}

/** Props of a TuningStep: the CreateHyperParameterTuningJob request. */
export type TuningStepProps = RequestStepProps;

/** A hyperparameter tuning job step. */
export class TuningStep extends RequestStep {
  public readonly type = 'Tuning' as const;
  constructor(name: string, props: TuningStepProps) {
    super(name, props);
  }
  /**
   * The S3 URI of the model of the `rank`-th best training job (0: the best), under the tuning
   * job's `OutputDataConfig.S3OutputPath` given as `outputPath`.
   */
  public topModelS3Uri(rank: number, outputPath: string | PipelineExpression): Join {
    if (!Number.isInteger(rank) || rank < 0) {
      throw new MlopsValidationError(`Tuning step '${this.name}'`, [
        `topModelS3Uri rank ${rank} is invalid: use a whole number from 0 (the best model)`,
      ]);
    }
    return new Join('/', [
      outputPath,
      this.property(`TrainingJobSummaries[${rank}].TrainingJobName`, 'String'),
      'output/model.tar.gz',
    ]);
  }
}

/** Props of a ModelStep: the CreateModel request. */
export type ModelStepProps = RequestStepProps;

/** Creates a SageMaker model, e.g. for a batch transform in the pipeline. */
export class ModelStep extends RequestStep {
  public readonly type = 'Model' as const;
  constructor(name: string, props: ModelStepProps) {
    super(name, props);
  }
  /** The created model's name. */
  public get modelName(): StepPropertyReference {
    return this.property('ModelName', 'String');
  }
}

/** Props of a RegisterModelStep: the CreateModelPackage request. */
export type RegisterModelStepProps = RequestStepProps;

/** Registers a model package version in a model package group. */
export class RegisterModelStep extends RequestStep {
  public readonly type = 'RegisterModel' as const;
  constructor(name: string, props: RegisterModelStepProps) {
    super(name, props);
  }
}

/** Stops the execution with an error message. */
export class FailStep extends PipelineStep {
  public readonly type = 'Fail' as const;
  constructor(
    name: string,
    private readonly errorMessage: string | PipelineValue,
    options: PipelineStepOptions = {},
  ) {
    super(name, options);
  }
  public arguments(): PipelineValue {
    return { ErrorMessage: this.errorMessage };
  }
}

/** The comparisons a condition step supports. */
export type ComparisonType =
  'Equals' | 'NotEquals' | 'GreaterThan' | 'GreaterThanOrEqualTo' | 'LessThan' | 'LessThanOrEqualTo';

/** One comparison of a condition step. */
export interface PipelineCondition {
  readonly type: ComparisonType;
  readonly left: PipelineValue;
  readonly right: PipelineValue;
}

/** Props of a ConditionStep. */
export interface ConditionStepProps extends PipelineStepOptions {
  /** All must hold for the if-branch. */
  readonly conditions: PipelineCondition[];
  /** Steps run when the conditions hold. */
  readonly ifSteps: PipelineStep[];
  /** Steps run otherwise. */
  readonly elseSteps?: PipelineStep[];
}

/** Branches on comparisons, e.g. "RMSE below the threshold". */
export class ConditionStep extends PipelineStep {
  public readonly type = 'Condition' as const;
  constructor(
    name: string,
    public readonly props: ConditionStepProps,
  ) {
    super(name, props);
  }
  public arguments(): PipelineValue {
    return {
      Conditions: this.props.conditions.map((c) => ({
        Type: c.type,
        LeftValue: c.left,
        RightValue: c.right,
      })),
    };
  }
  public override children(): PipelineStep[] {
    return [...this.props.ifSteps, ...(this.props.elseSteps ?? [])];
  }
  public override render(): Record<string, unknown> {
    const base = super.render();
    return {
      ...base,
      Arguments: {
        ...(base.Arguments as object),
        IfSteps: this.props.ifSteps.map((s) => s.render()),
        ElseSteps: (this.props.elseSteps ?? []).map((s) => s.render()),
      },
    };
  }
}

/** The types a Lambda step's output parameter may have, as the schema names them. */
export type LambdaOutputType = Exclude<PipelineValueType, 'Unknown'>;

/** One value a Lambda step's function returns, for later steps. */
export interface LambdaOutputParameter {
  /** The key of the function's returned JSON object. */
  readonly name: string;
  /** Its type. */
  readonly type: LambdaOutputType;
}

/** Props of a LambdaStep. */
export interface LambdaStepProps extends PipelineStepOptions {
  /** The function SageMaker invokes (the pipeline's role needs `lambda:InvokeFunction` on it). */
  readonly functionArn: string;
  /**
   * The event the function receives: this object, with its expressions evaluated.
   *
   * @default - an empty object
   */
  readonly arguments?: PipelineObject;
  /**
   * The keys of the function's returned object that later steps read (`outputParameter`).
   *
   * @default - none
   */
  readonly outputParameters?: LambdaOutputParameter[];
}

const LAMBDA_OUTPUT_TYPES: readonly LambdaOutputType[] = ['String', 'Integer', 'Float', 'Boolean'];
const LAMBDA_OUTPUT_PROPERTY = /^OutputParameters\['([^']+)'\]$/;

/**
 * Invokes a Lambda function synchronously with the step's Arguments as the event; the function's
 * returned JSON object gives the step's output parameters. SageMaker stops waiting after ten
 * minutes, so the function's timeout should be at most that.
 */
export class LambdaStep extends PipelineStep {
  public readonly type = 'Lambda' as const;
  public readonly functionArn: string;
  public readonly outputParameters: readonly LambdaOutputParameter[];
  private readonly stepArguments: PipelineObject;

  constructor(name: string, props: LambdaStepProps) {
    super(name, props);
    this.functionArn = props.functionArn;
    this.outputParameters = props.outputParameters ?? [];
    this.stepArguments = props.arguments ?? {};
    const problems: string[] = [];
    if (typeof props.functionArn !== 'string' || props.functionArn === '') {
      problems.push(
        `functionArn ${JSON.stringify(props.functionArn)} is invalid: give the ARN of the function to invoke`,
      );
    }
    const seen = new Set<string>();
    for (const output of this.outputParameters) {
      if (typeof output.name !== 'string' || output.name === '' || output.name.includes("'")) {
        problems.push(
          `outputParameters name ${JSON.stringify(output.name)} is invalid: give the non-empty key (without quotes) the function returns`,
        );
      } else if (seen.has(output.name)) {
        problems.push(`outputParameters name '${output.name}' is given twice: output names must be unique`);
      }
      seen.add(output.name);
      if (!LAMBDA_OUTPUT_TYPES.includes(output.type)) {
        problems.push(
          `outputParameters '${output.name}' type ${JSON.stringify(output.type)} is invalid: use one of ${LAMBDA_OUTPUT_TYPES.join(', ')}`,
        );
      }
    }
    if (problems.length > 0) {
      throw new MlopsValidationError(`Lambda step '${name}'`, problems);
    }
  }

  public arguments(): PipelineValue {
    return this.stepArguments;
  }

  /** `Steps.<name>.OutputParameters['<output>']`, typed as the output is declared. */
  public outputParameter(output: string): StepPropertyReference {
    const declared = this.outputParameters.find((o) => o.name === output);
    if (!declared) {
      throw new MlopsValidationError(`Lambda step '${this.name}'`, [
        `outputParameter '${output}' is not declared: declare it in outputParameters ` +
          `(declared: ${this.outputParameters.map((o) => o.name).join(', ') || 'none'})`,
      ]);
    }
    return this.property(`OutputParameters['${output}']`, declared.type);
  }

  /**
   * Why a property reference to this step does not name a declared output, or undefined when it
   * does.
   */
  public outputReferenceProblem(property: string): string | undefined {
    const match = LAMBDA_OUTPUT_PROPERTY.exec(property);
    const names = this.outputParameters.map((o) => o.name);
    if (match && names.includes(match[1])) {
      return undefined;
    }
    return (
      `property '${property}' is not one of its outputs: refer to OutputParameters['<name>'] of ` +
      `${names.length ? names.map((n) => `'${n}'`).join(', ') : 'no declared output'}`
    );
  }

  protected override extraFields(): Record<string, unknown> {
    return {
      FunctionArn: this.functionArn,
      ...(this.outputParameters.length > 0
        ? {
            OutputParameters: this.outputParameters.map((o) => ({ OutputName: o.name, OutputType: o.type })),
          }
        : {}),
    };
  }
}
