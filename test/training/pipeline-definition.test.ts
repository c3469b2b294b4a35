import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { MlopsValidationError } from '../../lib/private/errors';
import {
  ConditionStep,
  FailStep,
  Join,
  PipelineDefinition,
  PipelineParameter,
  PipelineStep,
  ProcessingStep,
  ModelStep,
  RegisterModelStep,
  TrainingStep,
  TuningStep,
} from '../../lib/training/pipeline-definition';

/** What AWS's published definition schema requires of what we render (encoded here, see docs). */
const STEP_NAME = /^[A-Za-z0-9\-_]{1,64}$/;
const STEP_TYPES = ['Processing', 'Training', 'Condition', 'RegisterModel', 'Fail'];
const CONDITION_TYPES = [
  'GreaterThan',
  'LessThan',
  'LessThanOrEqualTo',
  'GreaterThanOrEqualTo',
  'Equals',
  'NotEquals',
];
function schemaProblems(definition: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (definition.Version !== '2020-12-01') problems.push('Version');
  const visit = (step: Record<string, unknown>) => {
    for (const key of ['Name', 'Type', 'Arguments'])
      if (!(key in step)) problems.push(`${String(step.Name)} lacks ${key}`);
    if (!STEP_NAME.test(String(step.Name))) problems.push(`${String(step.Name)} name`);
    if (!STEP_TYPES.includes(String(step.Type))) problems.push(`${String(step.Name)} type`);
    const args = step.Arguments as Record<string, unknown>;
    if (step.Type === 'Condition') {
      for (const c of args.Conditions as Array<Record<string, unknown>>) {
        if (!CONDITION_TYPES.includes(String(c.Type)) || !('LeftValue' in c) || !('RightValue' in c))
          problems.push('condition');
      }
      [...(args.IfSteps as object[]), ...(args.ElseSteps as object[])].forEach((s) =>
        visit(s as Record<string, unknown>),
      );
    }
  };
  (definition.Steps as Array<Record<string, unknown>>).forEach(visit);
  for (const p of definition.Parameters as Array<Record<string, unknown>>) {
    if (
      !STEP_NAME.test(String(p.Name)) ||
      !['String', 'Integer', 'Float', 'Boolean'].includes(String(p.Type))
    )
      problems.push(`parameter ${String(p.Name)}`);
  }
  return problems;
}

function referencePipeline(overrides: { threshold?: PipelineParameter; evaluationFile?: string } = {}) {
  const input = PipelineParameter.string('InputDataUrl', 's3://bucket/data/');
  const threshold = overrides.threshold ?? PipelineParameter.float('RmseThreshold', 8.5);
  const instanceCount = PipelineParameter.integer('TrainingInstanceCount', 1);
  const preprocess = new ProcessingStep('Preprocess', {
    arguments: {
      ProcessingResources: {
        ClusterConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 30 },
      },
      ProcessingInputs: [
        { InputName: 'raw', S3Input: { S3Uri: input.ref, LocalPath: '/opt/ml/processing/input' } },
      ],
      ProcessingOutputConfig: {
        Outputs: [
          {
            OutputName: 'train',
            S3Output: {
              S3Uri: 's3://bucket/pipelines/train',
              LocalPath: '/opt/ml/processing/output/train',
              S3UploadMode: 'EndOfJob',
            },
          },
        ],
      },
    },
  });
  const train = new TrainingStep('Train', {
    arguments: {
      ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: instanceCount.ref, VolumeSizeInGB: 30 },
      InputDataConfig: [
        {
          ChannelName: 'train',
          DataSource: {
            S3DataSource: {
              S3Uri: preprocess.property("ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"),
              S3DataType: 'S3Prefix',
            },
          },
        },
      ],
      OutputDataConfig: { S3OutputPath: new Join('/', ['s3://bucket/models', input.ref]) },
    },
  });
  const evaluate = new ProcessingStep('Evaluate', {
    arguments: {
      ProcessingInputs: [
        {
          InputName: 'model',
          S3Input: { S3Uri: train.modelArtifacts, LocalPath: '/opt/ml/processing/model' },
        },
      ],
    },
    propertyFiles: [
      { name: overrides.evaluationFile ?? 'Evaluation', outputName: 'evaluation', path: 'evaluation.json' },
    ],
  });
  const register = new RegisterModelStep('Register', {
    arguments: {
      ModelPackageGroupName: 'taxi-duration',
      InferenceSpecification: { Containers: [{ Image: 'img', ModelDataUrl: train.modelArtifacts }] },
    },
  });
  const fail = new FailStep('RmseTooHigh', new Join(' ', ['RMSE above', threshold.ref]));
  const gate = new ConditionStep('RmseBelowThreshold', {
    conditions: [
      {
        type: 'LessThanOrEqualTo',
        left: evaluate.jsonGet('Evaluation', 'regression_metrics.rmse.value'),
        right: threshold.ref,
      },
    ],
    ifSteps: [register],
    elseSteps: [fail],
  });
  return {
    parameters: [input, threshold, instanceCount],
    steps: [preprocess, train, evaluate, gate],
    evaluate,
    train,
    preprocess,
  };
}

describe('PipelineDefinition', () => {
  // GIVEN the reference workload's pipeline
  const { parameters, steps } = referencePipeline();
  const definition = new PipelineDefinition({ name: 'taxi', parameters, steps });
  const rendered = definition.render();

  test('renders what the published schema requires (bar its known false rejections)', () => {
    expect(schemaProblems(rendered)).toEqual([]);
    expect(Object.keys(rendered)).toEqual(['Version', 'Metadata', 'Parameters', 'Steps']);
  });

  test('renders typed parameters with their defaults', () => {
    expect(rendered.Parameters).toEqual([
      { Name: 'InputDataUrl', Type: 'String', DefaultValue: 's3://bucket/data/' },
      { Name: 'RmseThreshold', Type: 'Float', DefaultValue: 8.5 },
      { Name: 'TrainingInstanceCount', Type: 'Integer', DefaultValue: 1 },
    ]);
  });

  test('renders Get, Std:Join, step PropertyFiles and Std:JsonGet in PascalCase', () => {
    // The rendered JSON is walked freely in these assertions; a full type for it would only restate them.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const [, train, evaluate, gate] = rendered.Steps as Array<Record<string, any>>;
    expect(train.Arguments.ResourceConfig.InstanceCount).toEqual({ Get: 'Parameters.TrainingInstanceCount' });
    expect(train.Arguments.InputDataConfig[0].DataSource.S3DataSource.S3Uri).toEqual({
      Get: "Steps.Preprocess.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri",
    });
    expect(train.Arguments.OutputDataConfig.S3OutputPath).toEqual({
      'Std:Join': { On: '/', Values: ['s3://bucket/models', { Get: 'Parameters.InputDataUrl' }] },
    });
    expect(evaluate.PropertyFiles).toEqual([
      { PropertyFileName: 'Evaluation', OutputName: 'evaluation', FilePath: 'evaluation.json' },
    ]);
    expect(gate.Arguments.Conditions).toEqual([
      {
        Type: 'LessThanOrEqualTo',
        LeftValue: {
          'Std:JsonGet': {
            PropertyFile: { Get: 'Steps.Evaluate.PropertyFiles.Evaluation' },
            Path: 'regression_metrics.rmse.value',
          },
        },
        RightValue: { Get: 'Parameters.RmseThreshold' },
      },
    ]);
    expect(gate.Arguments.IfSteps.map((s: { Name: string }) => s.Name)).toEqual(['Register']);
    expect(gate.Arguments.ElseSteps[0]).toMatchObject({
      Name: 'RmseTooHigh',
      Type: 'Fail',
      Arguments: { ErrorMessage: { 'Std:Join': expect.anything() } },
    });
  });

  test('toJsonString resolves CDK tokens and keeps the definition valid JSON', () => {
    const stack = new Stack();
    const role = new iam.Role(stack, 'R', { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') });
    const step = new TrainingStep('Train', { arguments: { RoleArn: role.roleArn } });
    const json = new PipelineDefinition({ name: 'p', steps: [step] }).toJsonString(stack);
    expect(stack.resolve(json)).toEqual({
      'Fn::Join': [
        '',
        expect.arrayContaining([
          { 'Fn::GetAtt': [stack.getLogicalId(role.node.defaultChild as iam.CfnRole), 'Arn'] },
        ]),
      ],
    });
  });

  test('a definition over 1 MB is rejected with the fix', () => {
    const big = new ProcessingStep('Big', {
      arguments: { Environment: { SCRIPT: 'x'.repeat(1024 * 1024) } },
    });
    expect(() => new PipelineDefinition({ name: 'p', steps: [big] }).toJsonString(new Stack())).toThrow(
      /above SageMaker's 1048576-byte limit for an inline definition: let TrainingPipeline store it in S3, or move large arguments/,
    );
  });
});

describe('PipelineDefinition validation names the step and the field', () => {
  const build = (f: () => ConstructorParameters<typeof PipelineDefinition>[0]) => () =>
    new PipelineDefinition(f());

  test('a reference to a step that is not in the pipeline', () => {
    const orphan = new TrainingStep('Orphan', { arguments: {} });
    const uses = new ProcessingStep('Uses', { arguments: { In: orphan.modelArtifacts } });
    expect(build(() => ({ name: 'p', steps: [uses] }))).toThrow(
      /step 'Uses' Arguments refer to step 'Orphan', which is not a step of this pipeline/,
    );
  });

  test('an Arguments key the published schema does not allow, at any depth', () => {
    const step = new ProcessingStep('Prep', {
      arguments: {
        ProcessingInputs: [
          { InputName: 'code', AppManaged: false, S3Input: { S3Uri: 's3://b/k', Local: '/x' } },
        ],
      },
    });
    const register = new RegisterModelStep('Register', {
      arguments: { ModelPackageGroupName: 'g', ModelApprovalStatus: 'Approved' },
    });
    let error: MlopsValidationError | undefined;
    try {
      new PipelineDefinition({ name: 'p', steps: [step, register] });
    } catch (e) {
      error = e as MlopsValidationError;
    }
    expect(error?.problems).toEqual([
      "step 'Prep' Arguments.ProcessingInputs[0].AppManaged is not allowed by the pipeline definition schema (allowed: InputName, S3Input): remove it or use the field the schema names",
      "step 'Prep' Arguments.ProcessingInputs[0].S3Input.Local is not allowed by the pipeline definition schema (allowed: LocalPath, S3CompressionType, S3DataDistributionType, S3DataType, S3InputMode, S3Uri): remove it or use the field the schema names",
      "step 'Register' Arguments.ModelApprovalStatus is not allowed by the pipeline definition schema (allowed: CertifyForMarketplace, InferenceSpecification, ModelMetrics, ModelPackageDescription, ModelPackageGroupName): remove it or use the field the schema names",
    ]);
  });

  test('literal values of the wrong type for the schema: numbers, flags, words and strings', () => {
    const count = PipelineParameter.integer('Count', 1);
    const train = new TrainingStep('Train', {
      arguments: {
        // A Get is checked at run time, as the schema leaves it: no problem here.
        ResourceConfig: { InstanceCount: count.ref, InstanceType: 'ml.m5.large', VolumeSizeInGB: '30' },
        HyperParameters: { num_round: 200, eta: '0.2' },
        EnableNetworkIsolation: 'true',
      },
    });
    const tune = new TuningStep('Tune', {
      arguments: {
        HyperParameterTuningJobConfig: {
          Strategy: 'Grid',
          ResourceLimits: { MaxNumberOfTrainingJobs: 4.5, MaxParallelTrainingJobs: 1 },
        },
      },
    });
    let error: MlopsValidationError | undefined;
    try {
      new PipelineDefinition({ name: 'p', parameters: [count], steps: [train, tune] });
    } catch (e) {
      error = e as MlopsValidationError;
    }
    expect(error?.problems).toEqual([
      `step 'Train' Arguments.ResourceConfig.VolumeSizeInGB is "30" but the pipeline definition schema wants an Integer`,
      "step 'Train' Arguments.HyperParameters.num_round is 200 but the pipeline definition schema wants a String",
      `step 'Train' Arguments.EnableNetworkIsolation is "true" but the pipeline definition schema wants a Boolean`,
      `step 'Tune' Arguments.HyperParameterTuningJobConfig.Strategy is "Grid" but the pipeline definition schema wants one of Bayesian, Random`,
      "step 'Tune' Arguments.HyperParameterTuningJobConfig.ResourceLimits.MaxNumberOfTrainingJobs is 4.5 but the pipeline definition schema wants an Integer",
    ]);
  });

  test('tuning and model steps: their schema, their properties and the top model of a tuning job', () => {
    const outputPath = 's3://bucket/models/tuning';
    const tune = new TuningStep('Tune', {
      arguments: {
        HyperParameterTuningJobConfig: {
          Strategy: 'Bayesian',
          ResourceLimits: { MaxNumberOfTrainingJobs: 8, MaxParallelTrainingJobs: 2 },
          HyperParameterTuningJobObjective: { MetricName: 'validation:rmse', Type: 'Minimize' },
          ParameterRanges: {
            ContinuousParameterRanges: [{ Name: 'eta', MinValue: '0.05', MaxValue: '0.5' }],
            IntegerParameterRanges: [{ Name: 'max_depth', MinValue: '3', MaxValue: '10' }],
          },
        },
        TrainingJobDefinition: {
          AlgorithmSpecification: { TrainingImage: 'image', TrainingInputMode: 'File' },
          RoleArn: 'arn:aws:iam::123456789012:role/r',
          OutputDataConfig: { S3OutputPath: outputPath },
          ResourceConfig: { InstanceCount: 1, InstanceType: 'ml.m5.large', VolumeSizeInGB: 30 },
          StoppingCondition: { MaxRuntimeInSeconds: 3600 },
          StaticHyperParameters: { objective: 'reg:squarederror' },
        },
      },
    });
    const model = new ModelStep('CreateModel', {
      arguments: {
        ExecutionRoleArn: 'arn:aws:iam::123456789012:role/r',
        PrimaryContainer: { Image: 'image', ModelDataUrl: tune.topModelS3Uri(0, outputPath) },
      },
    });
    const register = new RegisterModelStep('Register', {
      arguments: { ModelPackageGroupName: 'g', ModelPackageDescription: model.modelName },
    });
    const definition = new PipelineDefinition({ name: 'tuned', steps: [tune, model, register] });
    const rendered = definition.render() as { Steps: Array<Record<string, any>> }; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(rendered.Steps.map((st) => st.Type)).toEqual(['Tuning', 'Model', 'RegisterModel']);
    expect(rendered.Steps[1].Arguments.PrimaryContainer.ModelDataUrl).toEqual({
      'Std:Join': {
        On: '/',
        Values: [
          outputPath,
          { Get: 'Steps.Tune.TrainingJobSummaries[0].TrainingJobName' },
          'output/model.tar.gz',
        ],
      },
    });
    expect(rendered.Steps[2].Arguments.ModelPackageDescription).toEqual({
      Get: 'Steps.CreateModel.ModelName',
    });
    expect(() => tune.topModelS3Uri(-1, outputPath)).toThrow(/rank -1 is invalid: use a whole number from 0/);
  });

  test('tuning and model steps: required arguments, unknown keys and unknown properties', () => {
    const tune = new TuningStep('Tune', { arguments: { TrainingJobDefinition: { Rolearn: 'x' } } });
    const model = new ModelStep('CreateModel', {
      arguments: { PrimaryContainer: { ModelDataUrl: tune.property('ModelArtifacts.S3ModelArtifacts') } },
    });
    let error: MlopsValidationError | undefined;
    try {
      new PipelineDefinition({ name: 'p', steps: [tune, model] });
    } catch (e) {
      error = e as MlopsValidationError;
    }
    expect(error?.problems).toEqual([
      expect.stringMatching(
        /^step 'Tune' Arguments\.TrainingJobDefinition\.Rolearn is not allowed by the pipeline definition schema/,
      ),
      "step 'Tune' Arguments.HyperParameterTuningJobConfig is missing: a Tuning step requires it",
      expect.stringMatching(
        /^step 'CreateModel' refers to property 'ModelArtifacts\.S3ModelArtifacts' of Tuning step 'Tune', which has HyperParameterTuningJobName/,
      ),
      "step 'CreateModel' Arguments.ExecutionRoleArn is missing: a Model step requires it",
    ]);
  });

  test('an undefined parameter', () => {
    const threshold = PipelineParameter.float('Threshold');
    const step = new ProcessingStep('P', { arguments: { X: threshold.ref } });
    expect(build(() => ({ name: 'p', steps: [step] }))).toThrow(
      /step 'P' Arguments refer to parameter 'Threshold', which is not defined: add it to parameters/,
    );
  });

  test('a property the step type does not have', () => {
    const train = new TrainingStep('Train', { arguments: {} });
    const uses = new ProcessingStep('Uses', {
      arguments: { X: train.property('ProcessingOutputConfig.Outputs') },
    });
    expect(build(() => ({ name: 'p', steps: [train, uses] }))).toThrow(
      /step 'Uses' refers to property 'ProcessingOutputConfig.Outputs' of Training step 'Train', which has TrainingJobName, .*ModelArtifacts, FinalMetricDataList/,
    );
  });

  test('JsonGet on a property file the step does not declare', () => {
    const { parameters, steps } = referencePipeline({ evaluationFile: 'Report' });
    expect(build(() => ({ name: 'p', parameters, steps }))).toThrow(
      /step 'RmseBelowThreshold' reads property file 'Evaluation' of step 'Evaluate', which declares Report: declare it in propertyFiles/,
    );
  });

  test('a numeric comparison against a String parameter', () => {
    const { parameters, steps } = referencePipeline({
      threshold: PipelineParameter.string('RmseThreshold', '8.5'),
    });
    expect(build(() => ({ name: 'p', parameters, steps }))).toThrow(
      /step 'RmseBelowThreshold' Conditions\[0\] LessThanOrEqualTo compares Float with String: compare numbers/,
    );
  });

  test('duplicate step names across branches', () => {
    const a = new FailStep('Same', 'a');
    const b = new FailStep('Same', 'b');
    const gate = new ConditionStep('Gate', {
      conditions: [{ type: 'Equals', left: 1, right: 1 }],
      ifSteps: [a],
    });
    expect(build(() => ({ name: 'p', steps: [gate, b] }))).toThrow(
      /step 'Same' is defined twice: step names must be unique across the pipeline, branches included/,
    );
  });

  test('a dependency cycle', () => {
    const first: PipelineStep[] = [];
    const a = new ProcessingStep('A', { arguments: {}, dependsOn: first });
    const b = new ProcessingStep('B', { arguments: { X: a.property('ProcessingJobName') } });
    first.push(b); // A depends on B, and B reads a property of A
    expect(build(() => ({ name: 'p', steps: [a, b] }))).toThrow(/steps 'A' -> 'B' -> 'A' form a cycle/);
  });

  test('bad names, a mistyped default, an unknown DependsOn and an empty pipeline, all at once', () => {
    const ghost = new FailStep('Ghost', 'x');
    const step = new ProcessingStep('has space', { arguments: {}, dependsOn: [ghost] });
    let error: MlopsValidationError | undefined;
    try {
      new PipelineDefinition({
        name: 'p',
        parameters: [PipelineParameter.integer('Count', 1.5), PipelineParameter.string('bad name')],
        steps: [step],
      });
    } catch (e) {
      error = e as MlopsValidationError;
    }
    expect(error?.problems).toEqual([
      "parameter 'Count' DefaultValue 1.5 is not a Integer: give a Integer default",
      "parameter 'bad name' has an invalid name: use 1-64 letters, digits, hyphens and underscores",
      "step 'has space' has an invalid Name: use 1-64 letters, digits, hyphens and underscores",
      "step 'has space' DependsOn 'Ghost', which is not a step of this pipeline: add it or remove the dependency",
    ]);
    expect(() => new PipelineDefinition({ name: 'p', steps: [] })).toThrow(/steps is empty/);
  });
});
