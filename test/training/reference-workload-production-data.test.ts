import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ModelRegistry } from '../../lib/registry/model-registry';
import { ArtifactStore } from '../../lib/storage/artifact-store';
import {
  REFERENCE_PIPELINE,
  ReferenceTarget,
  ReferenceWorkload,
  ReferenceWorkloadProps,
} from '../../lib/training/reference-workload';
import { RedundantDependsOnLintAcknowledgement } from '../../lib/verification/redundant-depends-on';
import { cfnLint, formatCfnLint } from '../support/cfn-lint';
import { formatFindings, nagFindings } from '../support/nag';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const PARAMETER = '/mlops/prod/automation/trip-duration/production-data';
const PRODUCTION_DATA = {
  locationParameterName: PARAMETER,
  sourceEnvironment: 'dev',
  modelName: 'trip-duration',
};

/** A workload in a stack of its own; bundling skipped, it is not the subject. */
function workload(props: Partial<ReferenceWorkloadProps> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  // As the platform app does: aws-cdk-lib's own DependsOn that a GetAtt already implies (W3005).
  Aspects.of(app).add(new RedundantDependsOnLintAcknowledgement());
  const stack = new Stack(app, 'Ml', { env: { account: '123456789012', region: 'eu-west-1' } });
  const store = new ArtifactStore(stack, 'Store');
  const registry = new ModelRegistry(stack, 'Registry', { modelPackageGroupName: 'taxi-duration' });
  const construct = new ReferenceWorkload(stack, 'Workload', {
    artifactStore: store,
    modelRegistry: registry,
    artifactFolder: 'trip-duration',
    ...props,
  });
  const definition = stack.resolve(construct.pipeline.definition.render()) as Json;
  return { app, stack, construct, definition };
}

const step = (definition: Json, name: string) => definition.Steps.find((s: Json) => s.Name === name);
const names = REFERENCE_PIPELINE.steps;

describe('ReferenceWorkload pipeline parameters for retraining', () => {
  const { definition } = workload();

  test('DataWindowStart and DataWindowEnd default to no window, RetrainReason to manual', () => {
    expect(definition.Parameters).toEqual(
      expect.arrayContaining([
        { Name: 'DataWindowStart', Type: 'String', DefaultValue: '' },
        { Name: 'DataWindowEnd', Type: 'String', DefaultValue: '' },
        { Name: 'RetrainReason', Type: 'String', DefaultValue: 'manual' },
      ]),
    );
  });

  test('without productionData: no Lambda step, no function, preprocessing reads the trip records alone', () => {
    const built = workload();
    expect(built.definition.Steps.map((s: Json) => s.Type)).toEqual([
      'Processing',
      'Training',
      'Processing',
      'Condition',
    ]);
    const preprocess = step(built.definition, names.preprocess).Arguments;
    expect(preprocess.ProcessingInputs.map((i: Json) => i.InputName)).toEqual(['code', 'data']);
    expect(preprocess.AppSpecification.ContainerArguments).not.toContain('--production');
    Template.fromStack(built.stack).resourceCountIs('AWS::Lambda::Function', 0);
    expect(built.construct.productionDataFunction).toBeUndefined();
  });
});

describe('ReferenceWorkload with productionData', () => {
  let built: ReturnType<typeof workload>;
  let template: Template;
  let functionLogicalId: string;
  beforeAll(() => {
    built = workload({ productionData: PRODUCTION_DATA });
    template = Template.fromStack(built.stack);
    functionLogicalId = built.stack.getLogicalId(
      built.construct.productionDataFunction!.node.defaultChild as never,
    );
  });

  test('the Lambda step runs first, with the window, the reason and the training layout', () => {
    const { definition } = built;
    expect(definition.Steps.map((s: Json) => [s.Name, s.Type])[0]).toEqual([names.productionData, 'Lambda']);
    const lambdaStep = definition.Steps[0];
    expect(lambdaStep.FunctionArn).toEqual({ 'Fn::GetAtt': [functionLogicalId, 'Arn'] });
    expect(lambdaStep.Arguments).toEqual({
      DataWindowStart: { Get: 'Parameters.DataWindowStart' },
      DataWindowEnd: { Get: 'Parameters.DataWindowEnd' },
      RetrainReason: { Get: 'Parameters.RetrainReason' },
      ExecutionId: { Get: 'Execution.PipelineExecutionId' },
      // ml/preprocess.py FEATURES, the model's input order.
      Label: 'duration',
      Features: 'trip_distance,pickup_hour,pickup_weekday,PULocationID,DOLocationID',
      CategoricalFeatures: 'PULocationID,DOLocationID',
    });
    expect(lambdaStep.OutputParameters).toEqual([
      { OutputName: 'ProductionDataUrl', OutputType: 'String' },
      { OutputName: 'JoinedRows', OutputType: 'Integer' },
      { OutputName: 'UnmatchedRequests', OutputType: 'Integer' },
      { OutputName: 'MalformedLines', OutputType: 'Integer' },
    ]);
  });

  test("preprocessing reads the step's CSV as a second data input and is told where it is", () => {
    const preprocess = step(built.definition, names.preprocess).Arguments;
    expect(preprocess.ProcessingInputs.slice(1)).toEqual([
      expect.objectContaining({ InputName: 'data' }),
      {
        InputName: 'production',
        S3Input: {
          S3Uri: { Get: `Steps.${names.productionData}.OutputParameters['ProductionDataUrl']` },
          LocalPath: '/opt/ml/processing/input/production',
          S3DataType: 'S3Prefix',
          S3InputMode: 'File',
          S3DataDistributionType: 'FullyReplicated',
        },
      },
    ]);
    expect(preprocess.AppSpecification.ContainerArguments.slice(-2)).toEqual([
      '--production',
      '/opt/ml/processing/input/production',
    ]);
  });

  test('the fare model passes its own label and feature order', () => {
    const fare = workload({ target: ReferenceTarget.FARE_AMOUNT, productionData: PRODUCTION_DATA });
    expect(fare.definition.Steps[0].Arguments).toMatchObject({
      Label: 'fare_amount',
      Features: 'trip_distance,pickup_hour,pickup_weekday,duration,PULocationID,DOLocationID',
    });
  });

  test('the function: the name-agreed role, its parameter, its output prefix, ten minutes at most', () => {
    template.hasResourceProperties('AWS::IAM::Role', { RoleName: 'mlops-dev-trip-duration-production-data' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 600,
      Environment: {
        Variables: Match.objectLike({
          PRODUCTION_DATA_PARAMETER_NAME: PARAMETER,
          OUTPUT_PREFIX: 'pipelines/trip-duration/production-data/',
          MODEL_NAME: 'trip-duration',
        }),
      },
    });
    expect(built.construct.productionDataRole?.roleName).toBeDefined();
  });

  test('least privilege: GetParameter on the one parameter, writes under its own prefix only', () => {
    const roleId = built.stack.getLogicalId(built.construct.productionDataRole!.node.defaultChild as never);
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: roleId }] },
    });
    const statements = Object.values(policies).flatMap((p: Json) => p.Properties.PolicyDocument.Statement);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: 'ssm:GetParameter',
        Effect: 'Allow',
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':ssm:eu-west-1:123456789012:parameter/mlops/prod/automation/trip-duration/production-data',
            ],
          ],
        },
      }),
    );
    const s3Resources = statements
      .filter((s: Json) => [s.Action].flat().some((a: string) => a.startsWith('s3:')))
      .flatMap((s: Json) => [s.Resource].flat());
    const objectPatterns = JSON.stringify(s3Resources);
    expect(objectPatterns).toContain('/pipelines/trip-duration/production-data/*');
    // Nothing else of the store: the data, the models, the other pipelines' outputs.
    expect(objectPatterns).not.toMatch(/\/(data|models)\/|pipelines\/\*|pipelines\/trip-duration\/\*/);
    // Nor any read of S3: the level-4 environment grants reading its data to the role's name.
    const actions = statements.flatMap((s: Json) => [s.Action].flat());
    expect(actions.filter((a: string) => /^s3:Get|^s3:List/.test(a))).toEqual([]);
  });

  test("the pipeline's role may invoke the function", () => {
    const pipelineRoleId = built.stack.getLogicalId(built.construct.pipeline.role.node.defaultChild as never);
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: pipelineRoleId }] },
    });
    const statements = Object.values(policies).flatMap((p: Json) => p.Properties.PolicyDocument.Statement);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: 'lambda:InvokeFunction',
        Resource: expect.arrayContaining([{ 'Fn::GetAtt': [functionLogicalId, 'Arn'] }]),
      }),
    );
  });

  test("cfn-lint, with AWS's resource schemas, finds nothing", () => {
    const assembly = built.app.synth();
    const { matches, stderr } = cfnLint(['--', assembly.getStackByName('Ml').templateFullPath]);
    expect(stderr).toBe('');
    expect(formatCfnLint(matches)).toEqual([]);
  });

  test('no cdk-nag findings', () => {
    const { app } = workload({ productionData: PRODUCTION_DATA });
    expect(formatFindings(nagFindings(app))).toBe('');
  });

  test.each([
    [
      { locationParameterName: 'mlops/prod' },
      /productionData\.locationParameterName 'mlops\/prod' is invalid: give the SSM parameter's full name/,
    ],
    [
      { sourceEnvironment: 'dev env' },
      /productionData\.sourceEnvironment 'dev env' is invalid: use letters, digits and hyphens/,
    ],
    [{ modelName: '' }, /productionData\.modelName '' is invalid/],
  ])('invalid productionData %p fails at synth naming the prop', (override, message) => {
    expect(() => workload({ productionData: { ...PRODUCTION_DATA, ...override } })).toThrow(message);
  });
});
