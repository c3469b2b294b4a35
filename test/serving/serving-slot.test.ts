import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { findAlwaysOnResources } from '../../lib/maturity';
import { MlopsValidationError } from '../../lib/private/errors';
import { ReleasePointer } from '../../lib/serving/release-pointer';
import { ServingMode, ServingSlot, ServingSlotProps } from '../../lib/serving/serving-slot';
import { ArtifactStore } from '../../lib/storage/artifact-store';
import { createdResources } from '../support/conditions';
import { formatFindings, nagFindings } from '../support/nag';

const PACKAGE = 'arn:aws:sagemaker:us-east-1:123456789012:model-package/taxi-duration/3';

function slotStack(props: Partial<ServingSlotProps> = {}) {
  const app = new App();
  const release = new Stack(app, 'Release');
  const pointer = new ReleasePointer(release, 'Pointer', { environmentName: 'dev' });
  const stack = new Stack(app, 'Serving');
  const store = new ArtifactStore(stack, 'Store', { removalPolicy: RemovalPolicy.DESTROY });
  const slot = new ServingSlot(stack, 'Slot', {
    pointer,
    artifactStore: store,
    endpointName: 'taxi-dev',
    ...props,
  });
  const template = Template.fromStack(stack);
  const parameter = Object.keys(
    template.findParameters('*', { Type: 'AWS::SSM::Parameter::Value<String>' }),
  ).find((id) => id.startsWith('SlotModelPackageArn'))!;
  return { app, stack, release, pointer, slot, template, parameter };
}

// Shared across assertions: one synthesis per mode.
const serverless = slotStack();
const realTime = slotStack({
  mode: ServingMode.realTime({ instanceType: 'ml.c5.large', minInstances: 1, maxInstances: 3 }),
});

const ENDPOINT_TYPES = [
  'AWS::SageMaker::Model',
  'AWS::SageMaker::EndpointConfig',
  'AWS::SageMaker::Endpoint',
  'AWS::ApplicationAutoScaling::ScalableTarget',
  'AWS::ApplicationAutoScaling::ScalingPolicy',
  'AWS::CloudWatch::Alarm',
];

describe('ServingSlot', () => {
  test('reads the release pointer through an SSM-typed stack parameter, from a stack deployed first', () => {
    const { template, parameter, pointer, stack, release } = serverless;
    template.templateMatches({
      Parameters: {
        [parameter]: { Type: 'AWS::SSM::Parameter::Value<String>', Default: pointer.parameterName },
      },
    });
    expect(pointer.parameterName).toBe('/mlops/dev/serving/default/model-package-arn');
    expect(stack.dependencies).toContain(release);
  });

  test.each([
    ['serverless', serverless],
    ['real-time', realTime],
  ])('%s: with no model released, the deployment creates no endpoint resource at all', (_mode, s) => {
    const created = Object.values(createdResources(s.template.toJSON(), { [s.parameter]: 'none' }));
    expect(created.filter((type) => ENDPOINT_TYPES.includes(type))).toEqual([]);
    // The role the model would run as is all there is: IAM bills nothing.
    expect(created.filter((type) => type.startsWith('AWS::SageMaker'))).toEqual([]);
  });

  test.each([
    [
      'serverless',
      serverless,
      ['AWS::SageMaker::Model', 'AWS::SageMaker::EndpointConfig', 'AWS::SageMaker::Endpoint'],
    ],
    ['real-time', realTime, ENDPOINT_TYPES],
  ])('%s: once the pointer names a package, every endpoint resource is created', (_mode, s, expected) => {
    const created = Object.values(createdResources(s.template.toJSON(), { [s.parameter]: PACKAGE }));
    expect([...new Set(created.filter((type) => ENDPOINT_TYPES.includes(type)))].sort()).toEqual(
      [...expected].sort(),
    );
  });

  test('the model serves the package the pointer names; the serverless variant scales to zero', () => {
    const { template, parameter } = serverless;
    template.hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: { ModelPackageName: { Ref: parameter } },
    });
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [
        {
          VariantName: 'AllTraffic',
          ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 5 },
          InstanceType: Match.absent(),
        },
      ],
    });
    template.hasResourceProperties('AWS::SageMaker::Endpoint', {
      EndpointName: 'taxi-dev',
      DeploymentConfig: Match.absent(),
    });
    // Neither the model nor its config has a fixed name: a new package replaces both.
    template.hasResourceProperties('AWS::SageMaker::Model', { ModelName: Match.absent() });
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', { EndpointConfigName: Match.absent() });
  });

  test('a serverless slot is never always-on; a real-time one is, only while released', () => {
    expect(findAlwaysOnResources(serverless.stack)).toEqual([]);
    expect(findAlwaysOnResources(realTime.stack).map((r) => [r.type, r.conditional])).toEqual([
      ['AWS::SageMaker::Endpoint', true],
    ]);
  });

  test('real-time: autoscaling on invocations per instance, blue/green rolling back on the slot alarms', () => {
    const { template } = realTime;
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [
        { VariantName: 'AllTraffic', InstanceType: 'ml.c5.large', InitialInstanceCount: 1 },
      ],
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ResourceId: 'endpoint/taxi-dev/variant/AllTraffic',
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      MinCapacity: 1,
      MaxCapacity: 3,
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
      },
    });
    const alarmNames = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => (a as { Properties: { AlarmName: string } }).Properties.AlarmName,
    );
    expect(alarmNames.sort()).toEqual(['taxi-dev-rollback-errors', 'taxi-dev-rollback-latency']);
    template.hasResourceProperties('AWS::SageMaker::Endpoint', {
      DeploymentConfig: {
        BlueGreenUpdatePolicy: {
          TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE' },
          TerminationWaitInSeconds: 300,
        },
        AutoRollbackConfiguration: {
          // By reference, so the alarms exist before the endpoint updates.
          Alarms: Object.keys(template.findResources('AWS::CloudWatch::Alarm')).map((id) => ({
            AlarmName: { Ref: id },
          })),
        },
      },
    });
    // Custom metrics of an idle endpoint are missing, not breaching: an idle slot never rolls back.
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect((alarm as { Properties: { TreatMissingData: string } }).Properties.TreatMissingData).toBe(
        'notBreaching',
      );
    }
  });

  test('the model role reads only the models/ prefix of the store and pulls images', () => {
    const statements = Object.values(serverless.template.findResources('AWS::IAM::Policy'))
      .flatMap(
        (p) =>
          (p as { Properties: { PolicyDocument: { Statement: iam.PolicyStatementProps[] } } }).Properties,
      )
      .flatMap((p) => p.PolicyDocument.Statement) as Array<Record<string, unknown>>;
    const s3 = statements.filter((s) => JSON.stringify(s.Action).includes('s3:'));
    expect(s3.length).toBeGreaterThan(0);
    for (const s of s3) {
      expect(JSON.stringify(s.Action)).not.toMatch(/s3:Put|s3:Delete/);
      expect(JSON.stringify(s.Resource)).toMatch(/\/models\/\*/);
    }
    expect(statements.some((s) => JSON.stringify(s.Action).includes('ecr:BatchGetImage'))).toBe(true);
  });

  test('grantInvoke allows invoking this endpoint only', () => {
    const app = new App();
    const pointer = new ReleasePointer(new Stack(app, 'Release'), 'Pointer', { environmentName: 'dev' });
    const stack = new Stack(app, 'Serving');
    const slot = new ServingSlot(stack, 'Slot', {
      pointer,
      artifactStore: new ArtifactStore(stack, 'Store'),
      endpointName: 'taxi-dev',
    });
    const role = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    slot.grantInvoke(role);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('Caller') }],
      PolicyDocument: {
        Statement: [
          {
            Action: 'sagemaker:InvokeEndpoint',
            Resource: { 'Fn::Join': ['', Match.arrayWith([':endpoint/taxi-dev'])] },
          },
        ],
      },
    });
  });

  test('has no cdk-nag findings in either mode', () => {
    for (const mode of [ServingMode.serverless(), ServingMode.realTime()]) {
      const app = new App();
      const release = new Stack(app, 'Release');
      const pointer = new ReleasePointer(release, 'Pointer', { environmentName: 'dev' });
      const stack = new Stack(app, 'Serving');
      const store = new ArtifactStore(stack, 'Store');
      new ServingSlot(stack, 'Slot', { pointer, artifactStore: store, mode });
      expect(formatFindings(nagFindings(app))).toBe('');
    }
  });

  describe('invalid props fail at synth, naming the prop, the value and the fix', () => {
    const build =
      (props: Partial<ServingSlotProps>, samePointerStack = false) =>
      () => {
        const app = new App();
        const stack = new Stack(app, 'Serving');
        const pointer = new ReleasePointer(samePointerStack ? stack : new Stack(app, 'Release'), 'Pointer', {
          environmentName: 'dev',
        });
        new ServingSlot(stack, 'Slot', {
          pointer,
          artifactStore: new ArtifactStore(stack, 'Store'),
          ...props,
        });
      };

    test('a pointer in the same stack', () => {
      expect(build({}, true)).toThrow(MlopsValidationError);
      expect(build({}, true)).toThrow(
        /pointer 'Serving\/Pointer' is invalid: the stack resolves the pointer before/,
      );
    });

    test.each([
      [{ endpointName: '-bad' }, /endpointName '-bad' is invalid: use up to 63 letters/],
      [
        { mode: ServingMode.serverless({ memorySizeInMb: 1500 }) },
        /mode\.memorySizeInMb '1500' is invalid: use a multiple of 1024 from 1024 to 6144/,
      ],
      [
        { mode: ServingMode.serverless({ maxConcurrency: 0 }) },
        /mode\.maxConcurrency '0' is invalid: use a whole number from 1 to 200/,
      ],
      [
        { mode: ServingMode.realTime({ instanceType: 'm5.large' }) },
        /mode\.instanceType 'm5\.large' is invalid/,
      ],
      [
        { mode: ServingMode.realTime({ minInstances: 3, maxInstances: 2 }) },
        /mode\.maxInstances '2' is invalid: give at least minInstances \(3\)/,
      ],
      [
        { mode: ServingMode.realTime({ blueGreenBakeTime: Duration.hours(2) }) },
        /mode\.blueGreenBakeTime '2 hours' is invalid: use at most one hour/,
      ],
    ])('%#: %p', (props, message) => {
      expect(build(props)).toThrow(message);
    });
  });
});
