import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ModelAutomation, ModelAutomationProps } from '../../lib/automation/model-automation';
import { MlopsValidationError } from '../../lib/private/errors';
import { ModelRegistry } from '../../lib/registry/model-registry';
import { ReleasePointer } from '../../lib/serving/release-pointer';
import { ArtifactStore } from '../../lib/storage/artifact-store';
import { PipelineDefinition, PipelineParameter, TrainingStep } from '../../lib/training/pipeline-definition';
import { TrainingPipeline } from '../../lib/training/training-pipeline';
import { formatFindings, nagFindings } from '../support/nag';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const ENV = { account: '111111111111', region: 'eu-west-1' };
const CHAMPION = '/mlops/prod/serving/taxi/model-package-arn';

/** A source stack with a pipeline declaring `parameters`, and a ModelAutomation over it. */
function build(parameters: string[], props: Partial<ModelAutomationProps> = {}) {
  // Bundling is not the subject here: the CLI's bundling-stacks context skips it.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Source', { env: ENV });
  const store = new ArtifactStore(stack, 'Store');
  const registry = new ModelRegistry(stack, 'Registry', { modelPackageGroupName: 'taxi-group' });
  const declared = parameters.map((name) => PipelineParameter.string(name, ''));
  const pipeline = new TrainingPipeline(stack, 'Training', {
    artifactStore: store,
    modelRegistry: registry,
    pipelineName: 'taxi-training',
    definition: ({ role }) =>
      new PipelineDefinition({
        name: 'taxi',
        parameters: declared,
        steps: [new TrainingStep('Train', { arguments: { RoleArn: role.roleArn } })],
      }),
  });
  const topic = new sns.Topic(stack, 'Topic', { enforceSSL: true });
  const automation = new ModelAutomation(stack, 'Automation', {
    modelName: 'taxi',
    environmentName: 'dev',
    pipeline,
    modelRegistry: registry,
    artifactStore: store,
    championPointer: ReleasePointer.fromParameterName(stack, 'Champion', CHAMPION),
    watchedAlarmNames: ['mlops-prod-taxi-drifted-feature-share', 'mlops-prod-taxi-model-quality'],
    notificationTopic: topic,
    schedule: events.Schedule.rate(Duration.days(7)),
    cooldown: Duration.hours(12),
    maxStartsPerDay: 3,
    dataWindow: Duration.days(14),
    marginPercent: 2,
    thresholds: { 'regression_metrics.rmse': { max: 6 } },
    ...props,
  });
  return { app, stack, automation };
}

/** The environment of the function named `name`, or with the description starting with `description`. */
function functionEnv(template: Template, match: (props: Json) => boolean): Record<string, string> {
  const fns = Object.values(template.findResources('AWS::Lambda::Function')).filter((r: Json) =>
    match(r.Properties),
  );
  expect(fns).toHaveLength(1);
  return (fns[0] as Json).Properties.Environment.Variables;
}

/** Every statement of the policies attached to the role of the function matching `match`. */
function statementsOf(template: Template, match: (props: Json) => boolean): Json[] {
  const resources = template.toJSON().Resources as Record<string, Json>;
  const fn = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::Function' && match(r.Properties));
  const roleId = fn.Properties.Role['Fn::GetAtt'][0];
  return Object.values(resources)
    .filter(
      (r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((ref: Json) => ref.Ref === roleId),
    )
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

/** An ARN as CDK renders it in a stack with an explicit environment: the partition stays a reference. */
const arn = (rest: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, rest]] });

const isTrigger = (p: Json) => p.FunctionName === 'mlops-dev-taxi-retrain-trigger';
const isGate = (p: Json) => p.Environment?.Variables?.CHAMPION_POINTER_NAME !== undefined;

describe('ModelAutomation', () => {
  // GIVEN a pipeline that declares the window and the reason, and one that declares none of them
  let template: Template;
  let bare: Template;
  beforeAll(() => {
    template = Template.fromStack(
      build(['InputDataUrl', 'DataWindowStart', 'DataWindowEnd', 'RetrainReason']).stack,
    );
    bare = Template.fromStack(build(['InputDataUrl']).stack);
  });

  test('the pause switch is an SSM String parameter under its shared name, created active', () => {
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/mlops/dev/automation/taxi/retraining',
      Type: 'String',
      Value: 'active',
    });
  });

  test('the trigger is named for the level-4 side and configured from the props', () => {
    const env = functionEnv(template, isTrigger);
    expect(env).toMatchObject({
      PIPELINE_NAME: 'taxi-training',
      PAUSE_PARAMETER_NAME: '/mlops/dev/automation/taxi/retraining',
      MODEL_NAME: 'taxi',
      COOLDOWN_MINUTES: '720',
      MAX_STARTS_PER_DAY: '3',
      DATA_WINDOW_DAYS: '14',
      POWERTOOLS_METRICS_NAMESPACE: 'cdk-mlops-maturity/Automation',
    });
    expect(JSON.parse(env.WATCHED_ALARMS)).toEqual([
      'mlops-prod-taxi-drifted-feature-share',
      'mlops-prod-taxi-model-quality',
    ]);
    expect(JSON.parse(env.PIPELINE_PARAMETERS)).toEqual({
      DataWindowStart: '{windowStart}',
      DataWindowEnd: '{windowEnd}',
      RetrainReason: '{reason}',
    });
  });

  test('the trigger passes only the parameters the pipeline declares: SageMaker refuses the others', () => {
    expect(JSON.parse(functionEnv(bare, isTrigger).PIPELINE_PARAMETERS)).toEqual({});
  });

  test('the trigger may start and list executions of its pipeline, and read its pause switch, nothing more', () => {
    // Its own log group and dead-letter queue aside
    const statements = statementsOf(template, isTrigger).filter(
      (s) => !/^(logs|sqs):/.test([s.Action].flat()[0]),
    );
    expect(statements).toEqual([
      expect.objectContaining({
        Action: ['sagemaker:StartPipelineExecution', 'sagemaker:ListPipelineExecutions'],
        Resource: arn(':sagemaker:eu-west-1:111111111111:pipeline/taxi-training'),
      }),
      expect.objectContaining({
        Action: 'ssm:GetParameter',
        Resource: expect.objectContaining({ 'Fn::Join': expect.anything() }),
      }),
    ]);
    expect(JSON.stringify(statements[1].Resource)).toContain('AutomationPauseSwitch');
  });

  test('the schedule invokes the trigger, with retries and the dead-letter queue', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(7 days)',
      Targets: [
        Match.objectLike({
          RetryPolicy: { MaximumRetryAttempts: 4 },
          DeadLetterConfig: { Arn: Match.anyValue() },
        }),
      ],
    });
  });

  test('the gate runs one at a time, configured with the champion pointer and the rules', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 1,
      Environment: {
        Variables: Match.objectLike({
          MODEL_PACKAGE_GROUP_NAME: 'taxi-group',
          CHAMPION_POINTER_NAME: CHAMPION,
          PRIMARY_METRIC: 'regression_metrics.rmse',
          HIGHER_IS_BETTER: 'false',
          MARGIN_PERCENT: '2',
          THRESHOLDS: '{"regression_metrics.rmse":{"max":6}}',
        }),
      },
    });
  });

  test("the gate may describe and decide the group's packages, read the pointer and the reports", () => {
    const statements = statementsOf(template, isGate);
    const actions = (s: Json) => [s.Action].flat();
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: ['sagemaker:UpdateModelPackage', 'sagemaker:DescribeModelPackage'],
        Resource: arn(':sagemaker:eu-west-1:111111111111:model-package/taxi-group/*'),
      }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: 'ssm:GetParameter',
        Resource: arn(`:ssm:eu-west-1:111111111111:parameter${CHAMPION}`),
      }),
    );
    const s3 = statements.find((s) => actions(s).includes('s3:GetObject*'));
    expect(actions(s3)).toEqual(expect.arrayContaining(['s3:GetObject*', 's3:List*']));
    expect(JSON.stringify(s3.Resource)).toContain('/pipelines/taxi/*');
    expect(statements.some((s) => actions(s).includes('kms:Decrypt'))).toBe(true);
    // Nothing broader: no approval of other groups, no pipeline or parameter writes
    expect(
      statements.flatMap(actions).filter((a: string) => /^(sagemaker:(Start|Create|Delete)|ssm:Put)/.test(a)),
    ).toEqual([]);
  });

  test('pending packages of the group invoke the gate, with retries and its dead-letter queue', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.sagemaker'],
        'detail-type': ['SageMaker Model Package State Change'],
        detail: { ModelPackageGroupName: ['taxi-group'], ModelApprovalStatus: ['PendingManualApproval'] },
      },
      Targets: [
        Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 4 }, DeadLetterConfig: Match.anyValue() }),
      ],
    });
  });

  test('every verdict notifies the topic with the status, the package and the description', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule')).filter((r: Json) =>
      r.Properties.EventPattern?.detail?.ModelApprovalStatus?.includes('Approved'),
    ) as Json[];
    expect(rules).toHaveLength(1);
    expect(rules[0].Properties.EventPattern.detail.ModelApprovalStatus).toEqual(['Approved', 'Rejected']);
    const transformer = rules[0].Properties.Targets[0].InputTransformer;
    expect(transformer.InputPathsMap).toMatchObject({
      'detail-ModelPackageArn': '$.detail.ModelPackageArn',
      'detail-ModelApprovalStatus': '$.detail.ModelApprovalStatus',
      'detail-ApprovalDescription': '$.detail.ApprovalDescription',
    });
    expect(transformer.InputTemplate).toContain('is <detail-ModelApprovalStatus>');
  });

  test('each handler has an encrypted, TLS-only dead-letter queue and an alarm on its failure metric', () => {
    const queues = template.findResources('AWS::SQS::Queue');
    expect(Object.values(queues).map((q: Json) => q.Properties.SqsManagedSseEnabled)).toEqual([true, true]);
    for (const fn of [isTrigger, isGate]) {
      const [resource] = Object.values(template.findResources('AWS::Lambda::Function')).filter((r: Json) =>
        fn(r.Properties),
      ) as Json[];
      expect(resource.Properties.DeadLetterConfig.TargetArn).toBeDefined();
    }
    for (const metric of ['TriggerFailures', 'GateFailures']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metric,
        Namespace: 'cdk-mlops-maturity/Automation',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: Match.stringLikeRegexp('^Topic') }],
      });
    }
    template.resourceCountIs('AWS::SQS::QueuePolicy', 2);
  });

  test('metric methods name the dimensions the handlers publish', () => {
    const { automation } = build(['InputDataUrl']);
    expect(automation.metricPackagesRejected().dimensions).toEqual({
      service: 'approval-gate-taxi',
      ModelName: 'taxi',
    });
    expect(automation.metricRetrainsStarted({ period: Duration.hours(1) }).period.toHours()).toBe(1);
  });

  test('cdk-nag AwsSolutions has no unacknowledged finding', () => {
    const findings = nagFindings(build(['InputDataUrl']).app).filter((f) => f.path.includes('/Automation'));
    expect(formatFindings(findings)).toBe('');
  });

  test('bad props fail at synth, each naming the prop, the value and the fix', () => {
    let message = '';
    try {
      build(['InputDataUrl'], {
        modelName: 'Taxi',
        cooldown: Duration.seconds(90),
        maxStartsPerDay: 0,
        dataWindow: Duration.days(5000),
        marginPercent: 100,
        primaryMetric: 'rmse value',
        thresholds: { 'regression_metrics.rmse': { min: 7, max: 6 } },
      });
    } catch (error) {
      expect(error).toBeInstanceOf(MlopsValidationError);
      message = (error as Error).message;
    }
    expect(message).toMatch(/modelName 'Taxi' is invalid: use 1-32 lower-case/);
    expect(message).toMatch(/cooldown .* is invalid: use a whole number of minutes/);
    expect(message).toMatch(/maxStartsPerDay '0' is invalid: use a whole number from 1 to 1000/);
    expect(message).toMatch(/dataWindow .* is invalid: use 1 to 3650 days/);
    expect(message).toMatch(/marginPercent '100' is invalid/);
    expect(message).toMatch(/primaryMetric 'rmse value' is invalid: use a dotted path/);
    expect(message).toMatch(/thresholds\['regression_metrics.rmse'\] .* min is above max/);
  });
});
