import { App, CfnParameter, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { findAlwaysOnResources } from '../../lib/maturity';
import { MlopsValidationError } from '../../lib/private/errors';
import { ModelRegistry } from '../../lib/registry/model-registry';
import { ReleasePointer } from '../../lib/serving/release-pointer';
import { ServingMode, ServingSlot, ServingSlotProps } from '../../lib/serving/serving-slot';
import { ArtifactStore } from '../../lib/storage/artifact-store';
import { createdResources } from '../../lib/testing';
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
    const created = Object.values(
      createdResources(s.template.toJSON(), { parameters: { [s.parameter]: 'none' } }),
    );
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
    const created = Object.values(
      createdResources(s.template.toJSON(), { parameters: { [s.parameter]: PACKAGE } }),
    );
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
        { modelArtifactsFolder: 'a/b' },
        /modelArtifactsFolder 'a\/b' is invalid: use one folder name of letters, digits/,
      ],
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

  describe('token durations', () => {
    const servingStack = () => {
      const app = new App();
      const pointer = new ReleasePointer(new Stack(app, 'Release'), 'Pointer', { environmentName: 'dev' });
      const stack = new Stack(app, 'Serving');
      const token = new CfnParameter(stack, 'Seconds', { type: 'Number' }).valueAsNumber;
      return { stack, pointer, token };
    };

    test('a bake time in seconds from a token reaches TerminationWaitInSeconds as it is', () => {
      // GIVEN a bake time that is a stack parameter, in seconds
      const { stack, pointer, token } = servingStack();
      new ServingSlot(stack, 'Slot', {
        pointer,
        artifactStore: new ArtifactStore(stack, 'Store'),
        mode: ServingMode.realTime({ blueGreenBakeTime: Duration.seconds(token) }),
      });
      // THEN CloudFormation takes the token
      Template.fromStack(stack).hasResourceProperties('AWS::SageMaker::Endpoint', {
        DeploymentConfig: { BlueGreenUpdatePolicy: { TerminationWaitInSeconds: { Ref: 'Seconds' } } },
      });
    });

    test.each([
      [
        'a token bake time in minutes',
        (token: number) => ({ mode: ServingMode.realTime({ blueGreenBakeTime: Duration.minutes(token) }) }),
        /mode\.blueGreenBakeTime .* is invalid: a token bake time must be given in seconds.*Duration\.seconds\(token\)/,
      ],
      [
        'a token rollback latency',
        (token: number) => ({ mode: ServingMode.realTime(), rollbackLatency: Duration.millis(token) }),
        /rollbackLatency .* is invalid: the alarm threshold is in microseconds.*give a literal Duration/,
      ],
    ])('%s fails with the prop and the fix', (_name, props, message) => {
      const build = () => {
        const { stack, pointer, token } = servingStack();
        new ServingSlot(stack, 'Slot', {
          pointer,
          artifactStore: new ArtifactStore(stack, 'Store'),
          ...props(token),
        });
      };
      expect(build).toThrow(MlopsValidationError);
      expect(build).toThrow(message);
    });
  });
});

describe('ServingSlot pointers', () => {
  test('an imported pointer in the same stack is read through the stack parameter, without a stack dependency', () => {
    // GIVEN a pointer created by another app, imported into the serving stack
    const app = new App();
    const stack = new Stack(app, 'Serving');
    const pointer = ReleasePointer.fromParameterName(
      stack,
      'Pointer',
      '/mlops/qa/serving/default/model-package-arn',
    );
    // WHEN a slot serves it
    new ServingSlot(stack, 'Slot', { pointer, artifactStore: new ArtifactStore(stack, 'Store') });
    // THEN the SSM-typed parameter names it and no stack dependency is added
    Template.fromStack(stack).hasParameter('*', {
      Type: 'AWS::SSM::Parameter::Value<String>',
      Default: '/mlops/qa/serving/default/model-package-arn',
    });
    expect(stack.dependencies).toEqual([]);
  });
});

describe('ServingSlot metrics and grants (IServingSlot)', () => {
  const stack = new Stack(new App(), 'Consumer');
  const slot = ServingSlot.fromEndpointName(stack, 'Slot', 'taxi-prod');

  test.each([
    ['metricInvocations', 'Invocations', 'Sum'],
    ['metricModelLatency', 'ModelLatency', 'p99'],
    ['metricOverheadLatency', 'OverheadLatency', 'p99'],
    ['metric5xxErrors', 'Invocation5XXErrors', 'Sum'],
    ['metric4xxErrors', 'Invocation4XXErrors', 'Sum'],
  ] as const)('%s: %s, statistic %s, one-minute period, of the variant', (method, metricName, statistic) => {
    const metric = slot[method]();
    expect({
      namespace: metric.namespace,
      metricName: metric.metricName,
      statistic: metric.statistic,
      periodSeconds: metric.period.toSeconds(),
      dimensions: metric.dimensions,
    }).toEqual({
      namespace: 'AWS/SageMaker',
      metricName,
      statistic,
      periodSeconds: 60,
      dimensions: { EndpointName: 'taxi-prod', VariantName: 'AllTraffic' },
    });
  });

  test('props override the defaults; metric() is an Average', () => {
    const latency = slot.metricModelLatency({ statistic: 'p50', period: Duration.minutes(5) });
    expect([latency.statistic, latency.period.toMinutes()]).toEqual(['p50', 5]);
    expect(slot.metric('Invocations').statistic).toBe('Average');
    const shadow = ServingSlot.fromEndpointName(stack, 'Shadow', 'taxi-prod', 'shadow');
    expect(shadow.metricInvocations().dimensions).toEqual({
      EndpointName: 'taxi-prod',
      VariantName: 'shadow',
    });
  });

  test('an imported slot grants invoking its endpoint, by its lower-case ARN', () => {
    const role = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    ServingSlot.fromEndpointName(stack, 'Mixed', 'Taxi-Prod').grantInvoke(role);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: 'sagemaker:InvokeEndpoint',
            Resource: { 'Fn::Join': ['', Match.arrayWith([':endpoint/taxi-prod'])] },
          },
        ],
      },
    });
  });

  test('a token endpoint name is left as it is in the ARN, not lower-cased into a broken placeholder', () => {
    // GIVEN a slot whose endpoint name is a stack parameter
    const app = new App();
    const pointer = new ReleasePointer(new Stack(app, 'Release'), 'Pointer', { environmentName: 'dev' });
    const serving = new Stack(app, 'Serving');
    const name = new CfnParameter(serving, 'EndpointName').valueAsString;
    const created = new ServingSlot(serving, 'Slot', {
      pointer,
      artifactStore: new ArtifactStore(serving, 'Store'),
      endpointName: name,
    });
    // WHEN a role is granted invoking it
    const role = new iam.Role(serving, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    created.grantInvoke(role);
    // THEN the ARN ends with a reference to the parameter
    const [policy] = Object.values(
      Template.fromStack(serving).findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: Match.stringLikeRegexp('Caller') }] },
      }),
    ) as Array<{
      Properties: { PolicyDocument: { Statement: Array<{ Resource: { 'Fn::Join': [string, unknown[]] } }> } };
    }>;
    const parts = policy.Properties.PolicyDocument.Statement[0].Resource['Fn::Join'][1];
    expect(parts.slice(-2)).toEqual([':endpoint/', { Ref: 'EndpointName' }]);
  });

  test.each([
    [['-bad'], /endpointName '-bad' is invalid/],
    [['taxi', 'all traffic'], /variantName 'all traffic' is invalid/],
  ])('fromEndpointName rejects %p', (args, message) => {
    expect(() => ServingSlot.fromEndpointName(new Stack(), 'S', args[0], args[1])).toThrow(message);
  });
});

describe('ServingSlot with a model registry of another account', () => {
  test('the model role may read the registry', () => {
    // GIVEN a registry in the tooling account and a slot in the prod account
    const app = new App();
    const registry = new ModelRegistry(
      new Stack(app, 'Tooling', { env: { account: '222222222222', region: 'eu-west-1' } }),
      'Registry',
      { modelPackageGroupName: 'taxi-duration', crossAccountReadAccounts: ['111111111111'] },
    );
    const env = { account: '111111111111', region: 'eu-west-1' };
    const pointer = new ReleasePointer(new Stack(app, 'Release', { env }), 'Pointer', {
      environmentName: 'prod',
    });
    const stack = new Stack(app, 'Serving', { env });
    // WHEN the slot names the registry
    new ServingSlot(stack, 'Slot', {
      pointer,
      artifactStore: new ArtifactStore(stack, 'Store'),
      modelRegistry: registry,
    });
    // THEN the model role reads the group and its packages in the other account
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('SlotModelRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['sagemaker:DescribeModelPackage']),
            Resource: Match.arrayWith([
              {
                'Fn::Join': [
                  '',
                  [
                    'arn:',
                    { Ref: 'AWS::Partition' },
                    ':sagemaker:eu-west-1:222222222222:model-package/taxi-duration/*',
                  ],
                ],
              },
            ]),
          }),
        ]),
      },
    });
  });
});

describe('ServingSlot data capture (real-time)', () => {
  const captured = slotStack({
    mode: ServingMode.realTime({ dataCapture: { samplingPercentage: 25 } }),
  });

  test('requests and responses go to the capture prefix, encrypted with the store key, at the sampling rate', () => {
    captured.template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      DataCaptureConfig: {
        EnableCapture: true,
        InitialSamplingPercentage: 25,
        DestinationS3Uri: {
          'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('^StoreBucket') }, '/capture']],
        },
        KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StoreKey'), 'Arn'] },
        CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
        CaptureContentTypeHeader: { CsvContentTypes: ['text/csv'], JsonContentTypes: ['application/json'] },
      },
    });
  });

  test('the model role may write the capture prefix, and nothing else of the store', () => {
    const policies = JSON.stringify(captured.template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('/capture/*');
    expect(policies).toContain('s3:PutObject');
    expect(formatFindings(nagFindings(captured.app))).toBe('');
  });

  test('without data capture the endpoint config has none; responses can be left out', () => {
    realTime.template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      DataCaptureConfig: Match.absent(),
    });
    const inputOnly = slotStack({ mode: ServingMode.realTime({ dataCapture: { captureResponses: false } }) });
    inputOnly.template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      DataCaptureConfig: Match.objectLike({
        InitialSamplingPercentage: 100,
        CaptureOptions: [{ CaptureMode: 'Input' }],
      }),
    });
  });

  test('a sampling rate outside 1-100, or capture on a serverless slot, fails naming the prop', () => {
    expect(() =>
      slotStack({ mode: ServingMode.realTime({ dataCapture: { samplingPercentage: 0 } }) }),
    ).toThrow(/mode\.dataCapture\.samplingPercentage '0' is invalid: use a whole number from 1 to 100/);
    expect(() => slotStack({ mode: ServingMode.serverless({ dataCapture: {} } as never) })).toThrow(
      /mode\.dataCapture '\{\}' is invalid: SageMaker serverless endpoints do not capture data/,
    );
  });
});
