import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { MlopsValidationError } from '../../lib/private/errors';
import { ModelRegistry } from '../../lib/registry/model-registry';
import { ArtifactStore } from '../../lib/storage/artifact-store';
import { PipelineDefinition, PipelineParameter, TrainingStep } from '../../lib/training/pipeline-definition';
import { TrainingPipeline, TrainingPipelineProps } from '../../lib/training/training-pipeline';
import { formatFindings, nagFindings } from '../support/nag';

function pipelineStack(props: Partial<TrainingPipelineProps> = {}) {
  const app = new App();
  const stack = new Stack(app, 'Ml');
  const store = new ArtifactStore(stack, 'Store');
  const registry = new ModelRegistry(stack, 'Registry', { modelPackageGroupName: 'taxi-duration' });
  const epochs = PipelineParameter.integer('Epochs', 10);
  const pipeline = new TrainingPipeline(stack, 'Training', {
    artifactStore: store,
    modelRegistry: registry,
    definition: ({ role }) =>
      new PipelineDefinition({
        name: 'taxi',
        parameters: [epochs],
        steps: [
          new TrainingStep('Train', {
            arguments: { RoleArn: role.roleArn, HyperParameters: { num_round: epochs.ref } },
          }),
        ],
      }),
    ...props,
  });
  return { app, stack, store, pipeline, template: () => Template.fromStack(stack) };
}

describe('TrainingPipeline', () => {
  test('renders the validated definition, with tokens resolved, into the pipeline', () => {
    const { stack, pipeline, template } = pipelineStack();
    const [resource] = Object.values(template().findResources('AWS::SageMaker::Pipeline')) as Array<{
      Properties: {
        PipelineName: string;
        RoleArn: unknown;
        PipelineDefinition: { PipelineDefinitionBody: { 'Fn::Join': [string, unknown[]] } };
      };
    }>;
    expect(resource.Properties.PipelineName).toBe(pipeline.pipelineName);
    const parts = resource.Properties.PipelineDefinition.PipelineDefinitionBody['Fn::Join'][1];
    const body = parts.map((p) => (typeof p === 'string' ? p : '"ROLE"')).join('');
    expect(JSON.parse(body.replace('""ROLE""', '"ROLE"'))).toMatchObject({
      Version: '2020-12-01',
      Parameters: [{ Name: 'Epochs', Type: 'Integer', DefaultValue: 10 }],
      Steps: [
        {
          Name: 'Train',
          Type: 'Training',
          Arguments: { HyperParameters: { num_round: { Get: 'Parameters.Epochs' } } },
        },
      ],
    });
    expect(parts).toContainEqual({
      'Fn::GetAtt': [stack.getLogicalId(pipeline.role.node.defaultChild as iam.CfnRole), 'Arn'],
    });
  });

  test("the role reaches the store's prefixes, the registry and its own jobs only", () => {
    const policy = JSON.stringify(pipelineStack().template().findResources('AWS::IAM::Policy'));
    for (const fragment of [
      '/data/*',
      '/pipelines/*',
      '/models/*',
      '/reports/*',
      'model-package/taxi-duration/*',
      ':processing-job/pipelines-*',
      ':training-job/pipelines-*',
      'sagemaker:CreateModelPackage',
    ]) {
      expect(policy).toContain(fragment);
    }
    expect(policy).toContain('"iam:PassedToService":"sagemaker.amazonaws.com"');
    expect(policy).not.toContain('"Resource":"*"');
  });

  test('a schedule starts the pipeline through EventBridge with its own role', () => {
    const { template, stack, pipeline } = pipelineStack({ schedule: events.Schedule.rate(Duration.days(7)) });
    template().hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(7 days)',
      Targets: [
        { Id: 'Pipeline', Arn: Match.anyValue(), RoleArn: Match.anyValue(), SageMakerPipelineParameters: {} },
      ],
    });
    expect(JSON.stringify(stack.resolve(pipeline.pipelineArn))).toContain(
      `:pipeline/${pipeline.pipelineName.toLowerCase()}`,
    );
    template().hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [Match.objectLike({ Action: 'sagemaker:StartPipelineExecution' })] },
    });
  });

  test('new data under data/ starts the pipeline, with S3 EventBridge notifications turned on', () => {
    const { template } = pipelineStack({ triggerOnNewData: true });
    template().hasResourceProperties('AWS::S3::Bucket', {
      NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } },
    });
    template().hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: { object: { key: [{ prefix: 'data/' }] } },
      },
    });
    template().resourceCountIs('Custom::S3BucketNotifications', 0);
  });

  test('invalid props fail naming the prop, value and fix', () => {
    expect(() => pipelineStack({ pipelineName: 'bad_name' })).toThrow(MlopsValidationError);
    expect(() => pipelineStack({ pipelineName: 'bad_name' })).toThrow(/pipelineName 'bad_name' is invalid/);
    const stack = new Stack(new App(), 'S');
    expect(
      () =>
        new TrainingPipeline(stack, 'T', {
          artifactStore: ArtifactStore.fromBucketName(stack, 'Imported', 'shared'),
          triggerOnNewData: true,
          definition: () =>
            new PipelineDefinition({ name: 'p', steps: [new TrainingStep('T', { arguments: {} })] }),
        }),
    ).toThrow(/triggerOnNewData 'true' is invalid: it needs S3 EventBridge notifications on the bucket/);
  });

  test('a broken definition fails synth naming the step', () => {
    expect(() =>
      pipelineStack({
        definition: () =>
          new PipelineDefinition({
            name: 'p',
            steps: [new TrainingStep('Train', { arguments: { X: PipelineParameter.float('Missing').ref } })],
          }),
      }),
    ).toThrow(/step 'Train' Arguments refer to parameter 'Missing', which is not defined/);
  });

  describe('a definition above the 1 MB inline limit is stored in the artifact store', () => {
    // GIVEN a definition of about 1.1 MB (a large inline value, as a generated script would be)
    const big = (app: App) => {
      const stack = new Stack(app, 'Big');
      const store = new ArtifactStore(stack, 'Store');
      const pipeline = new TrainingPipeline(stack, 'Training', {
        artifactStore: store,
        definition: ({ role }) =>
          new PipelineDefinition({
            name: 'big',
            steps: [
              new TrainingStep('Train', {
                arguments: { RoleArn: role.roleArn, HyperParameters: { blob: 'x'.repeat(1_100_000) } },
              }),
            ],
          }),
      });
      return { stack, store, pipeline };
    };

    test('the pipeline points at a content-named object that a BucketDeployment writes first', () => {
      const { stack, store, pipeline } = big(new App());
      const template = Template.fromStack(stack);
      const [[, resource]] = Object.entries(template.findResources('AWS::SageMaker::Pipeline')) as Array<
        [
          string,
          {
            Properties: { PipelineDefinition: Record<string, { Bucket: unknown; ObjectKey: string }> };
            DependsOn: string[];
          },
        ]
      >;
      const location = resource.Properties.PipelineDefinition.PipelineDefinitionS3Location;
      expect(resource.Properties.PipelineDefinition.PipelineDefinitionBody).toBeUndefined();
      expect(location.Bucket).toEqual(stack.resolve(store.bucketName));
      expect(location.ObjectKey).toMatch(
        new RegExp(`^pipelines/definitions/${pipeline.pipelineName}-[0-9a-f]{16}\\.json$`),
      );
      const [deploymentId] = Object.keys(template.findResources('Custom::CDKBucketDeployment'));
      expect(resource.DependsOn).toEqual(expect.arrayContaining([deploymentId]));
      template.hasResourceProperties('Custom::CDKBucketDeployment', { Prune: false, RetainOnDelete: true });
    });

    test('the object key changes with the definition, so CloudFormation updates the pipeline', () => {
      const key = (size: number) => {
        const stack = new Stack(new App(), 'S');
        new TrainingPipeline(stack, 'Training', {
          artifactStore: new ArtifactStore(stack, 'Store'),
          storeDefinitionInS3: true,
          definition: () =>
            new PipelineDefinition({
              name: 'p',
              steps: [new TrainingStep('Train', { arguments: { HyperParameters: { size: String(size) } } })],
            }),
        });
        const [resource] = Object.values(
          Template.fromStack(stack).findResources('AWS::SageMaker::Pipeline'),
        ) as Array<{
          Properties: { PipelineDefinition: { PipelineDefinitionS3Location: { ObjectKey: string } } };
        }>;
        return resource.Properties.PipelineDefinition.PipelineDefinitionS3Location.ObjectKey;
      };
      expect(key(1)).toBe(key(1));
      expect(key(1)).not.toBe(key(2));
    });

    test('has zero unacknowledged cdk-nag findings', () => {
      const app = new App();
      big(app);
      expect(formatFindings(nagFindings(app))).toBe('');
    });
  });

  test('has zero unacknowledged cdk-nag findings with both triggers', () => {
    const { app } = pipelineStack({
      schedule: events.Schedule.rate(Duration.days(1)),
      triggerOnNewData: true,
    });
    expect(formatFindings(nagFindings(app))).toBe('');
  });
});
