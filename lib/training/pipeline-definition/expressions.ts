/**
 * Values of a SageMaker pipeline definition: literals, or expressions that SageMaker evaluates at
 * run time (parameter and step property references, JsonGet over a step's property file, Join).
 */

/** The run-time type of a value, for checking comparisons and parameter use at synth. */
export type PipelineValueType = 'String' | 'Integer' | 'Float' | 'Boolean' | 'Unknown';

/** What an expression refers to, so the definition can check that it exists. */
export type PipelineReference =
  | { readonly kind: 'parameter'; readonly name: string }
  | { readonly kind: 'step'; readonly step: string; readonly property: string }
  | { readonly kind: 'propertyFile'; readonly step: string; readonly propertyFile: string };

/** A value SageMaker computes when the pipeline runs. */
export abstract class PipelineExpression {
  /** The expression as it appears in the definition JSON. */
  public abstract render(): unknown;
  /** What it refers to. */
  public abstract references(): PipelineReference[];
  /** Its type, where known. */
  public abstract readonly valueType: PipelineValueType;
}

/**
 * A literal or an expression. Objects and arrays may nest either.
 *
 * An object's value may be `undefined`, so that optional fields can be written as
 * `{ KmsKeyId: key }` or `{ ...(key ? { KmsKeyId: key } : {}) }`: the key is left out of the
 * rendered definition, as JSON.stringify does. Lists, and values the schema needs (a condition's
 * operands, a whole step's arguments), cannot be undefined.
 */
export type PipelineValue = string | number | boolean | PipelineExpression | PipelineValue[] | PipelineObject;

/** An object of a pipeline definition; keys whose value is undefined are not rendered. */
export interface PipelineObject {
  [key: string]: PipelineValue | undefined;
}

/** `{"Get": "Parameters.Name"}` */
export class ParameterReference extends PipelineExpression {
  constructor(
    public readonly name: string,
    public readonly valueType: PipelineValueType,
  ) {
    super();
  }
  public render(): unknown {
    return { Get: `Parameters.${this.name}` };
  }
  public references(): PipelineReference[] {
    return [{ kind: 'parameter', name: this.name }];
  }
}

/** `{"Get": "Steps.Name.Property.Path"}` */
export class StepPropertyReference extends PipelineExpression {
  constructor(
    public readonly step: string,
    public readonly property: string,
    public readonly valueType: PipelineValueType = 'Unknown',
  ) {
    super();
  }
  public render(): unknown {
    return { Get: `Steps.${this.step}.${this.property}` };
  }
  public references(): PipelineReference[] {
    return [{ kind: 'step', step: this.step, property: this.property }];
  }
}

/**
 * `{"Get": "Execution.PipelineExecutionId"}`: a property of the running execution, e.g. to give
 * each execution its own output prefix or MLflow run.
 */
export class ExecutionVariable extends PipelineExpression {
  /** The execution's id, the last segment of its ARN. */
  public static readonly PIPELINE_EXECUTION_ID = new ExecutionVariable('PipelineExecutionId');
  /** The execution's ARN. */
  public static readonly PIPELINE_EXECUTION_ARN = new ExecutionVariable('PipelineExecutionArn');
  /** The pipeline's name. */
  public static readonly PIPELINE_NAME = new ExecutionVariable('PipelineName');
  /** The pipeline's ARN. */
  public static readonly PIPELINE_ARN = new ExecutionVariable('PipelineArn');
  /** When the execution started. */
  public static readonly START_DATETIME = new ExecutionVariable('StartDateTime');
  /** The run's current date and time. */
  public static readonly CURRENT_DATETIME = new ExecutionVariable('CurrentDateTime');

  public readonly valueType: PipelineValueType = 'String';
  private constructor(public readonly name: string) {
    super();
  }
  public render(): unknown {
    return { Get: `Execution.${this.name}` };
  }
  public references(): PipelineReference[] {
    return [];
  }
}

/**
 * `{"Std:JsonGet": {"PropertyFile": {"Get": "Steps.S.PropertyFiles.F"}, "Path": "a.b"}}`: a value
 * read from a JSON file that a processing step declared as a property file (e.g. the evaluation
 * report's RMSE).
 */
export class JsonGet extends PipelineExpression {
  constructor(
    public readonly step: string,
    public readonly propertyFile: string,
    public readonly path: string,
    public readonly valueType: PipelineValueType = 'Float',
  ) {
    super();
  }
  public render(): unknown {
    return {
      'Std:JsonGet': {
        PropertyFile: { Get: `Steps.${this.step}.PropertyFiles.${this.propertyFile}` },
        Path: this.path,
      },
    };
  }
  public references(): PipelineReference[] {
    return [{ kind: 'propertyFile', step: this.step, propertyFile: this.propertyFile }];
  }
}

/** `{"Std:Join": {"On": "/", "Values": [...]}}`: a string built at run time. */
export class Join extends PipelineExpression {
  public readonly valueType: PipelineValueType = 'String';
  constructor(
    public readonly on: string,
    public readonly values: Array<string | number | PipelineExpression>,
  ) {
    super();
  }
  public render(): unknown {
    return { 'Std:Join': { On: this.on, Values: this.values.map(renderValue) } };
  }
  public references(): PipelineReference[] {
    return this.values.flatMap((v) => (v instanceof PipelineExpression ? v.references() : []));
  }
}

/** Renders a value tree, expressions included, into definition JSON. */
export function renderValue(value: PipelineValue | undefined): unknown {
  if (value instanceof PipelineExpression) {
    return value.render();
  }
  if (Array.isArray(value)) {
    return value.map(renderValue);
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, renderValue(v)]),
    );
  }
  return value;
}

/** Every reference inside a value tree. */
export function referencesIn(value: PipelineValue | undefined): PipelineReference[] {
  if (value instanceof PipelineExpression) {
    return value.references();
  }
  if (Array.isArray(value)) {
    return value.flatMap(referencesIn);
  }
  if (value !== null && typeof value === 'object') {
    return Object.values(value).flatMap(referencesIn);
  }
  return [];
}

/** The type of a literal or expression. */
export function valueTypeOf(value: PipelineValue): PipelineValueType {
  if (value instanceof PipelineExpression) {
    return value.valueType;
  }
  if (typeof value === 'string') {
    return 'String';
  }
  if (typeof value === 'boolean') {
    return 'Boolean';
  }
  if (typeof value === 'number') {
    return Number.isInteger(value) ? 'Integer' : 'Float';
  }
  return 'Unknown';
}
