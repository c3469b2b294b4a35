import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { MaturityLevel } from '../../lib/maturity/maturity-level';
import { EnvironmentStage } from '../../lib/platform/environment-stage';
import { PlatformStack, PlatformStackProps } from '../../lib/platform/platform-stack';
import { MlopsValidationError } from '../../lib/private/errors';
import { ReleasePointer } from '../../lib/serving/release-pointer';
import { ServingMode } from '../../lib/serving/serving-slot';
import { ReferenceTarget } from '../../lib/training/reference-workload';

const ENV = { account: '111122223333', region: 'eu-west-1' };

type Props = Omit<PlatformStackProps, 'releasePointers'>;

/** A PlatformStack with a release pointer per model in its own stack, as EnvironmentStage builds them. */
function platformStack(props: Props, withPointers = true) {
  const app = new App();
  const release = new Stack(app, 'Release', { env: ENV });
  const names = [...new Set((props.models ?? [{ modelName: 'trip-duration' }]).map((m) => m.modelName))];
  const releasePointers =
    withPointers && props.level >= MaturityLevel.AUTOMATED_TRAINING
      ? Object.fromEntries(
          names.map((slotName) => [
            slotName,
            new ReleasePointer(release, `Pointer-${slotName}`, {
              environmentName: props.environmentName,
              slotName,
            }),
          ]),
        )
      : undefined;
  const stack = new PlatformStack(app, 'Platform', { env: ENV, ...props, releasePointers });
  return { stack, template: Template.fromStack(stack) };
}

describe('PlatformStack', () => {
  test('level 0 without a workspace holds the artifact store only', () => {
    // GIVEN level 0 and no workspace
    const { template } = platformStack({
      environmentName: 'lab',
      level: MaturityLevel.NO_MLOPS,
      workspace: false,
    });
    // THEN there is no Studio domain, no monitoring and no level-2 resource
    template.resourceCountIs('AWS::SageMaker::Domain', 0);
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.resourceCountIs('AWS::SageMaker::Pipeline', 0);
    template.resourceCountIs('AWS::S3::Bucket', 2);
    template.templateMatches({ Outputs: Match.absent() });
  });

  test('a workspace in an existing VPC given by ids, with a removal policy for its data', () => {
    const { template } = platformStack({
      environmentName: 'lab',
      level: MaturityLevel.NO_MLOPS,
      removalPolicy: RemovalPolicy.DESTROY,
      workspace: {
        vpcId: 'vpc-0123456789abcdef0',
        subnetIds: ['subnet-0123456789abcdef0'],
        userProfiles: ['alice'],
      },
    });
    template.hasResourceProperties('AWS::SageMaker::Domain', {
      VpcId: 'vpc-0123456789abcdef0',
      SubnetIds: ['subnet-0123456789abcdef0'],
    });
    template.hasResourceProperties('AWS::SageMaker::UserProfile', { UserProfileName: 'alice' });
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.hasResource('AWS::SageMaker::Domain', { DeletionPolicy: 'Delete' });
  });

  test('level 1 with a GitHub deploy role trusts the given provider instead of creating one', () => {
    const { stack, template } = platformStack({
      environmentName: 'ci',
      level: MaturityLevel.DEVOPS,
      workspace: false,
      gitHubDeployRole: {
        repository: 'octo/ml',
        branch: 'release/v2',
        providerArn: 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com',
      },
    });
    expect(stack.level1?.gitHubDeployRole?.subject).toBe('repo:octo/ml:ref:refs/heads/release/v2');
    template.resourceCountIs('AWS::IAM::OIDCProvider', 0);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: {
              Federated: 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com',
            },
          }),
        ],
      },
    });
    template.hasOutput('AlarmTopicArn', {});
  });

  test('level 2 serves, trains and names its endpoint as told', () => {
    // GIVEN a real-time slot, a weekly schedule and training on new data
    const { template } = platformStack({
      environmentName: 'prod',
      level: MaturityLevel.AUTOMATED_TRAINING,
      workspace: false,
      models: [
        {
          modelName: 'churn',
          servingMode: ServingMode.realTime({
            instanceType: 'ml.c5.xlarge',
            minInstances: 2,
            maxInstances: 3,
          }),
          endpointName: 'churn-prod',
          trainingSchedule: events.Schedule.expression('rate(7 days)'),
          triggerTrainingOnNewData: true,
        },
      ],
    });
    // THEN
    template.hasResourceProperties('AWS::SageMaker::Endpoint', { EndpointName: 'churn-prod' });
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ InstanceType: 'ml.c5.xlarge', InitialInstanceCount: 2 })],
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 2,
      MaxCapacity: 3,
    });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(7 days)' });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ source: ['aws.s3'] }),
    });
    expect(Object.keys(template.toJSON().Outputs).sort()).toEqual([
      'AlarmTopicArn',
      'MlflowTrackingArn',
      expect.stringMatching(/^OutputschurnModelPackageGroupName[0-9A-F]{8}$/),
      expect.stringMatching(/^OutputschurnServingEndpointName[0-9A-F]{8}$/),
      expect.stringMatching(/^OutputschurnTrainingPipelineName[0-9A-F]{8}$/),
    ]);
  });

  test('level 2 with two models: each its own pipeline, group, slot, folder and outputs', () => {
    const { stack, template } = platformStack({
      environmentName: 'dev',
      level: MaturityLevel.AUTOMATED_TRAINING,
      workspace: false,
      models: [
        { modelName: 'trip-duration' },
        { modelName: 'fare-amount', target: ReferenceTarget.FARE_AMOUNT, maxRmse: 4, maxFare: 300 },
      ],
    });
    template.resourceCountIs('AWS::SageMaker::Pipeline', 2);
    template.resourceCountIs('AWS::SageMaker::ModelPackageGroup', 2);
    template.resourceCountIs('AWS::SageMaker::Endpoint', 2);
    // One MLflow for the environment, one experiment (the pipeline's name) per model.
    template.resourceCountIs('AWS::SageMaker::MlflowApp', 1);
    const fare = stack.level2!.model('fare-amount');
    const rendered = stack.resolve(fare.workload.pipeline.definition.render()) as {
      Steps: Array<{ Name: string; Arguments: { AppSpecification: { ContainerArguments: string[] } } }>;
    };
    const preprocess = rendered.Steps.find((st) => st.Name === 'Preprocess')!;
    expect(preprocess.Arguments.AppSpecification.ContainerArguments).toEqual(
      expect.arrayContaining(['--target', 'fare_amount', '--max-fare', '300']),
    );
    // Each model's slot reads only its own pipeline's model artifacts.
    const slotPolicies = JSON.stringify(
      Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) =>
        id.includes('ServingModelRole'),
      ),
    );
    expect(slotPolicies).toContain('/models/fare-amount/*');
    expect(slotPolicies).toContain('/models/trip-duration/*');
    expect(slotPolicies).not.toContain('/models/*"');
    // Each model's pipeline writes under its own folders and is granted only those.
    const policies = JSON.stringify(
      Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) =>
        id.includes('TrainingPipelineExecutionRole'),
      ),
    );
    for (const folder of ['pipelines', 'models', 'reports']) {
      expect(policies).toContain(`/${folder}/fare-amount/*`);
      expect(policies).toContain(`/${folder}/trip-duration/*`);
      expect(policies).not.toContain(`/${folder}/*"`);
    }
    expect(Object.keys(template.toJSON().Outputs).filter((k) => k.startsWith('Outputs'))).toHaveLength(6);
    expect(() => stack.level2!.model('churn')).toThrow(
      /has no model 'churn': its models are 'trip-duration', 'fare-amount'/,
    );
  });

  test('level 2 by default: a serverless slot with a name from its path and no training trigger', () => {
    const { template } = platformStack({ environmentName: 'dev', level: MaturityLevel.AUTOMATED_TRAINING });
    template.hasResourceProperties('AWS::SageMaker::Endpoint', {
      // ServingSlot's default: from the construct path, no physical name chosen here.
      EndpointName: Match.stringLikeRegexp('^Platform-Level2-trip-duration-Serving-[0-9A-F]{8}$'),
    });
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ ServerlessConfig: Match.anyValue() })],
    });
    template.resourcePropertiesCountIs('AWS::Events::Rule', { ScheduleExpression: Match.anyValue() }, 0);
    template.resourcePropertiesCountIs(
      'AWS::Events::Rule',
      { EventPattern: Match.objectLike({ source: ['aws.s3'] }) },
      0,
    );
    template.resourceCountIs('AWS::SageMaker::Domain', 1);
  });

  describe('bad props fail with one error naming the prop, the value and the fix', () => {
    test.each<[string, Props, RegExp]>([
      [
        'environment name',
        { environmentName: 'Dev_1', level: MaturityLevel.NO_MLOPS },
        /environmentName 'Dev_1' is invalid: use 1-20 lower-case letters, digits and hyphens/,
      ],
      [
        'level',
        { environmentName: 'dev', level: 7 as MaturityLevel },
        /level '7' is invalid: use a MaturityLevel, an integer from 0 to 4/,
      ],
      [
        'removal policy',
        { environmentName: 'dev', level: MaturityLevel.NO_MLOPS, removalPolicy: RemovalPolicy.SNAPSHOT },
        /removalPolicy 'snapshot' is invalid: use RemovalPolicy.RETAIN or RemovalPolicy.DESTROY/,
      ],
      [
        'models below level 2',
        { environmentName: 'dev', level: MaturityLevel.DEVOPS, models: [{ modelName: 'churn' }] },
        /models '\[\{"modelName":"churn"\}\]' is invalid: it applies from level 2 \(Automated training\) and the level is 1/,
      ],
      [
        'no models at level 2',
        { environmentName: 'dev', level: MaturityLevel.AUTOMATED_TRAINING, models: [] },
        /models '\[\]' is invalid: give at least one model, or leave models out for one named 'trip-duration'/,
      ],
      [
        'a bad model name',
        {
          environmentName: 'dev',
          level: MaturityLevel.AUTOMATED_TRAINING,
          models: [{ modelName: 'Churn_1' }],
        },
        /models\[0\]\.modelName 'Churn_1' is invalid: use 1-32 lower-case letters, digits and single hyphens/,
      ],
      [
        'a repeated model name',
        {
          environmentName: 'dev',
          level: MaturityLevel.AUTOMATED_TRAINING,
          models: [{ modelName: 'churn' }, { modelName: 'churn' }],
        },
        /models\[1\]\.modelName 'churn' is invalid: give each model its own name/,
      ],
      [
        'model names equal without hyphens',
        {
          environmentName: 'dev',
          level: MaturityLevel.AUTOMATED_TRAINING,
          models: [{ modelName: 'ab-c' }, { modelName: 'a-bc' }],
        },
        /models\[1\]\.modelName 'a-bc' is invalid: it differs from model 'ab-c' only in hyphens, which logical ids drop/,
      ],
      [
        'max fare on the duration model',
        {
          environmentName: 'dev',
          level: MaturityLevel.AUTOMATED_TRAINING,
          models: [{ modelName: 'trip-duration', maxFare: 300 }],
        },
        /maxFare '300' is invalid: it applies to the fare_amount target only: remove it or set target/,
      ],
      [
        'deploy role at level 0',
        {
          environmentName: 'dev',
          level: MaturityLevel.NO_MLOPS,
          gitHubDeployRole: { repository: 'octo/ml' },
        },
        /gitHubDeployRole '\{"repository":"octo\/ml"\}' is invalid: it applies from level 1 \(DevOps\)/,
      ],
      [
        'VPC without subnets',
        {
          environmentName: 'dev',
          level: MaturityLevel.NO_MLOPS,
          workspace: { vpcId: 'vpc-0123456789abcdef0' },
        },
        /workspace\.vpcId 'vpc-0123456789abcdef0' is invalid: give vpcId and subnetIds together, or neither/,
      ],
      [
        'malformed subnet',
        {
          environmentName: 'dev',
          level: MaturityLevel.NO_MLOPS,
          workspace: { vpcId: 'vpc-0123456789abcdef0', subnetIds: ['sn-1'] },
        },
        /workspace\.subnetIds 'sn-1' is invalid: use subnet ids such as "subnet-0123456789abcdef0"/,
      ],
      [
        'provider ARN of another kind',
        {
          environmentName: 'dev',
          level: MaturityLevel.DEVOPS,
          gitHubDeployRole: { repository: 'octo/ml', providerArn: 'arn:aws:iam::111122223333:role/x' },
        },
        /gitHubDeployRole\.providerArn 'arn:aws:iam::111122223333:role\/x' is invalid/,
      ],
      [
        'a release source without a serving stack of its own',
        {
          environmentName: 'staging',
          level: MaturityLevel.AUTOMATED_TRAINING,
          releaseSource: { environmentName: 'dev', modelPackageGroupNames: { 'trip-duration': 'dev-group' } },
        },
        /releaseSource 'dev' is invalid: the release role may update only a stack that holds serving alone: give servingScope/,
      ],
      [
        'a release source naming a model the environment lacks',
        {
          environmentName: 'staging',
          level: MaturityLevel.AUTOMATED_TRAINING,
          releaseSource: { environmentName: 'dev', modelPackageGroupNames: { churn: 'dev-churn' } },
        },
        /releaseSource\.modelPackageGroupNames\['churn'\] 'dev-churn' is invalid: this environment has no model 'churn': use one of 'trip-duration'/,
      ],
      [
        'a release source at level 1',
        {
          environmentName: 'staging',
          level: MaturityLevel.DEVOPS,
          releaseSource: { environmentName: 'dev', modelPackageGroupNames: {} },
        },
        /releaseSource .* is invalid: it applies from level 2/,
      ],
      [
        'release automation to itself, twice, with an unknown model',
        {
          environmentName: 'dev',
          level: MaturityLevel.AUTOMATED_TRAINING,
          releaseAutomation: {
            targets: [
              { environmentName: 'dev', models: { 'trip-duration': { endpointName: 'e' } } },
              { environmentName: 'prod', models: { churn: { endpointName: 'e' } } },
              { environmentName: 'prod', models: { 'trip-duration': { endpointName: 'e' } } },
            ],
          },
        },
        /releaseAutomation\.targets\[0\]\.environmentName 'dev' is invalid: an environment does not release to itself.*releaseAutomation\.targets\[1\]\.models\['churn'\] .* this environment has no model 'churn' to release.*releaseAutomation\.targets 'prod' is invalid: name each environment once/s,
      ],
      [
        'release automation without targets',
        {
          environmentName: 'dev',
          level: MaturityLevel.AUTOMATED_TRAINING,
          releaseAutomation: { targets: [] },
        },
        /releaseAutomation\.targets '\[\]' is invalid: name at least one environment to release to/,
      ],
      [
        'an online gate without a release to the level-4 environment',
        {
          environmentName: 'dev',
          level: MaturityLevel.AUTOMATED_TRAINING,
          modelAutomation: { environmentName: 'prod', onlineGate: {} },
          releaseAutomation: {
            targets: [{ environmentName: 'staging', models: { 'trip-duration': { endpointName: 'e' } } }],
          },
        },
        /modelAutomation\.onlineGate 'prod' is invalid: the online gate tries each challenger as the shadow in 'prod' through the release workflow: give releaseAutomation a target 'prod'/,
      ],
      [
        'an online gate held by a manual approval, for a model not released there',
        {
          environmentName: 'dev',
          level: MaturityLevel.AUTOMATED_TRAINING,
          modelAutomation: { environmentName: 'prod', onlineGate: {} },
          releaseAutomation: {
            targets: [{ environmentName: 'prod', manualApproval: true, models: {} }],
          },
        },
        /modelAutomation\.onlineGate 'prod' is invalid: a person approving each release to 'prod' .*would hold every online trial.*modelAutomation\.onlineGate 'trip-duration' is invalid: the release automation does not release model 'trip-duration' to 'prod'/s,
      ],
      [
        'an online gate whose target skips the trials',
        {
          environmentName: 'dev',
          level: MaturityLevel.AUTOMATED_TRAINING,
          modelAutomation: { environmentName: 'prod', onlineGate: {} },
          releaseAutomation: {
            targets: [
              {
                environmentName: 'prod',
                models: { 'trip-duration': { endpointName: 'e', onlineTrials: false } },
              },
            ],
          },
        },
        /releaseAutomation\.targets\.prod\.models\.trip-duration\.onlineTrials/,
      ],
    ])('%s', (_case, props, message) => {
      expect(() => platformStack(props)).toThrow(MlopsValidationError);
      expect(() => platformStack(props)).toThrow(message);
    });

    test('level 2 without a release pointer', () => {
      expect(() =>
        platformStack({ environmentName: 'dev', level: MaturityLevel.AUTOMATED_TRAINING }, false),
      ).toThrow(
        /releasePointers\['trip-duration'\] \(undefined\) is invalid: environment 'dev' is at level 2: create a ReleasePointer for model 'trip-duration'/,
      );
    });

    test('a pointer for no model', () => {
      const app = new App();
      const release = new Stack(app, 'Release', { env: ENV });
      const pointer = (slotName: string) =>
        new ReleasePointer(release, slotName, { environmentName: 'dev', slotName });
      expect(
        () =>
          new PlatformStack(app, 'Platform', {
            env: ENV,
            environmentName: 'dev',
            level: MaturityLevel.AUTOMATED_TRAINING,
            releasePointers: { 'trip-duration': pointer('trip-duration'), churn: pointer('churn') },
          }),
      ).toThrow(
        /releasePointers\['churn'\] '\/mlops\/dev\/serving\/churn\/model-package-arn' is invalid: no model is named 'churn'/,
      );
    });

    test('several problems come in one error', () => {
      expect(() =>
        platformStack({ environmentName: 'Dev', level: MaturityLevel.NO_MLOPS, models: [] }),
      ).toThrow(/PlatformStack 'Platform':\n\s+- environmentName 'Dev' .*\n\s+- models '\[\]' /);
    });
  });
});

describe('EnvironmentStage', () => {
  test('level 2: a Release stack with the pointer, the platform stack, then the serving stack reading the pointer', () => {
    // GIVEN
    const app = new App();
    const stage = new EnvironmentStage(app, 'staging', {
      env: ENV,
      environmentName: 'staging',
      level: MaturityLevel.AUTOMATED_TRAINING,
      gitHubDeployRole: { repository: 'octo/ml' },
    });
    // THEN
    expect(stage.platform.stackName).toBe('staging-Platform');
    expect(stage.release?.stackName).toBe('staging-Release');
    expect(stage.platform.dependencies.map((s) => s.stackName)).toEqual([]);
    // The serving stack reads the pointer and runs the models as the platform's model roles.
    expect(stage.serving?.stackName).toBe('staging-Serving');
    const serving = Template.fromStack(stage.serving!);
    serving.resourceCountIs('AWS::SageMaker::Endpoint', 1);
    expect(
      Object.values(serving.toJSON().Resources as Record<string, { Type: string }>).map((r) => r.Type),
    ).not.toContain('AWS::IAM::Role');
    // Known once synthesis has resolved the references.
    expect(stage.serving!.dependencies.map((s) => s.stackName).sort()).toEqual([
      'staging-Platform',
      'staging-Release',
    ]);
    Template.fromStack(stage.release!).hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/mlops/staging/serving/trip-duration/model-package-arn',
      Value: 'none',
    });
    expect(Object.keys(stage.releasePointers)).toEqual(['trip-duration']);
    expect([stage.platform.account, stage.platform.region]).toEqual(['111122223333', 'eu-west-1']);
    expect(stage.contract.declaredLevel).toBe(2);
  });

  test('below level 2: no Release stack, and the options reach the platform stack', () => {
    const stage = new EnvironmentStage(new App(), 'lab', {
      environmentName: 'lab',
      level: MaturityLevel.DEVOPS,
      workspace: { userProfiles: ['bob'] },
      gitHubDeployRole: { repository: 'octo/ml', gitHubEnvironment: 'lab' },
    });
    expect(stage.release).toBeUndefined();
    expect(stage.node.children.map((c) => c.node.id)).toEqual(['Platform']);
    expect(stage.platform.level1?.gitHubDeployRole?.subject).toBe('repo:octo/ml:environment:lab');
    Template.fromStack(stage.platform).hasResourceProperties('AWS::SageMaker::UserProfile', {
      UserProfileName: 'bob',
    });
  });
});
