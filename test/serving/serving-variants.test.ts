import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Capability } from '../../lib/maturity/capability';
import { MaturityContract } from '../../lib/maturity/maturity-contract';
import { ReleasePointer } from '../../lib/serving/release-pointer';
import { ServingVariantOptions } from '../../lib/serving/serving-variant';
import { ServingMode, ServingSlot, ServingSlotProps } from '../../lib/serving/serving-slot';
import { CapacitySize, TrafficShifting } from '../../lib/serving/traffic-shifting';
import { VariantWeight } from '../../lib/serving/variant-weight';
import { ArtifactStore } from '../../lib/storage/artifact-store';
import { createdResources } from '../../lib/testing';
import { cfnLint, formatCfnLint } from '../support/cfn-lint';
import { formatFindings, nagFindings } from '../support/nag';

const CHAMPION = 'arn:aws:sagemaker:us-east-1:123456789012:model-package/taxi-duration/3';
const CANDIDATE = 'arn:aws:sagemaker:us-east-1:123456789012:model-package/taxi-duration/4';

type Variants = Partial<Record<'challenger' | 'shadow', Partial<ServingVariantOptions>>>;

/** A real-time slot in its stack, its pointers and weights in a release stack deployed first. */
function variantStack(variants: Variants, props: Partial<ServingSlotProps> = {}) {
  const app = new App();
  const release = new Stack(app, 'Release');
  const pointer = new ReleasePointer(release, 'Pointer', { environmentName: 'dev', slotName: 'taxi' });
  const options = (variant: 'challenger' | 'shadow'): ServingVariantOptions | undefined =>
    variants[variant] && {
      pointer: new ReleasePointer(release, `${variant}Pointer`, {
        environmentName: 'dev',
        slotName: 'taxi',
        variant,
      }),
      weight: new VariantWeight(release, `${variant}Weight`, {
        environmentName: 'dev',
        slotName: 'taxi',
        variant,
      }),
      ...variants[variant],
    };
  const stack = new Stack(app, 'Serving');
  const slot = new ServingSlot(stack, 'Slot', {
    pointer,
    artifactStore: new ArtifactStore(stack, 'Store', { removalPolicy: RemovalPolicy.DESTROY }),
    endpointName: 'taxi-dev',
    mode: ServingMode.realTime({ minInstances: 2, maxInstances: 4 }),
    challenger: options('challenger'),
    shadow: options('shadow'),
    ...props,
  });
  const template = Template.fromStack(stack);
  const ssmParameters = template.findParameters('*', { Type: 'AWS::SSM::Parameter::Value<String>' });
  const parameterReading = (name: string) =>
    Object.entries(ssmParameters).find(([, p]) => (p as { Default: string }).Default === name)![0];
  return { app, stack, release, slot, template, parameterReading };
}

const ab = variantStack({ challenger: {} });
const shadowed = variantStack({ shadow: { instanceType: 'ml.c5.large', instanceCount: 2 } });

/** The resources a deployment creates with these pointer values (and weights), by logical id. */
function deployedWith(s: typeof ab, values: Record<string, string>) {
  const parameters = Object.fromEntries(
    Object.entries(values).map(([name, value]) => [s.parameterReading(name), value]),
  );
  return createdResources(s.template.toJSON(), { parameters });
}

const CHAMPION_POINTER = '/mlops/dev/serving/taxi/model-package-arn';
const CHALLENGER_POINTER = '/mlops/dev/serving/taxi/variants/challenger/model-package-arn';
const CHALLENGER_WEIGHT = '/mlops/dev/serving/taxi/variants/challenger/weight';
const SHADOW_POINTER = '/mlops/dev/serving/taxi/variants/shadow/model-package-arn';

describe('variant pointers and weights', () => {
  test('a variant pointer and its weight are named after the slot and the variant, created with none and 10', () => {
    const release = Template.fromStack(ab.release);
    release.hasResource('AWS::SSM::Parameter', {
      Properties: { Name: CHALLENGER_POINTER, Type: 'String', Value: 'none' },
    });
    release.hasResource('AWS::SSM::Parameter', {
      Properties: { Name: CHALLENGER_WEIGHT, Type: 'String', Value: '10' },
    });
  });

  test('the slot reads each through an SSM-typed stack parameter, and its stack depends on theirs', () => {
    expect(
      Object.keys(ab.template.findParameters('*', { Type: 'AWS::SSM::Parameter::Value<String>' })).filter(
        (id) => id.startsWith('Slot'),
      ),
    ).toHaveLength(3);
    for (const name of [CHAMPION_POINTER, CHALLENGER_POINTER, CHALLENGER_WEIGHT]) {
      expect(ab.parameterReading(name)).toBeDefined();
    }
    expect(ab.stack.dependencies).toEqual([ab.release]);
  });

  test.each([
    [
      () => new ReleasePointer(new Stack(), 'P', { environmentName: 'dev', variant: 'a/b' }),
      /variant 'a\/b' is invalid/,
    ],
    [
      () => new VariantWeight(new Stack(), 'W', { environmentName: 'dev', variant: '' }),
      /variant '' is invalid/,
    ],
    [
      () => VariantWeight.fromParameterName(new Stack(), 'W', 'aws-weight'),
      /parameterName 'aws-weight' is invalid/,
    ],
  ])('invalid names fail, naming the prop (%#)', (build, message) => {
    expect(build).toThrow(message);
  });
});

describe('A/B test: a challenger variant', () => {
  test('with its pointer at none, the endpoint serves the champion alone, as a slot without variants', () => {
    const created = deployedWith(ab, { [CHAMPION_POINTER]: CHAMPION, [CHALLENGER_POINTER]: 'none' });
    expect(Object.keys(created).filter((id) => id.startsWith('SlotChallenger'))).toEqual([]);
    expect(Object.values(created).filter((t) => t === 'AWS::SageMaker::Model')).toHaveLength(1);
  });

  test('with a package in its pointer, it has its own model and alarms; without a champion, nothing exists', () => {
    const created = deployedWith(ab, { [CHAMPION_POINTER]: CHAMPION, [CHALLENGER_POINTER]: CANDIDATE });
    expect(
      Object.keys(created)
        .filter((id) => id.startsWith('SlotChallenger'))
        .sort(),
    ).toEqual([
      expect.stringMatching(/^SlotChallengerErrorsAlarm/),
      expect.stringMatching(/^SlotChallengerLatencyAlarm/),
      expect.stringMatching(/^SlotChallengerModel/),
    ]);
    const orphan = deployedWith(ab, { [CHAMPION_POINTER]: 'none', [CHALLENGER_POINTER]: CANDIDATE });
    expect(Object.values(orphan).filter((t) => t.startsWith('AWS::SageMaker'))).toEqual([]);
  });

  test('the endpoint config holds the challenger only while it serves, weighted by its share; AllTraffic keeps its name', () => {
    const pointer = ab.parameterReading(CHALLENGER_POINTER);
    const weight = ab.parameterReading(CHALLENGER_WEIGHT);
    const [condition] = Object.entries(ab.template.findConditions('*')).find(([id]) =>
      id.startsWith('SlotChallengerReleased'),
    )!;
    const mapping = Object.keys(ab.template.findMappings('*'))[0];
    ab.template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [
        {
          VariantName: 'AllTraffic',
          InitialVariantWeight: {
            'Fn::If': [condition, { 'Fn::FindInMap': [mapping, { Ref: weight }, 'Rest'] }, 1],
          },
        },
        {
          'Fn::If': [
            condition,
            {
              VariantName: 'Challenger',
              ModelName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SlotChallengerModel'), 'ModelName'] },
              InstanceType: 'ml.m5.large',
              InitialInstanceCount: 1,
              InitialVariantWeight: { 'Fn::FindInMap': [mapping, { Ref: weight }, 'Share'] },
            },
            { Ref: 'AWS::NoValue' },
          ],
        },
      ],
      ShadowProductionVariants: Match.absent(),
    });
    ab.template.hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: { ModelPackageName: { Ref: pointer } },
    });
    ab.template.hasCondition(condition, {
      'Fn::And': [
        { Condition: Match.stringLikeRegexp('^SlotReleased') },
        { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: pointer }, 'none'] }] },
      ],
    });
  });

  test('the weights table splits 100 percent between challenger and champion, and has a row per whole percent only', () => {
    const [table] = Object.values(ab.template.findMappings('*')) as Array<
      Record<string, { Share: number; Rest: number; Fraction: number }>
    >;
    expect(Object.keys(table)).toHaveLength(101);
    expect(table['0']).toEqual({ Share: 0, Rest: 100, Fraction: 0 });
    expect(table['25']).toEqual({ Share: 25, Rest: 75, Fraction: 0.25 });
    expect(table['100']).toEqual({ Share: 100, Rest: 0, Fraction: 1 });
    expect(table['12.5']).toBeUndefined();
  });

  test("its alarms also roll the endpoint's blue/green updates back, while it serves", () => {
    const [condition] = Object.keys(ab.template.findConditions('*')).filter((id) =>
      id.startsWith('SlotChallengerReleased'),
    );
    const alarmId = (prefix: string) =>
      Object.keys(ab.template.findResources('AWS::CloudWatch::Alarm')).find((id) => id.startsWith(prefix))!;
    ab.template.hasResourceProperties('AWS::SageMaker::Endpoint', {
      DeploymentConfig: {
        AutoRollbackConfiguration: {
          Alarms: [
            { AlarmName: { Ref: alarmId('SlotErrorsAlarm') } },
            { AlarmName: { Ref: alarmId('SlotLatencyAlarm') } },
            {
              'Fn::If': [
                condition,
                { AlarmName: { Ref: alarmId('SlotChallengerErrorsAlarm') } },
                { Ref: 'AWS::NoValue' },
              ],
            },
            {
              'Fn::If': [
                condition,
                { AlarmName: { Ref: alarmId('SlotChallengerLatencyAlarm') } },
                { Ref: 'AWS::NoValue' },
              ],
            },
          ],
        },
      },
    });
    ab.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'taxi-dev-challenger-rollback-errors',
      MetricName: 'Invocation5XXErrors',
      Dimensions: Match.arrayWith([{ Name: 'VariantName', Value: 'Challenger' }]),
      Threshold: 0,
      Period: 60,
      TreatMissingData: 'notBreaching',
    });
    ab.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'taxi-dev-challenger-rollback-latency',
      MetricName: 'ModelLatency',
      ExtendedStatistic: 'p99',
      Threshold: 1_000_000,
    });
  });

  test('autoscaling stays on the champion variant', () => {
    ab.template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 1);
    ab.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ResourceId: 'endpoint/taxi-dev/variant/AllTraffic',
    });
  });

  test("per-variant metrics name the challenger's variant", () => {
    const challenger = ab.slot.challenger!;
    expect(
      [challenger.metricInvocations(), challenger.metric5xxErrors(), challenger.metricModelLatency()].map(
        (m) => [m.metricName, m.statistic, m.dimensions],
      ),
    ).toEqual([
      ['Invocations', 'Sum', { EndpointName: 'taxi-dev', VariantName: 'Challenger' }],
      ['Invocation5XXErrors', 'Sum', { EndpointName: 'taxi-dev', VariantName: 'Challenger' }],
      ['ModelLatency', 'p99', { EndpointName: 'taxi-dev', VariantName: 'Challenger' }],
    ]);
    expect(ab.slot.metricInvocations().dimensions).toEqual({
      EndpointName: 'taxi-dev',
      VariantName: 'AllTraffic',
    });
  });
});

describe('shadow test: a shadow variant', () => {
  test('receives a copy of its share of the requests: a shadow variant weighted against the champion', () => {
    const weight = shadowed.parameterReading('/mlops/dev/serving/taxi/variants/shadow/weight');
    const [condition] = Object.keys(shadowed.template.findConditions('*')).filter((id) =>
      id.startsWith('SlotShadowReleased'),
    );
    const mapping = Object.keys(shadowed.template.findMappings('*'))[0];
    shadowed.template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [
        { VariantName: 'AllTraffic', InitialVariantWeight: 1, InstanceType: 'ml.m5.large' },
      ],
      ShadowProductionVariants: {
        'Fn::If': [
          condition,
          [
            {
              VariantName: 'Shadow',
              InstanceType: 'ml.c5.large',
              InitialInstanceCount: 2,
              InitialVariantWeight: { 'Fn::FindInMap': [mapping, { Ref: weight }, 'Fraction'] },
            },
          ],
          { Ref: 'AWS::NoValue' },
        ],
      },
    });
  });

  test('its alarms watch it but do not roll updates back: its responses reach no client', () => {
    const alarms = Object.values(shadowed.template.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => (a as { Properties: { AlarmName: string } }).Properties.AlarmName,
    );
    expect(alarms.sort()).toEqual([
      'taxi-dev-rollback-errors',
      'taxi-dev-rollback-latency',
      'taxi-dev-shadow-errors',
      'taxi-dev-shadow-latency',
    ]);
    const endpoint = Object.values(shadowed.template.findResources('AWS::SageMaker::Endpoint'))[0] as {
      Properties: { DeploymentConfig: { AutoRollbackConfiguration: { Alarms: unknown[] } } };
    };
    expect(endpoint.Properties.DeploymentConfig.AutoRollbackConfiguration.Alarms).toHaveLength(2);
    expect(shadowed.slot.shadow!.metricInvocations().dimensions).toEqual({
      EndpointName: 'taxi-dev',
      VariantName: 'Shadow',
    });
  });

  test('with its pointer at none, no shadow model or alarm exists', () => {
    const created = deployedWith(shadowed, { [CHAMPION_POINTER]: CHAMPION, [SHADOW_POINTER]: 'none' });
    expect(Object.keys(created).filter((id) => id.startsWith('SlotShadow'))).toEqual([]);
  });
});

describe('variant-testing capability', () => {
  test('a slot offering a challenger or a shadow provides it; one without does not', () => {
    expect(MaturityContract.providedBy(ab.slot)).toContain(Capability.VARIANT_TESTING);
    expect(MaturityContract.providedBy(shadowed.slot)).toContain(Capability.VARIANT_TESTING);
    const plain = variantStack({});
    expect(MaturityContract.providedBy(plain.slot)).not.toContain(Capability.VARIANT_TESTING);
    expect(plain.template.findMappings('*')).toEqual({});
  });
});

describe('the templates pass cdk-nag and cfn-lint', () => {
  test('no unacknowledged cdk-nag finding', () => {
    expect(formatFindings(nagFindings(variantStack({ challenger: {} }).app))).toBe('');
    expect(formatFindings(nagFindings(variantStack({ shadow: {} }).app))).toBe('');
  });

  test('cfn-lint finds nothing in the serving templates', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'variants-lint-'));
    try {
      const files = [ab, shadowed].map((s, i) => {
        const file = path.join(dir, `serving-${i}.json`);
        fs.writeFileSync(file, JSON.stringify(s.template.toJSON()));
        return file;
      });
      const { matches, stderr } = cfnLint(['--', ...files]);
      expect({ findings: formatCfnLint(matches), stderr }).toEqual({ findings: [], stderr: '' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('refused at synth, naming the prop, the value and the fix', () => {
  test.each([
    [
      'a challenger on a serverless slot',
      () => variantStack({ challenger: {} }, { mode: ServingMode.serverless() }),
      /challenger '\{ pointer: \/mlops\/dev\/serving\/taxi\/variants\/challenger\/model-package-arn, weight: .*\/weight \}' is invalid: a serverless endpoint serves one production variant: use ServingMode\.realTime\(\)/,
    ],
    [
      'a shadow on a serverless slot',
      () => variantStack({ shadow: {} }, { mode: ServingMode.serverless() }),
      /shadow '.*' is invalid: SageMaker shadow variants need instances \(shadow tests refuse serverless endpoints\)/,
    ],
    [
      'a challenger and a shadow at once',
      () => variantStack({ challenger: {}, shadow: {} }),
      /shadow '.*' is invalid: SageMaker allows one production variant on an endpoint with a shadow variant/,
    ],
    [
      "the champion's pointer as the challenger's",
      () => {
        const app = new App();
        const release = new Stack(app, 'Release');
        const pointer = new ReleasePointer(release, 'Pointer', { environmentName: 'dev' });
        const stack = new Stack(app, 'Serving');
        new ServingSlot(stack, 'Slot', {
          pointer,
          artifactStore: new ArtifactStore(stack, 'Store'),
          mode: ServingMode.realTime(),
          challenger: {
            pointer,
            weight: new VariantWeight(release, 'W', { environmentName: 'dev', variant: 'challenger' }),
          },
        });
      },
      /challenger\.pointer '\/mlops\/dev\/serving\/default\/model-package-arn' is invalid: the champion's pointer, the variant's pointer and its weight must be three parameters/,
    ],
    [
      'an invalid challenger instance type and count',
      () => variantStack({ challenger: { instanceType: 'c5.large', instanceCount: 0 } }),
      /challenger\.instanceType 'c5\.large' is invalid[\s\S]*challenger\.instanceCount '0' is invalid: use a whole number from 1 to 1000/,
    ],
    [
      'an instance canary larger than half of the challenger',
      () =>
        variantStack(
          { challenger: {} },
          {
            mode: ServingMode.realTime({
              minInstances: 2,
              trafficShifting: TrafficShifting.canary({
                size: CapacitySize.instances(1),
                wait: Duration.minutes(5),
              }),
            }),
          },
        ),
      /challenger\.instanceCount '1' is invalid: .* SageMaker allows at most half of a variant's instances: give the challenger at least 2 instances/,
    ],
    [
      'a weight in the serving stack',
      () => {
        const app = new App();
        const release = new Stack(app, 'Release');
        const stack = new Stack(app, 'Serving');
        new ServingSlot(stack, 'Slot', {
          pointer: new ReleasePointer(release, 'Pointer', { environmentName: 'dev' }),
          artifactStore: new ArtifactStore(stack, 'Store'),
          mode: ServingMode.realTime(),
          challenger: {
            pointer: new ReleasePointer(release, 'C', { environmentName: 'dev', variant: 'challenger' }),
            weight: new VariantWeight(stack, 'W', { environmentName: 'dev', variant: 'challenger' }),
          },
        });
      },
      /challenger\.weight 'Serving\/W' is invalid: .*create the VariantWeight in another stack/,
    ],
  ])('%s', (_case, build, message) => {
    expect(build).toThrow(message);
  });

  test("the challenger's alarms count against SageMaker's 10: 6 more names at most", () => {
    const names = (n: number) => Array.from({ length: n }, (_, i) => `alarm-${i}`);
    expect(() =>
      variantStack({ challenger: {} }, { mode: ServingMode.realTime({ rollbackAlarmNames: names(6) }) }),
    ).not.toThrow();
    expect(() =>
      variantStack({ challenger: {} }, { mode: ServingMode.realTime({ rollbackAlarmNames: names(7) }) }),
    ).toThrow(
      /mode\.rollbackAlarmNames .* is invalid: SageMaker watches at most 10 alarms in an update and the slot's own 4 are among them: give at most 6/,
    );
  });
});
