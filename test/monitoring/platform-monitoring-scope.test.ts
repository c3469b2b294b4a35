import { App, CfnCondition, CfnParameter, Duration, Fn, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { PlatformMonitoring } from '../../lib/monitoring/platform-monitoring';
import { ReleasePointer } from '../../lib/serving/release-pointer';
import { ServingMode, ServingSlot } from '../../lib/serving/serving-slot';
import { ArtifactStore } from '../../lib/storage/artifact-store';
import { Level1Tier } from '../../lib/tiers/level1-tier';

const inlineFunction = (scope: Stack, id: string) =>
  new lambda.Function(scope, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {}'),
  });

/** Every condition name a template uses: on resources, in Fn::If and in { Condition: ... }. */
function conditionsUsed(template: Record<string, unknown>): string[] {
  const used = new Set<string>();
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach(walk);
    } else if (value !== null && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if (
          (key === 'Condition' && typeof inner === 'string') ||
          (key === 'Fn::If' && Array.isArray(inner))
        ) {
          used.add(typeof inner === 'string' ? inner : (inner[0] as string));
        }
        walk(inner);
      }
    }
  };
  walk(template.Resources);
  walk(template.Outputs);
  return [...used];
}

describe('PlatformMonitoring in an app without Stages', () => {
  /**
   * Stack A holds the monitoring (through Level1Tier); stack B a Lambda function and a real-time
   * serving slot (conditional endpoint, rollback alarms), whose pointer is in a third stack.
   */
  function twoStackApp(discoverApp: boolean) {
    const app = new App();
    const release = new Stack(app, 'Release');
    const pointer = new ReleasePointer(release, 'Pointer', { environmentName: 'dev' });
    const b = new Stack(app, 'B');
    inlineFunction(b, 'Handler');
    new ServingSlot(b, 'Slot', {
      pointer,
      artifactStore: new ArtifactStore(b, 'Store'),
      mode: ServingMode.realTime(),
    });
    const a = new Stack(app, 'A');
    const tier = new Level1Tier(a, 'Level1', {
      environmentName: 'dev',
      monitoringOptions: discoverApp ? { discoveryScope: app } : undefined,
    });
    return { app, a, b, tier };
  }

  test.each([
    ['by default', false],
    ['with the whole app as discovery scope', true],
  ])("%s, stack A's template references nothing of stack B", (_name, discoverApp) => {
    // GIVEN two stacks of one app, monitoring in A
    const { a, b } = twoStackApp(discoverApp);
    // WHEN A is synthesized
    const template = Template.fromStack(a).toJSON();
    const text = JSON.stringify(template);
    // THEN it imports nothing, names none of B's resources, and uses only its own conditions
    expect(text).not.toContain('Fn::ImportValue');
    const bLogicalIds = Object.keys(Template.fromStack(b).toJSON().Resources);
    expect(bLogicalIds.filter((id) => text.includes(`"${id}"`))).toEqual([]);
    const defined = Object.keys(template.Conditions ?? {});
    expect(conditionsUsed(template).filter((c) => !defined.includes(c))).toEqual([]);
    expect(
      Object.keys(template.Resources).filter(
        (id) => template.Resources[id].Type === 'AWS::CloudWatch::Alarm',
      ),
    ).toEqual([]);
  });

  test('a discovery scope beyond its stack warns about what it skipped, naming the fix', () => {
    // GIVEN the whole app as discovery scope
    const { a, tier } = twoStackApp(true);
    // THEN the skipped function and slot of B are named, with the fix
    Annotations.fromStack(a).hasWarning(
      `/${tier.monitoring.node.path}`,
      Match.stringLikeRegexp(
        'skipped 2 resource\\(s\\) of stack B: B/Slot, B/Handler/Resource\\. Give stack B its own PlatformMonitoring\\..*cdk-mlops-maturity:monitoringSkipsOtherStack',
      ),
    );
    expect([...tier.monitoring.monitoredResources.keys()]).toEqual([]);
  });

  test('a slot of another stack, given explicitly, is alarmed in its own stack (a real-time one by its rollback alarms); a condition of another stack fails with the fix', () => {
    // GIVEN a slot in B and monitoring in A
    const { app, a, tier } = twoStackApp(false);
    const slot = app.node.findAll().find((c): c is ServingSlot => c instanceof ServingSlot)!;
    // WHEN A's monitoring watches it, and an imported slot in A
    tier.monitoring.monitorServingSlot(slot);
    tier.monitoring.monitorServingSlot(ServingSlot.fromEndpointName(a, 'Imported', 'taxi'));
    // AND an endpoint alarmed under B's condition fails, naming the stack
    expect(() =>
      tier.monitoring.monitorEndpoint('taxi', ['AllTraffic'], 'B/Endpoint', slot.released),
    ).toThrow(/condition B\/Slot\/Released of endpoint B\/Endpoint is defined in stack B/);
    // THEN the slot's alarms are in B, under its condition, named after the endpoint, notifying A's topic
    const alarms = Template.fromStack(Stack.of(slot)).findResources('AWS::CloudWatch::Alarm');
    expect(
      Object.values(alarms).map((r) => [r.Condition, r.Properties.AlarmName, r.Properties.MetricName]),
    ).toEqual([
      [expect.stringMatching(/^SlotReleased/), `${slot.endpointName}-rollback-errors`, 'Invocation5XXErrors'],
      [expect.stringMatching(/^SlotReleased/), `${slot.endpointName}-rollback-latency`, 'ModelLatency'],
    ]);
    expect(JSON.stringify(Object.values(alarms).map((r) => r.Properties.AlarmActions))).toMatch(/AlarmTopic/);
    // AND A holds only the imported slot's two alarms, unconditional
    const inA = Template.fromStack(a).findResources('AWS::CloudWatch::Alarm');
    expect(Object.values(inA).map((r) => [r.Condition, JSON.stringify(r.Properties.Dimensions)])).toEqual([
      [undefined, expect.stringContaining('{"Name":"EndpointName","Value":"taxi"}')],
      [undefined, expect.stringContaining('{"Name":"EndpointName","Value":"taxi"}')],
    ]);
  });
});

describe('PlatformMonitoring alarm ids', () => {
  /** A stack with an endpoint, a function and a queue; optionally more of each added before them. */
  function build(addBefore: boolean) {
    const app = new App();
    const stack = new Stack(app, 'Serving');
    const hasModel = new CfnCondition(stack, 'HasModel', {
      expression: Fn.conditionNot(
        Fn.conditionEquals(new CfnParameter(stack, 'Pointer', { default: 'none' }).valueAsString, 'none'),
      ),
    });
    const endpoint = (id: string) => {
      const config = new sagemaker.CfnEndpointConfig(stack, `${id}Config`, {
        productionVariants: [
          { variantName: 'blue', modelName: 'm', initialInstanceCount: 1, instanceType: 'ml.m5.large' },
        ],
      });
      const e = new sagemaker.CfnEndpoint(stack, id, { endpointConfigName: config.attrEndpointConfigName });
      config.cfnOptions.condition = hasModel;
      e.cfnOptions.condition = hasModel;
    };
    if (addBefore) {
      endpoint('Added');
      inlineFunction(stack, 'AddedFn');
      new sqs.Queue(stack, 'AddedQueue');
    }
    endpoint('Original');
    inlineFunction(stack, 'OriginalFn');
    new sqs.Queue(stack, 'OriginalQueue');
    new PlatformMonitoring(stack, 'M', { environmentName: 'dev', maxQueueMessageAge: Duration.minutes(5) });
    const template = Template.fromStack(stack);
    const alarmsOf = (logicalIdPrefix: string) =>
      Object.entries(template.findResources('AWS::CloudWatch::Alarm'))
        .filter(([, alarm]) =>
          JSON.stringify(alarm).match(new RegExp(`"${logicalIdPrefix}(?:[0-9A-F]{8})?"`)),
        )
        .map(([id]) => id)
        .sort();
    const dashboard = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
    return { alarmsOf, dashboard };
  }

  test("adding an endpoint, a function and a queue before others keeps the others' alarm logical ids", () => {
    // GIVEN an app, then the same app with a resource of each kind added earlier in construct order
    const before = build(false);
    const after = build(true);
    // THEN the original resources' alarms keep their logical ids (so no alarm is replaced)
    for (const prefix of ['Original', 'OriginalFn', 'OriginalQueue']) {
      expect(before.alarmsOf(prefix).length).toBeGreaterThan(0);
      expect(after.alarmsOf(prefix)).toEqual(before.alarmsOf(prefix));
    }
    // AND the dashboard titles each function and queue by its path, not by discovery order
    expect(after.dashboard).toContain('**[Serving-OriginalFn]');
    expect(after.dashboard).toContain('**[Serving-OriginalQueue]');
  });
});
