import { createdResources } from '../../lib/testing';
import { allStepBodies, pipelineDefinitionBody } from '../support/pipeline-body';
import { loadSynthesizedApp } from '../support/synthesized-app';

// GIVEN the default app (dev at level 2), synthesized once by the global setup
const { stacks } = loadSynthesizedApp();
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;
type Resource = { Type: string; Condition?: string; Properties?: Record<string, unknown> };
const stackOf = (name: string) => {
  const stack = stacks.find((s) => s.stackName === name);
  if (!stack) throw new Error(`no stack ${name}`);
  return stack.template as {
    Resources: Record<string, Resource>;
    Parameters: Record<string, { Type: string; Default?: string }>;
  };
};
const dev = stackOf('dev-Platform');
const devRelease = stackOf('dev-Release');
const devServing = stackOf('dev-Serving');
// The name the release command writes, spelt out: a change to it strands deployed pointers.
const DEV_POINTER = '/mlops/dev/serving/trip-duration/model-package-arn';
const DEV_POINTERS = [DEV_POINTER, '/mlops/dev/serving/fare-amount/model-package-arn'];
const ofType = (type: string, template = dev) =>
  Object.entries(template.Resources).filter(([, r]) => r.Type === type);

/** The trip-duration model's definition body. */
function definitionBody() {
  const [, pipeline] = ofType('AWS::SageMaker::Pipeline').find(([id]) =>
    id.startsWith('Level2tripduration'),
  )!;
  return pipelineDefinitionBody(pipeline);
}

describe('level 2 in the dev environment', () => {
  test('the platform stack holds the MLflow app and, per model, a training pipeline, a model package group and the model role; the serving stack the slot', () => {
    expect(ofType('AWS::SageMaker::Pipeline')).toHaveLength(2);
    expect(ofType('AWS::SageMaker::MlflowApp')).toHaveLength(1);
    expect(ofType('AWS::SageMaker::ModelPackageGroup')).toHaveLength(2);
    expect(ofType('AWS::SageMaker::MlflowTrackingServer')).toHaveLength(0);
    expect(ofType('AWS::SageMaker::Endpoint')).toHaveLength(0);
    expect(ofType('AWS::SageMaker::Endpoint', devServing)).toHaveLength(2);
    expect(ofType('AWS::SageMaker::Model', devServing)).toHaveLength(2);
    // The model roles stay with the platform: the serving stack holds no IAM.
    expect(
      ofType('AWS::IAM::Role')
        .map(([id]) => id)
        .filter((id) => /^Level2(tripduration|fareamount)ModelRole[0-9A-F]{8}$/.test(id)),
    ).toHaveLength(2);
    expect(Object.values(devServing.Resources).filter((r) => r.Type.startsWith('AWS::IAM::'))).toEqual([]);
  });

  test("each model's release pointer lives in dev-Release and its slot reads it by name", () => {
    const pointers = Object.values(devRelease.Resources).filter((r) => r.Type === 'AWS::SSM::Parameter');
    expect(pointers.map((p) => p.Properties)).toEqual(
      DEV_POINTERS.map((Name) => expect.objectContaining({ Name, Value: 'none' })),
    );
    for (const name of DEV_POINTERS) {
      const ssmParameters = Object.values(devServing.Parameters).filter(
        (p) => p.Type === 'AWS::SSM::Parameter::Value<String>' && p.Default === name,
      );
      expect(ssmParameters).toHaveLength(1);
    }
  });

  test('deploying before any release creates no endpoint, no model and nothing that bills per hour', () => {
    // The SSM values the release stack deploys the pointers with.
    const ssm = Object.fromEntries(
      Object.values(devRelease.Resources)
        .filter((r) => r.Type === 'AWS::SSM::Parameter')
        .map((p) => [p.Properties!.Name as string, p.Properties!.Value as string]),
    );
    expect(Object.keys(ssm).sort()).toEqual([...DEV_POINTERS].sort());
    const created = [dev, devServing].flatMap((template) =>
      Object.values(createdResources(template, { ssm })),
    );
    expect(created.filter((t) => t.startsWith('AWS::SageMaker::') && /Model$|Endpoint/.test(t))).toEqual([]);
    expect(created).not.toContain('AWS::ApplicationAutoScaling::ScalableTarget');
    // The only SageMaker resources left are the pipeline, registry, MLflow app and Studio: none bills idle.
    expect([...new Set(created.filter((t) => t.startsWith('AWS::SageMaker::')))].sort()).toEqual([
      'AWS::SageMaker::Domain',
      'AWS::SageMaker::MlflowApp',
      'AWS::SageMaker::ModelPackageGroup',
      'AWS::SageMaker::Pipeline',
      'AWS::SageMaker::UserProfile',
    ]);
  });

  test("every model's endpoint has error and latency alarms that exist only with it", () => {
    for (const env of ['dev', 'staging', 'prod']) {
      const template = stackOf(`${env}-Serving`);
      const endpoints = Object.values(template.Resources).filter(
        (r) => r.Type === 'AWS::SageMaker::Endpoint',
      );
      expect(endpoints).toHaveLength(2);
      for (const endpoint of endpoints) {
        // The slot's alarms name the endpoint by its literal name: the rollback alarms cannot reference it.
        const name = JSON.stringify((endpoint.Properties as { EndpointName: unknown }).EndpointName);
        // The champion's alarms: a test variant has its own, under its own condition.
        const alarms = Object.values(template.Resources).filter(
          (r) =>
            r.Type === 'AWS::CloudWatch::Alarm' &&
            JSON.stringify(r.Properties).includes(`{"Name":"EndpointName","Value":${name}}`) &&
            JSON.stringify(r.Properties).includes('{"Name":"VariantName","Value":"AllTraffic"}'),
        );
        const metrics = alarms
          .map((a) => JSON.stringify(a.Properties).match(/"MetricName":"(\w+)"/)?.[1])
          .sort();
        expect({ env, name, metrics }).toEqual({
          env,
          name,
          metrics: ['Invocation5XXErrors', 'ModelLatency'],
        });
        for (const alarm of alarms) {
          expect(alarm.Condition).toBe(endpoint.Condition);
        }
      }
    }
  });

  test('the rendered definition: schema version, parameters, steps in order with the request fields they set', () => {
    const body = definitionBody();
    expect(body.Version).toBe('2020-12-01');
    expect(body.Parameters.map((p) => (p as Json).Name)).toEqual([
      'InputDataUrl',
      'MaxRmse',
      'ProcessingInstanceType',
      'TrainingInstanceType',
      'DataWindowStart',
      'DataWindowEnd',
      'RetrainReason',
    ]);
    const all = allStepBodies(body);
    // The request fields of CreateProcessingJob, CreateTrainingJob and CreateModelPackage that the
    // reference workload sets, written out: job names are left to the pipeline, which sets them.
    const processing = [
      'AppSpecification',
      'Environment',
      'ProcessingInputs',
      'ProcessingOutputConfig',
      'ProcessingResources',
      'RoleArn',
      'StoppingCondition',
    ];
    expect(all.map((s) => [s.Name, s.Type, Object.keys(s.Arguments).sort()])).toEqual([
      // dev's models are in prod's retraining loop: the pipeline first assembles prod's production data
      [
        'AssembleProductionData',
        'Lambda',
        [
          'CategoricalFeatures',
          'DataWindowEnd',
          'DataWindowStart',
          'ExecutionId',
          'Features',
          'Label',
          'RetrainReason',
        ],
      ],
      ['Preprocess', 'Processing', processing],
      [
        'Train',
        'Training',
        [
          'AlgorithmSpecification',
          'HyperParameters',
          'InputDataConfig',
          'OutputDataConfig',
          'ResourceConfig',
          'RoleArn',
          'StoppingCondition',
        ],
      ],
      ['Evaluate', 'Processing', processing],
      ['CheckRmse', 'Condition', ['Conditions', 'ElseSteps', 'IfSteps']],
      [
        'Register',
        'RegisterModel',
        ['InferenceSpecification', 'ModelMetrics', 'ModelPackageDescription', 'ModelPackageGroupName'],
      ],
      ['RmseTooHigh', 'Fail', ['ErrorMessage']],
    ]);
    // A Lambda step's own fields (FunctionArn, OutputParameters) sit beside its Arguments, as the schema has them.
    const own = (step: Json) => (step.Type === 'Lambda' ? ['FunctionArn', 'OutputParameters'] : []);
    for (const step of all) {
      expect(
        Object.keys(step).filter(
          (k) =>
            ![
              'Name',
              'Type',
              'Arguments',
              'Description',
              'DisplayName',
              'DependsOn',
              'PropertyFiles',
              ...own(step),
            ].includes(k),
        ),
      ).toEqual([]);
    }
    // The gate reads the evaluation report through a property file, as the schema spells it.
    const evaluate = all.find((s) => s.Name === 'Evaluate')!;
    expect(evaluate.PropertyFiles).toEqual([
      { PropertyFileName: 'EvaluationReport', OutputName: 'evaluation', FilePath: 'evaluation.json' },
    ]);
    expect(all.find((s) => s.Name === 'CheckRmse')!.Arguments.Conditions).toEqual([
      {
        Type: 'LessThanOrEqualTo',
        LeftValue: {
          'Std:JsonGet': {
            PropertyFile: { Get: 'Steps.Evaluate.PropertyFiles.EvaluationReport' },
            Path: 'regression_metrics.rmse.value',
          },
        },
        RightValue: { Get: 'Parameters.MaxRmse' },
      },
    ]);
    expect(all.find((s) => s.Name === 'Train')!.Arguments.AlgorithmSpecification).toEqual({
      TrainingImage: expect.stringMatching(/\/sagemaker-xgboost:1\.7-1$/),
      TrainingInputMode: 'File',
    });
  });
});
