import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { MlopsValidationError } from '../../lib/private/errors';
import { ModelRegistry } from '../../lib/registry/model-registry';
import { ArtifactStore } from '../../lib/storage/artifact-store';
import { ExperimentTracking } from '../../lib/tracking/experiment-tracking';
import { BuiltInAlgorithmImage } from '../../lib/training/builtin-algorithm-image';
import { shapeProblems, STEP_ARGUMENT_SHAPES } from '../../lib/training/pipeline-definition';
import {
  REFERENCE_PIPELINE,
  ReferenceTarget,
  ReferenceWorkload,
  ReferenceWorkloadProps,
} from '../../lib/training/reference-workload';
import { formatFindings, nagFindings } from '../support/nag';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function workload(props: Partial<ReferenceWorkloadProps> = {}) {
  const app = new App();
  const stack = new Stack(app, 'Ml', { env: { account: '123456789012', region: 'eu-west-1' } });
  const store = new ArtifactStore(stack, 'Store');
  const registry = new ModelRegistry(stack, 'Registry', { modelPackageGroupName: 'taxi-duration' });
  const tracking = new ExperimentTracking(stack, 'Tracking', { artifactStore: store });
  const construct = new ReferenceWorkload(stack, 'Workload', {
    artifactStore: store,
    modelRegistry: registry,
    experimentTracking: tracking,
    ...props,
  });
  return { app, stack, store, registry, tracking, construct };
}

// One synthesis shared by the assertions on the definition.
const built = workload();
const definition = built.stack.resolve(built.construct.pipeline.definition.render()) as Json;
const steps: Json = {};
const collect = (s: Json) => {
  steps[s.Name] = s;
  [...(s.Arguments.IfSteps ?? []), ...(s.Arguments.ElseSteps ?? [])].forEach(collect);
};
definition.Steps.forEach(collect);
const names = REFERENCE_PIPELINE.steps;
const outputUri = (step: string, output: string) => ({
  Get: `Steps.${step}.ProcessingOutputConfig.Outputs['${output}'].S3Output.S3Uri`,
});

describe('ReferenceWorkload', () => {
  test('preprocess -> train -> evaluate -> RMSE check -> register, or fail', () => {
    expect(definition.Steps.map((s: Json) => [s.Name, s.Type])).toEqual([
      [names.preprocess, 'Processing'],
      [names.train, 'Training'],
      [names.evaluate, 'Processing'],
      [names.check, 'Condition'],
    ]);
    const check = steps[names.check].Arguments;
    expect(check.IfSteps.map((s: Json) => [s.Name, s.Type])).toEqual([[names.register, 'RegisterModel']]);
    expect(check.ElseSteps.map((s: Json) => [s.Name, s.Type])).toEqual([[names.fail, 'Fail']]);
  });

  test('each step runs in its built-in image for the region', () => {
    const sklearn = BuiltInAlgorithmImage.SKLEARN_1_2_1.uriForRegion('eu-west-1');
    const xgboost = BuiltInAlgorithmImage.XGBOOST_1_7_1.uriForRegion('eu-west-1');
    expect(steps[names.preprocess].Arguments.AppSpecification.ImageUri).toBe(sklearn);
    expect(steps[names.train].Arguments.AlgorithmSpecification.TrainingImage).toBe(xgboost);
    expect(steps[names.evaluate].Arguments.AppSpecification.ImageUri).toBe(xgboost);
    expect(steps[names.register].Arguments.InferenceSpecification.Containers[0].Image).toBe(xgboost);
  });

  test('the processing steps run ml/ code through the launcher, with MLflow settings per execution', () => {
    for (const [step, name] of [
      [names.preprocess, 'preprocess'],
      [names.evaluate, 'evaluate'],
    ]) {
      const args = steps[step].Arguments;
      expect(args.AppSpecification.ContainerEntrypoint).toEqual([
        'bash',
        '-c',
        expect.stringContaining('exec python3 /tmp/step/run_step.py "$@"'),
        'run_step',
        name,
      ]);
      expect(args.ProcessingInputs[0]).toMatchObject({
        InputName: 'code',
        S3Input: { LocalPath: '/opt/ml/processing/input/code' },
      });
      expect(args.Environment).toEqual({
        PIPELINE_EXECUTION_ID: { Get: 'Execution.PipelineExecutionId' },
        RETRAIN_REASON: { Get: 'Parameters.RetrainReason' },
        MLFLOW_EXPERIMENT_NAME: { Get: 'Execution.PipelineName' },
        MLFLOW_TRACKING_URI: built.stack.resolve(built.tracking.trackingArn),
      });
    }
  });

  test('the code asset holds the launcher and the steps, not the tests', () => {
    built.app.synth();
    const dir = path.join(built.app.outdir, built.construct.code.assetPath);
    const files = fs.readdirSync(dir);
    expect(files).toEqual(expect.arrayContaining(['run_step.py', 'preprocess.py', 'evaluate.py']));
    expect(files).not.toContain('tests');
  });

  test('data flows from preprocess outputs into training and evaluation', () => {
    const train = steps[names.train].Arguments;
    expect(train.InputDataConfig.map((c: Json) => [c.ChannelName, c.DataSource.S3DataSource.S3Uri])).toEqual([
      ['train', outputUri(names.preprocess, 'train')],
      ['validation', outputUri(names.preprocess, 'validation')],
    ]);
    const evaluateInputs = steps[names.evaluate].Arguments.ProcessingInputs;
    expect(evaluateInputs.map((i: Json) => [i.InputName, i.S3Input.S3Uri])).toEqual([
      ['code', expect.anything()],
      ['model', { Get: `Steps.${names.train}.ModelArtifacts.S3ModelArtifacts` }],
      ['test', outputUri(names.preprocess, 'test')],
    ]);
    // Every execution writes under its own id.
    expect(train.OutputDataConfig.S3OutputPath['Std:Join'].Values).toContainEqual({
      Get: 'Execution.PipelineExecutionId',
    });
  });

  test('registers only when the test RMSE from the evaluation report is at most MaxRmse', () => {
    expect(steps[names.evaluate].PropertyFiles).toEqual([
      { PropertyFileName: 'EvaluationReport', OutputName: 'evaluation', FilePath: 'evaluation.json' },
    ]);
    expect(steps[names.check].Arguments.Conditions).toEqual([
      {
        Type: 'LessThanOrEqualTo',
        // The path evaluate.py writes (see ml/tests/test_evaluate.py).
        LeftValue: {
          'Std:JsonGet': {
            PropertyFile: { Get: `Steps.${names.evaluate}.PropertyFiles.EvaluationReport` },
            Path: 'regression_metrics.rmse.value',
          },
        },
        RightValue: { Get: 'Parameters.MaxRmse' },
      },
    ]);
    expect(definition.Parameters).toContainEqual({ Name: 'MaxRmse', Type: 'Float', DefaultValue: 10 });
  });

  test('the package carries the evaluation as model quality and the drift baseline as data quality', () => {
    const args = steps[names.register].Arguments;
    expect(args.ModelPackageGroupName).toBe('taxi-duration');
    expect(args.ModelMetrics.ModelQuality.Statistics).toEqual({
      ContentType: 'application/json',
      S3Uri: {
        'Std:Join': { On: '/', Values: [outputUri(names.evaluate, 'evaluation'), 'evaluation.json'] },
      },
    });
    expect(args.ModelMetrics.ModelDataQuality.Statistics.S3Uri).toEqual({
      'Std:Join': { On: '/', Values: [outputUri(names.preprocess, 'baseline'), 'baseline.json'] },
    });
    // Left to the default, PendingManualApproval: a person (or level 4's gate) approves.
    expect(args.ModelApprovalStatus).toBeUndefined();
  });

  test("every step's arguments use only keys of AWS's published definition schema", () => {
    for (const step of Object.values(steps)) {
      expect([
        step.Name,
        shapeProblems(step.Arguments, STEP_ARGUMENT_SHAPES[step.Type as 'Fail'], 'Arguments'),
      ]).toEqual([step.Name, []]);
    }
  });

  test('the pipeline role reads the code asset object and logs to MLflow; no cdk-nag findings', () => {
    const template = Template.fromStack(built.stack);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'sagemaker-mlflow:*',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('Tracking'), 'Arn'] },
          }),
        ]),
      },
    });
    const { app } = workload();
    expect(formatFindings(nagFindings(app))).toBe('');
  });

  test("an imported tracking, e.g. a shared MLflow App, is the steps' tracking URI and is granted", () => {
    // GIVEN an MLflow App of another stack, imported by ARN
    const arn = 'arn:aws:sagemaker:eu-west-1:123456789012:mlflow-app/app-SHARED123456';
    const app = new App();
    const stack = new Stack(app, 'Ml', { env: { account: '123456789012', region: 'eu-west-1' } });
    const construct = new ReferenceWorkload(stack, 'Workload', {
      artifactStore: new ArtifactStore(stack, 'Store'),
      modelRegistry: new ModelRegistry(stack, 'Registry'),
      experimentTracking: ExperimentTracking.fromMlflowAppArn(stack, 'SharedTracking', arn),
    });
    // WHEN
    const rendered = JSON.stringify(stack.resolve(construct.pipeline.definition.render()));
    // THEN every step logs to it, and the pipeline role may
    expect(rendered).toContain(`"MLFLOW_TRACKING_URI":"${arn}"`);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Action: 'sagemaker-mlflow:*', Resource: arn })]),
      },
    });
  });

  describe('the fare amount target', () => {
    const fare = workload({ target: ReferenceTarget.FARE_AMOUNT });
    const fareDefinition = fare.stack.resolve(fare.construct.pipeline.definition.render()) as Json;
    const fareStep = (name: string) => fareDefinition.Steps.find((st: Json) => st.Name === name);

    test('preprocessing takes the fare as the label; the trip duration pipeline names no target', () => {
      expect(fareStep(names.preprocess).Arguments.AppSpecification.ContainerArguments).toEqual([
        '--input',
        '/opt/ml/processing/input/data',
        '--output',
        '/opt/ml/processing/output',
        '--target',
        'fare_amount',
      ]);
      expect(steps[names.preprocess].Arguments.AppSpecification.ContainerArguments).toEqual([
        '--input',
        '/opt/ml/processing/input/data',
        '--output',
        '/opt/ml/processing/output',
      ]);
      expect(fareStep(names.preprocess).Description).toBe(
        'Cleans the trips, takes the fare amount as the label, splits train/validation/test and writes the drift baseline',
      );
    });

    test('the RMSE gate defaults to 5 dollars, the duration gate to 10 minutes; maxRmse sets either', () => {
      const maxRmseOf = (d: Json) => d.Parameters.find((p: Json) => p.Name === 'MaxRmse').DefaultValue;
      expect(maxRmseOf(fareDefinition)).toBe(5);
      expect(maxRmseOf(definition)).toBe(10);
      const strict = workload({ target: ReferenceTarget.FARE_AMOUNT, maxRmse: 2.5 });
      expect(maxRmseOf(strict.stack.resolve(strict.construct.pipeline.definition.render()) as Json)).toBe(
        2.5,
      );
      const old = workload({ maxRmseMinutes: 7 });
      expect(maxRmseOf(old.stack.resolve(old.construct.pipeline.definition.render()) as Json)).toBe(7);
    });
  });

  describe('invalid props fail at synth, naming the prop, the value and the fix', () => {
    test.each([
      [{ maxRmseMinutes: 0 }, /maxRmseMinutes '0' is invalid: give a positive number of minutes/],
      [
        { target: ReferenceTarget.FARE_AMOUNT, maxRmse: -2 },
        /maxRmse '-2' is invalid: give a positive number of dollars/,
      ],
      [
        { target: ReferenceTarget.FARE_AMOUNT, maxRmseMinutes: 4 },
        /maxRmseMinutes '4' is invalid: the fare_amount target is in dollars: give maxRmse instead/,
      ],
      [
        { maxRmse: 8, maxRmseMinutes: 8 },
        /maxRmseMinutes '8' is invalid: give maxRmse alone \(maxRmseMinutes is its old name\)/,
      ],
      [
        { trainingInstanceType: 'm5.large' },
        /trainingInstanceType 'm5\.large' is invalid: use a SageMaker instance type/,
      ],
      [
        { hyperparameters: { numRound: -1 } },
        /hyperparameters\.numRound '-1' is invalid: give a positive number/,
      ],
    ])('%#: %p', (props, message) => {
      expect(() => workload(props as Partial<ReferenceWorkloadProps>)).toThrow(message);
    });

    test('a code directory without the launcher', () => {
      const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'no-steps-'));
      expect(() => workload({ codeDirectory: empty })).toThrow(MlopsValidationError);
      expect(() => workload({ codeDirectory: empty })).toThrow(
        /codeDirectory '.*no-steps-.*' is invalid: point it at a directory that holds run_step\.py/,
      );
    });
  });
});
