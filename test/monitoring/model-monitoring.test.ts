import { App, Aspects, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { windowsOf } from '../../lambda/model-quality';
import { Capability } from '../../lib/maturity/capability';
import { MaturityContract } from '../../lib/maturity/maturity-contract';
import {
  ModelMonitoring,
  ModelMonitoringProps,
  MonitoringBaseline,
  QualityProblemType,
} from '../../lib/monitoring/model-monitoring';
import { ModelRegistry } from '../../lib/registry/model-registry';
import { ReleasePointer } from '../../lib/serving/release-pointer';
import { ServingMode, ServingSlot } from '../../lib/serving/serving-slot';
import { VariantWeight } from '../../lib/serving/variant-weight';
import { ArtifactStore } from '../../lib/storage/artifact-store';
import { cfnLintFindings } from '../../lib/testing';
import { RedundantDependsOnLintAcknowledgement } from '../../lib/verification/redundant-depends-on';
import { CFN_LINT } from '../support/cfn-lint';
import { formatFindings, nagFindings, nagV2SuppressionsOf } from '../support/nag';

const ENDPOINT = 'mlops-prod-fare-amount';
const IMAGE = '156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer';

type Props = Partial<ModelMonitoringProps>;

/**
 * A prod slot with data capture and a shadow variant in a serving stack, monitored from the
 * platform stack (as the app does): bundling skipped, it is not the subject.
 */
function build(props: Props = {}, options: { sameStoreBaseline?: boolean; capture?: boolean } = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  // As the app does: aws-cdk-lib's redundant DependsOn of functions on their roles is acknowledged.
  Aspects.of(app).add(new RedundantDependsOnLintAcknowledgement());
  const env = { account: '222222222222', region: 'us-east-1' };
  const release = new Stack(app, 'Release', { env });
  const pointer = new ReleasePointer(release, 'Pointer', {
    environmentName: 'prod',
    slotName: 'fare-amount',
  });
  const platform = new Stack(app, 'Platform', { env });
  const store = new ArtifactStore(platform, 'Store', { removalPolicy: RemovalPolicy.DESTROY });
  const serving = new Stack(app, 'Serving', { env });
  const slot = new ServingSlot(serving, 'Slot', {
    // The model role stays in the platform stack, as PlatformModel keeps it.
    role: new iam.Role(platform, 'ModelRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
    }),
    pointer,
    artifactStore: store,
    endpointName: ENDPOINT,
    mode: ServingMode.realTime(options.capture === false ? {} : { dataCapture: { samplingPercentage: 50 } }),
    shadow: {
      pointer: new ReleasePointer(release, 'ShadowPointer', {
        environmentName: 'prod',
        slotName: 'fare-amount',
        variant: 'shadow',
      }),
      weight: new VariantWeight(release, 'ShadowWeight', {
        environmentName: 'prod',
        slotName: 'fare-amount',
        variant: 'shadow',
      }),
    },
  });
  // The packages come from dev's registry, in another account.
  const registry = ModelRegistry.fromModelPackageGroupAttributes(platform, 'DevRegistry', {
    modelPackageGroupName: 'dev-fare-amount',
    account: '111111111111',
    region: 'us-east-1',
  });
  const topic = new sns.Topic(platform, 'Topic', { enforceSSL: true });
  const monitoring = new ModelMonitoring(platform, 'Monitoring', {
    servingSlot: slot,
    artifactStore: store,
    baseline: MonitoringBaseline.ofReleasedModel({
      pointer,
      modelRegistry: registry,
      artifactFolder: 'fare-amount',
      artifactStore: options.sameStoreBaseline ? store : undefined,
    }),
    alarmTopic: topic,
    maxRmse: 5,
    ...props,
  });
  return { app, platform, monitoring, topic, template: Template.fromStack(platform) };
}

const built = build();

describe('ModelMonitoring', () => {
  test('an hourly schedule starts the drift workflow with the slot, its window and its baseline pointer', () => {
    built.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      Targets: [
        Match.objectLike({
          Arn: { Ref: Match.stringLikeRegexp('^MonitoringDriftWorkflow') },
          InputTransformer: {
            InputPathsMap: { time: '$.time' },
            InputTemplate: Match.anyValue(),
          },
        }),
      ],
    });
    const input = JSON.stringify(
      Object.values(built.template.findResources('AWS::Events::Rule')).find((r) =>
        JSON.stringify(r).includes('DriftWorkflow'),
      ),
    );
    expect(input).toContain('\\"endpointName\\":\\"mlops-prod-fare-amount\\"');
    expect(input).toContain(
      '\\"baseline\\":{\\"pointerName\\":\\"/mlops/prod/serving/fare-amount/model-package-arn\\"}',
    );
  });

  test('a daily schedule runs the quality job, retried, with a dead-letter queue, on an event it accepts', () => {
    const [rule] = Object.values(built.template.findResources('AWS::Events::Rule')).filter((r) =>
      JSON.stringify(r).includes('MonitoringQuality'),
    );
    expect(rule.Properties).toMatchObject({
      ScheduleExpression: 'rate(1 day)',
      Targets: [
        {
          RetryPolicy: { MaximumRetryAttempts: 2 },
          DeadLetterConfig: {
            Arn: { 'Fn::GetAtt': [expect.stringMatching(/^MonitoringQualityDeadLetters/), 'Arn'] },
          },
        },
      ],
    });
    // The rule's input, with the bucket and the event's time filled in, is a valid quality event:
    // yesterday's 24 hours of capture (a day for labels to arrive), labels read until the run.
    const template = rule.Properties.Targets[0].InputTransformer.InputTemplate['Fn::Join'][1]
      .map((p: unknown) => (typeof p === 'string' ? p : 'artifacts'))
      .join('')
      .replace('<time>', '"2026-12-03T06:20:00Z"');
    const event = JSON.parse(template);
    expect(event).toMatchObject({ problemType: 'Regression', windowHours: 24, labelDelayHours: 24 });
    const windows = windowsOf(event, new Date(event.time));
    expect(windows.capture).toEqual({ start: new Date('2026-12-01T06:00:00Z'), hours: 24 });
    expect(windows.groundTruth).toEqual({ start: new Date('2026-12-01T06:00:00Z'), hours: 48 });
  });

  test('alarms on drift and quality, each with explicit missing-data treatment, notify the topic', () => {
    const topicRef = { Ref: built.platform.getLogicalId(built.topic.node.defaultChild as never) };
    const alarm = (metricName: string, namespace: string) => ({
      MetricName: metricName,
      Namespace: namespace,
      Dimensions: Match.arrayEquals([
        { Name: 'EndpointName', Value: ENDPOINT },
        { Name: 'VariantName', Value: 'AllTraffic' },
      ]),
      Statistic: 'Maximum',
      TreatMissingData: 'notBreaching',
      AlarmActions: [topicRef],
    });
    built.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...alarm('DriftedFeatureShare', 'cdk-mlops-maturity/Drift'),
      Threshold: 0.3,
      ComparisonOperator: 'GreaterThanThreshold',
      Period: 3600,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 1,
    });
    built.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...alarm('MaxFeaturePsi', 'cdk-mlops-maturity/Drift'),
      Threshold: 0.2,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    // The quality datum is stamped at its capture window's end, two days before the run at most.
    built.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...alarm('Rmse', 'cdk-mlops-maturity/ModelQuality'),
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
      Period: 86400,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 1,
    });
    // Every alarm of the stack says how missing data counts.
    for (const [id, resource] of Object.entries(built.template.findResources('AWS::CloudWatch::Alarm'))) {
      expect([id, resource.Properties.TreatMissingData]).toEqual([id, expect.any(String)]);
    }
  });

  test('a classifier alarms on accuracy below its bound; thresholds and schedules are props', () => {
    const { template } = build({
      problemType: QualityProblemType.BINARY_CLASSIFICATION,
      maxRmse: undefined,
      minAccuracy: 0.8,
      psiThreshold: 0.1,
      driftedFeatureShareThreshold: 0.5,
      driftSchedule: events.Schedule.cron({ minute: '15' }),
      qualitySchedule: events.Schedule.rate(Duration.hours(12)),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Accuracy',
      Threshold: 0.8,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'MaxFeaturePsi', Threshold: 0.1 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'DriftedFeatureShare',
      Threshold: 0.5,
    });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(15 * * * ? *)' });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(12 hours)' });
    template.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { MetricName: 'Rmse' }, 0);
  });

  test("a dashboard per slot: every variant's invocations, errors and latency, drift, quality and the alarms", () => {
    const [dashboard] = Object.values(built.template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboard.Properties.DashboardName).toBe(`${ENDPOINT}-monitoring`);
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const variant of ['AllTraffic', 'Shadow']) {
      for (const metric of ['Invocations', 'Invocation5XXErrors', 'ModelLatency']) {
        expect(body).toMatch(new RegExp(`${metric}[^\\]]*VariantName[^\\]]*${variant}`));
      }
    }
    for (const metric of [
      'DriftedFeatureShare',
      'MaxFeaturePsi',
      'FeaturePsi',
      'CaptureRows',
      'Rmse',
      'Mae',
    ]) {
      expect(body).toContain(metric);
    }
    expect(body).toContain('"type\\":\\"alarm\\"');
  });

  test('the drift workflow is a standard state machine, traced and logged; the functions run on nodejs24.x', () => {
    built.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
    });
    const functions = Object.values(built.template.findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(3);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'] });
    }
  });

  test("the jobs publish only in their namespaces; the planner reads the pointer and describes the registry's packages", () => {
    for (const namespace of ['cdk-mlops-maturity/Drift', 'cdk-mlops-maturity/ModelQuality']) {
      built.template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: 'cloudwatch:PutMetricData',
              Resource: '*',
              Condition: { StringEquals: { 'cloudwatch:namespace': namespace } },
            }),
          ]),
        },
      });
    }
    const policies = JSON.stringify(built.template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('model-package/dev-fare-amount/*');
    expect(policies).toContain('ssm:GetParameter');
    // The baseline of a package from another environment: that account's buckets, under the
    // workload's pipelines folder only.
    built.template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 's3:GetObject',
            Resource: {
              'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::*/pipelines/fare-amount/*']],
            },
            Condition: { StringEquals: { 's3:ResourceAccount': '111111111111' } },
          }),
        ]),
      },
    });
  });

  test('a slot of the serving stack is referenced by its endpoint name: no import of its outputs', () => {
    expect(JSON.stringify(built.template.toJSON())).not.toContain('Fn::ImportValue');
    expect(JSON.stringify(built.template.toJSON())).not.toContain('Fn::GetStackOutput');
  });

  test('registers model-monitoring, drift-detection and model-quality', () => {
    expect(MaturityContract.providedBy(built.monitoring)).toEqual([
      Capability.MODEL_MONITORING,
      Capability.DRIFT_DETECTION,
      Capability.MODEL_QUALITY,
    ]);
  });

  test('Model Monitor is off by default; an opt-in schedules its data quality job on the endpoint', () => {
    built.template.resourceCountIs('AWS::SageMaker::MonitoringSchedule', 0);
    built.template.resourceCountIs('AWS::SageMaker::DataQualityJobDefinition', 0);
    const { template } = build({
      modelMonitor: { imageUri: IMAGE, baselineConstraintsUri: 's3://b/reports/mm/constraints.json' },
    });
    template.hasResourceProperties('AWS::SageMaker::MonitoringSchedule', {
      EndpointName: ENDPOINT,
      MonitoringScheduleConfig: {
        MonitoringType: 'DataQuality',
        ScheduleConfig: { ScheduleExpression: 'cron(0 * ? * * *)' },
      },
    });
    template.hasResourceProperties('AWS::SageMaker::DataQualityJobDefinition', {
      DataQualityAppSpecification: { ImageUri: IMAGE },
      DataQualityJobInput: { EndpointInput: Match.objectLike({ EndpointName: ENDPOINT }) },
      DataQualityBaselineConfig: { ConstraintsResource: { S3Uri: 's3://b/reports/mm/constraints.json' } },
    });
  });

  test('invalid props fail at synth naming the prop, the value and the fix', () => {
    expect(() => build({}, { capture: false })).toThrow(
      /servingSlot 'Serving\/Slot' is invalid: monitoring reads the slot's data capture: give it ServingMode\.realTime\(\{ dataCapture: \{\} \}\)/,
    );
    expect(() =>
      build({
        psiThreshold: 0,
        driftedFeatureShareThreshold: 2,
        objectsPerBatch: 2000,
        labelDelay: Duration.minutes(90),
        minAccuracy: 0.9,
        modelMonitor: { imageUri: 'my-image:latest' },
      }),
    ).toThrow(
      new RegExp(
        [
          "psiThreshold '0' is invalid: use a positive number",
          "driftedFeatureShareThreshold '2' is invalid: use a share from 0 to 1",
          "objectsPerBatch '2000' is invalid: use a whole number from 1 to 1000",
          "labelDelay '1 hour 30 minutes' is invalid: use whole hours from 0 to 144",
          "minAccuracy '0.9' is invalid: accuracy is a classification metric",
          "modelMonitor.imageUri 'my-image:latest' is invalid",
        ]
          .map((m) => m.replace(/[.()]/g, '\\$&'))
          .join('[\\s\\S]*'),
      ),
    );
  });
});

describe('ModelMonitoring under cdk-nag and cfn-lint', () => {
  test.each([
    ['a baseline from another environment', {}, {}],
    [
      'a baseline in its own store, with Model Monitor',
      { modelMonitor: { imageUri: IMAGE } },
      { sameStoreBaseline: true },
    ],
  ])(
    '%s: zero unacknowledged AwsSolutions findings, every acknowledgement with a reason',
    (_, props, options) => {
      const { app, platform } = build(props, options);
      const findings = nagFindings(app);
      expect(formatFindings(findings)).toBe('');
      const template = app.synth().getStackByName(platform.stackName).template;
      const ours = nagV2SuppressionsOf(template).filter((x) => x.path.startsWith('Monitoring'));
      expect(ours.length).toBeGreaterThan(0);
      for (const s of ours) {
        expect([s.id, s.reason.length > 40]).toEqual([s.id, true]);
      }
    },
  );

  test('cfn-lint reports nothing on the templates', () => {
    const { app } = build({ modelMonitor: { imageUri: IMAGE } });
    const findings = cfnLintFindings(app.synth(), { executable: CFN_LINT });
    expect(findings).toEqual([]);
  });
});
