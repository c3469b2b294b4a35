import { Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { MlopsValidationError } from '../../lib/private/errors';
import {
  ConditionStep,
  ExecutionVariable,
  FailStep,
  LambdaStep,
  PipelineDefinition,
  PipelineParameter,
  ProcessingStep,
} from '../../lib/training/pipeline-definition';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * What AWS's published definition schema (2020-12-01, `LambdaStep`) requires of a Lambda step,
 * encoded here: Type, Name and FunctionArn required; no other top-level keys than these; output
 * parameters of OutputName and OutputType only, the type one of four words; Arguments an object.
 */
const LAMBDA_STEP_KEYS = [
  'Name',
  'Type',
  'DependsOn',
  'DisplayName',
  'Description',
  'FunctionArn',
  'CacheConfig',
  'Arguments',
  'OutputParameters',
];
const OUTPUT_TYPES = ['String', 'Integer', 'Boolean', 'Float'];
function lambdaSchemaProblems(step: Json): string[] {
  const problems: string[] = [];
  for (const key of ['Type', 'Name', 'FunctionArn']) if (!(key in step)) problems.push(`lacks ${key}`);
  if (step.Type !== 'Lambda') problems.push('Type');
  if (!/^[A-Za-z0-9\-_]{1,64}$/.test(String(step.Name))) problems.push('Name');
  for (const key of Object.keys(step)) if (!LAMBDA_STEP_KEYS.includes(key)) problems.push(`key ${key}`);
  if (typeof step.FunctionArn !== 'string') problems.push('FunctionArn');
  if (step.Arguments !== undefined && (typeof step.Arguments !== 'object' || Array.isArray(step.Arguments)))
    problems.push('Arguments');
  for (const output of step.OutputParameters ?? []) {
    for (const key of Object.keys(output))
      if (!['OutputName', 'OutputType'].includes(key)) problems.push(`output key ${key}`);
    if (!OUTPUT_TYPES.includes(output.OutputType)) problems.push(`output type ${output.OutputType}`);
  }
  return problems;
}

const FUNCTION_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:production-data';

function assemble() {
  return new LambdaStep('AssembleData', {
    functionArn: FUNCTION_ARN,
    description: 'Joins captured requests with their labels',
    arguments: {
      WindowStart: PipelineParameter.string('DataWindowStart', '').ref,
      ExecutionId: ExecutionVariable.PIPELINE_EXECUTION_ID,
      Label: 'duration',
    },
    outputParameters: [
      { name: 'ProductionDataUrl', type: 'String' },
      { name: 'JoinedRows', type: 'Integer' },
    ],
  });
}

function preprocessReading(step: LambdaStep) {
  return new ProcessingStep('Preprocess', {
    arguments: {
      ProcessingInputs: [
        {
          InputName: 'production',
          S3Input: { S3Uri: step.outputParameter('ProductionDataUrl'), LocalPath: '/opt/ml/processing/p' },
        },
      ],
    },
  });
}

describe('LambdaStep', () => {
  // GIVEN a Lambda step whose output a processing step reads
  const step = assemble();
  const definition = new PipelineDefinition({
    name: 'p',
    parameters: [PipelineParameter.string('DataWindowStart', '')],
    steps: [step, preprocessReading(step)],
  });
  const rendered = definition.render() as { Steps: Json[] };

  test('renders FunctionArn, Arguments and OutputParameters as the published schema shapes them', () => {
    expect(rendered.Steps[0]).toEqual({
      Name: 'AssembleData',
      Type: 'Lambda',
      Description: 'Joins captured requests with their labels',
      Arguments: {
        WindowStart: { Get: 'Parameters.DataWindowStart' },
        ExecutionId: { Get: 'Execution.PipelineExecutionId' },
        Label: 'duration',
      },
      FunctionArn: FUNCTION_ARN,
      OutputParameters: [
        { OutputName: 'ProductionDataUrl', OutputType: 'String' },
        { OutputName: 'JoinedRows', OutputType: 'Integer' },
      ],
    });
    expect(lambdaSchemaProblems(rendered.Steps[0])).toEqual([]);
  });

  test("a later step reads an output as Steps.<name>.OutputParameters['<output>']", () => {
    expect(rendered.Steps[1].Arguments.ProcessingInputs[0].S3Input.S3Uri).toEqual({
      Get: "Steps.AssembleData.OutputParameters['ProductionDataUrl']",
    });
    // The output's declared type carries into comparisons.
    expect(step.outputParameter('JoinedRows').valueType).toBe('Integer');
  });

  test('a step without arguments or outputs renders an empty event and no OutputParameters', () => {
    const bare = new LambdaStep('Notify', { functionArn: FUNCTION_ARN }).render();
    expect(bare).toEqual({ Name: 'Notify', Type: 'Lambda', Arguments: {}, FunctionArn: FUNCTION_ARN });
    expect(lambdaSchemaProblems(bare)).toEqual([]);
  });

  test("a function's token ARN resolves in the definition JSON", () => {
    const stack = new Stack();
    const fn = lambda.Function.fromFunctionArn(stack, 'Fn', FUNCTION_ARN);
    const json = new PipelineDefinition({
      name: 'p',
      steps: [new LambdaStep('Call', { functionArn: fn.functionArn })],
    }).toJsonString(stack);
    expect(JSON.parse(stack.resolve(json) as string).Steps[0].FunctionArn).toBe(FUNCTION_ARN);
  });

  test('a numeric output compares as a number in a condition step', () => {
    const s = assemble();
    expect(
      () =>
        new PipelineDefinition({
          name: 'p',
          parameters: [PipelineParameter.string('DataWindowStart', '')],
          steps: [
            s,
            new ConditionStep('AnyRows', {
              conditions: [{ type: 'GreaterThan', left: s.outputParameter('JoinedRows'), right: 0 }],
              ifSteps: [new FailStep('Stop', 'x')],
            }),
          ],
        }),
    ).not.toThrow();
    expect(
      () =>
        new PipelineDefinition({
          name: 'p',
          parameters: [PipelineParameter.string('DataWindowStart', '')],
          steps: [
            s,
            new ConditionStep('AnyRows', {
              conditions: [{ type: 'GreaterThan', left: s.outputParameter('ProductionDataUrl'), right: 0 }],
              ifSteps: [new FailStep('Stop', 'x')],
            }),
          ],
        }),
    ).toThrow(/Conditions\[0\] GreaterThan compares String with Integer/);
  });
});

describe('LambdaStep validation names the step, the field and the fix', () => {
  test('bad props fail at construction, all at once', () => {
    let error: MlopsValidationError | undefined;
    try {
      new LambdaStep('Call', {
        functionArn: '',
        outputParameters: [
          { name: 'Url', type: 'String' },
          { name: 'Url', type: 'Integer' },
          { name: '', type: 'String' },
          { name: 'Count', type: 'Number' as 'Integer' },
        ],
      });
    } catch (e) {
      error = e as MlopsValidationError;
    }
    expect(error).toBeInstanceOf(MlopsValidationError);
    expect(error?.problems).toEqual([
      'functionArn "" is invalid: give the ARN of the function to invoke',
      "outputParameters name 'Url' is given twice: output names must be unique",
      'outputParameters name "" is invalid: give the non-empty key (without quotes) the function returns',
      'outputParameters \'Count\' type "Number" is invalid: use one of String, Integer, Float, Boolean',
    ]);
  });

  test('reading an output the step does not declare', () => {
    expect(() => assemble().outputParameter('Rows')).toThrow(
      /outputParameter 'Rows' is not declared: declare it in outputParameters \(declared: ProductionDataUrl, JoinedRows\)/,
    );
  });

  test('a hand-written reference to another property of a Lambda step fails the definition', () => {
    const s = assemble();
    const reader = new ProcessingStep('Preprocess', {
      arguments: {
        ProcessingInputs: [
          {
            InputName: 'p',
            S3Input: { S3Uri: s.property("OutputParameters['Rows']"), LocalPath: '/opt/ml/processing/p' },
          },
        ],
        ProcessingJobName: s.property('FunctionArn'),
      },
    });
    let error: MlopsValidationError | undefined;
    try {
      new PipelineDefinition({
        name: 'p',
        parameters: [PipelineParameter.string('DataWindowStart', '')],
        steps: [s, reader],
      });
    } catch (e) {
      error = e as MlopsValidationError;
    }
    expect(error?.problems).toEqual([
      "step 'Preprocess' refers to Lambda step 'AssembleData' property 'OutputParameters['Rows']' is not one of its " +
        "outputs: refer to OutputParameters['<name>'] of 'ProductionDataUrl', 'JoinedRows'",
      "step 'Preprocess' refers to Lambda step 'AssembleData' property 'FunctionArn' is not one of its outputs: " +
        "refer to OutputParameters['<name>'] of 'ProductionDataUrl', 'JoinedRows'",
    ]);
  });

  test('Arguments must be an object', () => {
    const s = new LambdaStep('Call', {
      functionArn: FUNCTION_ARN,
      arguments: ['a'] as unknown as Record<string, string>,
    });
    expect(() => new PipelineDefinition({ name: 'p', steps: [s] })).toThrow(
      /step 'Call' Arguments is not an object/,
    );
  });
});
