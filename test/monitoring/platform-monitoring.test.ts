import {
  App,
  CfnCondition,
  CfnParameter,
  CfnResource,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  Stage,
} from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { PlatformMonitoring } from '../../lib/monitoring/platform-monitoring';
import { MlopsValidationError } from '../../lib/private/errors';
import { ReleasePointer } from '../../lib/serving/release-pointer';
import { ServingMode, ServingSlot } from '../../lib/serving/serving-slot';
import { ArtifactStore } from '../../lib/storage/artifact-store';
import { formatFindings, nagFindings } from '../support/nag';

/** An environment's stack with workload resources (functions, queues) and its monitoring. */
function environment(props: Partial<ConstructorParameters<typeof PlatformMonitoring>[2]> = {}) {
  const app = new App();
  const stage = new Stage(app, 'dev', { env: { account: '111122223333', region: 'eu-west-1' } });
  const workload = new Stack(stage, 'Platform');
  const dlq = new sqs.Queue(workload, 'Dlq', { enforceSSL: true });
  const work = new sqs.Queue(workload, 'Work', {
    enforceSSL: true,
    deadLetterQueue: { queue: dlq, maxReceiveCount: 3 },
  });
  const fnDlq = new sqs.Queue(workload, 'FnDlq', { enforceSSL: true });
  const fn = new lambda.Function(workload, 'Fn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {}'),
    timeout: Duration.seconds(10),
    deadLetterQueue: fnDlq,
  });
  // aws-cdk-lib's own provider function (a plain CfnResource), as auto-delete adds it.
  new s3.Bucket(workload, 'Scratch', { removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true });
  const monitoringStack = workload;
  const monitoring = new PlatformMonitoring(monitoringStack, 'Monitoring', {
    environmentName: 'dev',
    ...props,
  });
  return { app, stage, workload, monitoringStack, monitoring, dlq, work, fnDlq, fn };
}

/** Whether an alarm watches `metric` (the library renders alarms as metric math, so look inside). */
const watches = (alarm: unknown, metric: string) =>
  JSON.stringify(alarm).includes(`"MetricName":"${metric}"`);

type Alarm = {
  Properties: {
    MetricName?: string;
    Namespace?: string;
    Dimensions?: Array<{ Name: string; Value: unknown }>;
    Threshold: number;
    AlarmActions: unknown[];
    ComparisonOperator: string;
  };
};

describe('PlatformMonitoring', () => {
  // GIVEN an environment's stack with functions and queues, synthesized once
  const env = environment();
  const workloadTemplate = Template.fromStack(env.workload);
  const template = Template.fromStack(env.monitoringStack);
  const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Alarm[];

  test('every Lambda function and queue of the stack is monitored, whatever created it', () => {
    // Generic: each AWS::Lambda::Function and AWS::SQS::Queue of the stack, found in the template.
    const functions = Object.keys(workloadTemplate.findResources('AWS::Lambda::Function'));
    const queues = Object.keys(workloadTemplate.findResources('AWS::SQS::Queue'));
    expect(functions.length).toBe(2); // ours and aws-cdk-lib's auto-delete provider
    const monitoredPaths = [...env.monitoring.monitoredResources.keys()];
    const pathOf = (logicalId: string) =>
      env.workload.node
        .findAll()
        .find((c) => CfnResource.isCfnResource(c) && env.workload.getLogicalId(c) === logicalId)!.node.path;
    expect([...functions, ...queues].map(pathOf).filter((p) => !monitoredPaths.includes(p))).toEqual([]);
  });

  test('tells dead-letter queues from work queues by the references to them', () => {
    const kinds = Object.fromEntries(
      [...env.monitoring.monitoredResources].map(([p, k]) => [p.split('/').slice(-2, -1)[0], k]),
    );
    expect(kinds).toMatchObject({
      Dlq: 'dead-letter-queue',
      FnDlq: 'dead-letter-queue',
      Work: 'queue',
      Fn: 'lambda',
    });
  });

  test('a dead-letter queue alarms on any visible message', () => {
    const dlqAlarms = alarms.filter((a) => watches(a, 'ApproximateNumberOfMessagesVisible'));
    expect(dlqAlarms).toHaveLength(2);
    for (const a of dlqAlarms) {
      expect(a.Properties).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
      expect(JSON.stringify(a)).toContain('"Namespace":"AWS/SQS"');
    }
  });

  test('a work queue alarms on the age of its oldest message', () => {
    const ageAlarms = alarms.filter((a) => watches(a, 'ApproximateAgeOfOldestMessage'));
    expect(ageAlarms).toHaveLength(1);
    expect(ageAlarms[0].Properties.Threshold).toBe(900);
  });

  test('each function alarms on errors, throttles and p99 duration at 80% of its timeout', () => {
    const byMetric = (name: string) => alarms.filter((a) => JSON.stringify(a).includes(`"${name}"`));
    expect(byMetric('Errors').length).toBeGreaterThanOrEqual(2);
    expect(byMetric('Throttles').length).toBeGreaterThanOrEqual(2);
    const latency = alarms
      .filter((a) => JSON.stringify(a).includes('Duration'))
      .map((a) => a.Properties.Threshold);
    // 80% of 10 s for ours; 80% of the provider's 900 s timeout.
    expect(latency).toEqual(expect.arrayContaining([8000, 720000]));
  });

  test('every alarm notifies the topic', () => {
    expect(alarms.length).toBeGreaterThanOrEqual(9);
    for (const a of alarms) {
      expect(a.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^MonitoringAlarmTopic/) }]);
    }
  });

  test('creates one dashboard named for the environment', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'mlops-dev' });
  });

  test('the topic is KMS-encrypted, TLS-only, and CloudWatch and EventBridge may use its key', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    const keyPolicy = JSON.stringify(template.findResources('AWS::KMS::Key'));
    expect(keyPolicy).toContain('cloudwatch.amazonaws.com');
    expect(keyPolicy).toContain('events.amazonaws.com');
  });

  test('failed pipeline executions (camelCase detail) and training jobs (PascalCase) notify the topic', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.sagemaker'],
        'detail-type': ['SageMaker Model Building Pipeline Execution Status Change'],
        detail: { currentPipelineExecutionStatus: ['Failed'] },
      },
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('^MonitoringAlarmTopic') } })],
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ detail: { TrainingJobStatus: ['Failed'] } }),
    });
  });

  test('has zero unacknowledged cdk-nag findings for the monitoring stack', () => {
    const e = environment();
    const findings = nagFindings(e.app).filter((f) => f.path.startsWith('dev/Platform/Monitoring/'));
    expect(formatFindings(findings)).toBe('');
  });
});

describe('PlatformMonitoring options', () => {
  test('a given topic, thresholds, and no SageMaker failure rules', () => {
    const app = new App();
    const stack = new Stack(app, 'S');
    const topic = new sns.Topic(stack, 'Ops');
    new lambda.Function(stack, 'Fn', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {}'),
    });
    new sqs.Queue(stack, 'Q');
    new PlatformMonitoring(stack, 'M', {
      environmentName: 'qa',
      alarmTopic: topic,
      lambdaP99PercentOfTimeout: 50,
      maxQueueMessageAge: Duration.minutes(5),
      notifySageMakerFailures: false,
      discoveryScope: stack,
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.resourceCountIs('AWS::Events::Rule', 0);
    const age = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((a) =>
      watches(a, 'ApproximateAgeOfOldestMessage'),
    ) as Alarm[];
    expect(age.map((a) => a.Properties.Threshold)).toEqual([300]);
    // 50% of Lambda's default 3 s timeout.
    expect(JSON.stringify(template.findResources('AWS::CloudWatch::Alarm'))).toContain('"Threshold":1500');
  });

  test.each([
    [{ environmentName: '1dev' }, /environmentName '1dev' is invalid/],
    [
      { environmentName: 'dev', lambdaP99PercentOfTimeout: 120 },
      /lambdaP99PercentOfTimeout '120' is invalid: use a percentage above 0 and at most 100/,
    ],
    [
      { environmentName: 'dev', maxQueueMessageAge: Duration.seconds(10) },
      /maxQueueMessageAge '10 seconds' is invalid: use at least Duration\.minutes\(1\)/,
    ],
  ])('invalid props %j fail with the prop, value and fix', (props, message) => {
    expect(() => new PlatformMonitoring(new Stack(), 'M', props)).toThrow(MlopsValidationError);
    expect(() => new PlatformMonitoring(new Stack(), 'M', props)).toThrow(message);
  });
});

describe('PlatformMonitoring endpoints', () => {
  function endpointStack(withConfigInStack: boolean) {
    const app = new App();
    const stack = new Stack(app, 'Serving');
    const hasModel = new CfnCondition(stack, 'HasModel', {
      expression: Fn.conditionNot(
        Fn.conditionEquals(new CfnParameter(stack, 'Pointer', { default: 'none' }).valueAsString, 'none'),
      ),
    });
    const config = new sagemaker.CfnEndpointConfig(stack, 'Config', {
      productionVariants: [
        {
          variantName: 'blue',
          modelName: 'm',
          initialInstanceCount: 1,
          instanceType: 'ml.m5.large',
          initialVariantWeight: 1,
        },
        {
          variantName: 'shadow',
          modelName: 'm2',
          initialInstanceCount: 1,
          instanceType: 'ml.m5.large',
          initialVariantWeight: 0,
        },
      ],
    });
    config.cfnOptions.condition = hasModel;
    const endpoint = new sagemaker.CfnEndpoint(stack, 'Endpoint', {
      endpointConfigName: withConfigInStack ? config.attrEndpointConfigName : 'external-config',
    });
    endpoint.cfnOptions.condition = hasModel;
    new PlatformMonitoring(stack, 'M', {
      environmentName: 'dev',
      discoveryScope: stack,
      endpointP99Latency: Duration.millis(250),
    });
    return stack;
  }

  test('each variant alarms on 5XX errors and p99 model latency, under the endpoint condition', () => {
    // GIVEN a conditional endpoint with two variants, as a serving slot before and after release
    const template = Template.fromStack(endpointStack(true));
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Array<{
      Condition?: string;
      Properties: {
        MetricName: string;
        Threshold: number;
        Dimensions: Array<{ Name: string; Value: unknown }>;
        TreatMissingData: string;
        AlarmActions: unknown[];
      };
    }>;
    const endpointAlarms = alarms.filter((a) =>
      ['Invocation5XXErrors', 'ModelLatency'].includes(a.Properties.MetricName),
    );
    // THEN two alarms per variant, each under the endpoint's condition, idle counted as healthy
    expect(
      endpointAlarms
        .map((a) => [
          a.Properties.MetricName,
          a.Properties.Dimensions.find((d) => d.Name === 'VariantName')!.Value,
        ])
        .sort(),
    ).toEqual([
      ['Invocation5XXErrors', 'blue'],
      ['Invocation5XXErrors', 'shadow'],
      ['ModelLatency', 'blue'],
      ['ModelLatency', 'shadow'],
    ]);
    for (const a of endpointAlarms) {
      expect(a.Condition).toBe('HasModel');
      expect(a.Properties.TreatMissingData).toBe('notBreaching');
      expect(a.Properties.AlarmActions).toHaveLength(1);
    }
    // The dashboard is unconditional: it names the endpoint only behind the same condition.
    const dashboard = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboard).toContain(
      '{"Fn::If":["HasModel",{"Fn::GetAtt":["Endpoint","EndpointName"]},"no-endpoint-deployed"]}',
    );
    // 250 ms in microseconds, the unit SageMaker reports ModelLatency in.
    expect(endpointAlarms.find((a) => a.Properties.MetricName === 'ModelLatency')!.Properties.Threshold).toBe(
      250000,
    );
  });

  test('an endpoint whose variants cannot be known gets a warning naming the fix, not silent gaps', () => {
    const stack = endpointStack(false);
    Annotations.fromStack(stack).hasWarning(
      '/Serving/Endpoint',
      Match.stringLikeRegexp(
        'call monitoring.monitorEndpoint\\(\\).*cdk-mlops-maturity:endpointVariantsUnknown',
      ),
    );
  });
});

describe('PlatformMonitoring serving slots: one set of endpoint alarms', () => {
  function slotStack(mode: ServingMode) {
    const app = new App();
    const pointer = new ReleasePointer(new Stack(app, 'Release'), 'Pointer', { environmentName: 'dev' });
    const stack = new Stack(app, 'Platform');
    const slot = new ServingSlot(stack, 'Slot', {
      pointer,
      artifactStore: new ArtifactStore(stack, 'Store'),
      endpointName: 'taxi-dev',
      mode,
    });
    const monitoring = new PlatformMonitoring(stack, 'M', {
      environmentName: 'dev',
      endpointP99Latency: Duration.millis(500),
    });
    const template = Template.fromStack(stack);
    const endpointAlarms = Object.entries(template.findResources('AWS::CloudWatch::Alarm')).filter(([, a]) =>
      /"MetricName":"(Invocation5XXErrors|ModelLatency)"/.test(JSON.stringify(a)),
    ) as Array<[string, { Condition?: string; Properties: Record<string, unknown> }]>;
    const released = stack.resolve((slot.released as unknown as { logicalId: string }).logicalId);
    return { stack, slot, monitoring, template, endpointAlarms, released };
  }

  test('a real-time slot keeps its two rollback alarms, which now also notify the topic', () => {
    // GIVEN a real-time slot and the monitoring in its stack
    const { endpointAlarms, released, slot, monitoring } = slotStack(ServingMode.realTime());
    // THEN the endpoint is watched by the rollback alarms only, each notifying the topic under the slot condition
    expect(endpointAlarms.map(([, a]) => a.Properties.AlarmName).sort()).toEqual([
      'taxi-dev-rollback-errors',
      'taxi-dev-rollback-latency',
    ]);
    for (const [, alarm] of endpointAlarms) {
      expect(alarm.Condition).toBe(released);
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^MAlarmTopic/) }]);
      expect(alarm.Properties.Period).toBe(60);
    }
    expect(monitoring.monitoredResources.get(slot.endpoint.node.path)).toBe('endpoint');
  });

  test("a serverless slot gets the same two alarms, through the slot's metrics, under its condition", () => {
    // GIVEN a serverless slot (no rollback alarms of its own)
    const { endpointAlarms, released } = slotStack(ServingMode.serverless());
    // THEN one errors and one latency alarm, one-minute periods, on the slot's literal endpoint name
    expect(
      endpointAlarms
        .map(([, a]) => [a.Properties.MetricName, a.Properties.Statistic ?? a.Properties.ExtendedStatistic])
        .sort(),
    ).toEqual([
      ['Invocation5XXErrors', 'Sum'],
      ['ModelLatency', 'p99'],
    ]);
    for (const [, alarm] of endpointAlarms) {
      expect(alarm.Condition).toBe(released);
      expect(alarm.Properties).toMatchObject({
        Period: 60,
        Dimensions: [
          { Name: 'EndpointName', Value: 'taxi-dev' },
          { Name: 'VariantName', Value: 'AllTraffic' },
        ],
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: expect.stringMatching(/^MAlarmTopic/) }],
      });
    }
    // 500 ms in microseconds.
    expect(
      endpointAlarms.find(([, a]) => a.Properties.MetricName === 'ModelLatency')![1].Properties.Threshold,
    ).toBe(500000);
  });

  test('monitoring a slot twice, by discovery and by hand, adds nothing', () => {
    const app = new App();
    const pointer = new ReleasePointer(new Stack(app, 'Release'), 'Pointer', { environmentName: 'dev' });
    const stack = new Stack(app, 'Platform');
    const slot = new ServingSlot(stack, 'Slot', {
      pointer,
      artifactStore: new ArtifactStore(stack, 'Store'),
    });
    const monitoring = new PlatformMonitoring(stack, 'M', { environmentName: 'dev' });
    monitoring.monitorServingSlot(slot);
    monitoring.monitorServingSlot(slot);
    Template.fromStack(stack).resourceCountIs('AWS::CloudWatch::Alarm', 2);
  });
});

describe('PlatformMonitoring token durations', () => {
  const build = (props: (token: number) => Partial<ConstructorParameters<typeof PlatformMonitoring>[2]>) => {
    const stack = new Stack(new App(), 'S');
    new sqs.Queue(stack, 'Q');
    const token = new CfnParameter(stack, 'Seconds', { type: 'Number' }).valueAsNumber;
    new PlatformMonitoring(stack, 'M', { environmentName: 'dev', ...props(token) });
    return stack;
  };

  test('a queue age in seconds from a token becomes the alarm threshold as it is', () => {
    // GIVEN a maximum message age that is a stack parameter
    const stack = build((token) => ({ maxQueueMessageAge: Duration.seconds(token) }));
    // THEN the age alarm takes the parameter
    const age = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm')).filter((a) =>
      watches(a, 'ApproximateAgeOfOldestMessage'),
    ) as Alarm[];
    expect(age.map((a) => a.Properties.Threshold)).toEqual([{ Ref: 'Seconds' }]);
  });

  test.each([
    [
      'a token queue age in minutes',
      (token: number) => ({ maxQueueMessageAge: Duration.minutes(token) }),
      /maxQueueMessageAge .* is invalid: a token age becomes the alarm threshold in seconds.*Duration\.seconds\(token\)/,
    ],
    [
      'a token endpoint latency',
      (token: number) => ({ endpointP99Latency: Duration.millis(token) }),
      /endpointP99Latency .* is invalid: the alarm threshold is in microseconds.*give a literal Duration/,
    ],
  ])('%s fails with the prop and the fix', (_name, props, message) => {
    expect(() => build(props)).toThrow(MlopsValidationError);
    expect(() => build(props)).toThrow(message);
  });

  test('a function with a token timeout, monitored by hand, fails naming the fix', () => {
    // GIVEN a function whose timeout is a stack parameter
    const stack = new Stack(new App(), 'S');
    const fn = new lambda.Function(stack, 'Fn', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {}'),
      timeout: Duration.seconds(new CfnParameter(stack, 'Timeout', { type: 'Number' }).valueAsNumber),
    });
    const monitoring = new PlatformMonitoring(stack, 'M', {
      environmentName: 'dev',
      discoveryScope: new Stack(),
    });
    // THEN the p99 threshold, a share of the timeout, asks for a literal one
    expect(() => monitoring.monitorFunction(fn)).toThrow(MlopsValidationError);
    expect(() => monitoring.monitorFunction(fn)).toThrow(
      /the timeout of function S\/Fn is a token.*pass a literal timeout/,
    );
  });
});
