import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Capability } from '../../lib/maturity/capability';
import { MaturityContract } from '../../lib/maturity/maturity-contract';
import { MlopsValidationError } from '../../lib/private/errors';
import { ReleasePointer } from '../../lib/serving/release-pointer';
import {
  RealTimeServingOptions,
  ServerlessServingOptions,
  ServingMode,
  ServingSlot,
} from '../../lib/serving/serving-slot';
import { CapacitySize, TrafficShifting } from '../../lib/serving/traffic-shifting';
import { ArtifactStore } from '../../lib/storage/artifact-store';
import { cfnLint, formatCfnLint } from '../support/cfn-lint';

/** A real-time slot `taxi-dev` in its own stack, with `options`. */
function realTimeSlot(options: RealTimeServingOptions, extra?: (stack: Stack) => string[]) {
  const app = new App();
  const pointer = new ReleasePointer(new Stack(app, 'Release'), 'Pointer', { environmentName: 'dev' });
  const stack = new Stack(app, 'Serving');
  const rollbackAlarmNames = extra ? extra(stack) : options.rollbackAlarmNames;
  const slot = new ServingSlot(stack, 'Slot', {
    pointer,
    artifactStore: new ArtifactStore(stack, 'Store'),
    endpointName: 'taxi-dev',
    mode: ServingMode.realTime({ ...options, rollbackAlarmNames }),
  });
  return { stack, slot, template: Template.fromStack(stack) };
}

/** The endpoint's DeploymentConfig, as synthesized. */
function deploymentConfig(template: Template): Record<string, unknown> {
  const [endpoint] = Object.values(template.findResources('AWS::SageMaker::Endpoint'));
  return (endpoint as { Properties: { DeploymentConfig: Record<string, unknown> } }).Properties
    .DeploymentConfig;
}

/** The slot's own two alarms, referenced by their logical ids. */
function slotAlarms(template: Template) {
  const ids = Object.keys(template.findResources('AWS::CloudWatch::Alarm'));
  const errors = ids.find((id) => id.startsWith('SlotErrorsAlarm'))!;
  const latency = ids.find((id) => id.startsWith('SlotLatencyAlarm'))!;
  return [{ AlarmName: { Ref: errors } }, { AlarmName: { Ref: latency } }];
}

describe('blue/green traffic shifting of a real-time slot', () => {
  test('by default all traffic shifts at once, bakes 5 minutes and rolls back on the slot alarms', () => {
    const { template } = realTimeSlot({});
    expect(deploymentConfig(template)).toEqual({
      BlueGreenUpdatePolicy: {
        TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 },
        TerminationWaitInSeconds: 300,
        MaximumExecutionTimeoutInSeconds: 3600,
      },
      AutoRollbackConfiguration: { Alarms: slotAlarms(template) },
    });
  });

  test('a canary of 10% serves 10 minutes before the rest of the traffic shifts', () => {
    const { template } = realTimeSlot({
      trafficShifting: TrafficShifting.canary({ size: CapacitySize.percent(10), wait: Duration.minutes(10) }),
    });
    expect(deploymentConfig(template)).toEqual({
      BlueGreenUpdatePolicy: {
        TrafficRoutingConfiguration: {
          Type: 'CANARY',
          CanarySize: { Type: 'CAPACITY_PERCENT', Value: 10 },
          WaitIntervalInSeconds: 600,
        },
        TerminationWaitInSeconds: 300,
        MaximumExecutionTimeoutInSeconds: 3600,
      },
      AutoRollbackConfiguration: { Alarms: slotAlarms(template) },
    });
  });

  test('a canary of one instance of a fleet of at least two', () => {
    const { template } = realTimeSlot({
      minInstances: 2,
      maxInstances: 4,
      trafficShifting: TrafficShifting.canary({
        size: CapacitySize.instances(1),
        wait: Duration.seconds(90),
      }),
    });
    expect(deploymentConfig(template).BlueGreenUpdatePolicy).toEqual({
      TrafficRoutingConfiguration: {
        Type: 'CANARY',
        CanarySize: { Type: 'INSTANCE_COUNT', Value: 1 },
        WaitIntervalInSeconds: 90,
      },
      TerminationWaitInSeconds: 300,
      MaximumExecutionTimeoutInSeconds: 3600,
    });
  });

  test('linear steps of 20% every 5 minutes', () => {
    const { template } = realTimeSlot({
      trafficShifting: TrafficShifting.linear({
        step: CapacitySize.percent(20),
        interval: Duration.minutes(5),
      }),
      blueGreenBakeTime: Duration.minutes(10),
    });
    expect(deploymentConfig(template)).toEqual({
      BlueGreenUpdatePolicy: {
        TrafficRoutingConfiguration: {
          Type: 'LINEAR',
          LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 20 },
          WaitIntervalInSeconds: 300,
        },
        TerminationWaitInSeconds: 600,
        // 5 steps of 5 minutes and the 10-minute bake, with half an hour to provision the new fleet
        MaximumExecutionTimeoutInSeconds: 5 * 300 + 600 + 1800,
      },
      AutoRollbackConfiguration: { Alarms: slotAlarms(template) },
    });
  });

  test('linear steps of one instance of a fleet of 2 to 10', () => {
    const { template } = realTimeSlot({
      minInstances: 2,
      maxInstances: 10,
      trafficShifting: TrafficShifting.linear({
        step: CapacitySize.instances(1),
        interval: Duration.minutes(2),
      }),
    });
    expect(deploymentConfig(template).BlueGreenUpdatePolicy).toEqual({
      TrafficRoutingConfiguration: {
        Type: 'LINEAR',
        LinearStepSize: { Type: 'INSTANCE_COUNT', Value: 1 },
        WaitIntervalInSeconds: 120,
      },
      TerminationWaitInSeconds: 300,
      MaximumExecutionTimeoutInSeconds: 3600,
    });
  });

  test('the execution timeout outlasts long waits, with half an hour to provision the new fleet', () => {
    // GIVEN 10 linear steps of 30 minutes and a bake time of one hour: 6 hours of waits
    const { template } = realTimeSlot({
      trafficShifting: TrafficShifting.linear({
        step: CapacitySize.percent(10),
        interval: Duration.minutes(30),
      }),
      blueGreenBakeTime: Duration.hours(1),
    });
    // THEN the update may run 6.5 hours before SageMaker stops it
    expect(deploymentConfig(template).BlueGreenUpdatePolicy).toMatchObject({
      MaximumExecutionTimeoutInSeconds: 6 * 3600 + 1800,
    });
  });

  test('alarms named in rollbackAlarmNames roll back too, after the slot alarms; a token name passes as it is', () => {
    // GIVEN a business-metric alarm of the same stack and an alarm of another app, by name
    const { template } = realTimeSlot({}, (stack) => [
      new cloudwatch.Alarm(stack, 'Conversions', {
        metric: new cloudwatch.Metric({ namespace: 'Shop', metricName: 'Conversions' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      }).alarmName,
      'checkout-api-5xx',
    ]);
    // THEN the endpoint watches all four, by name
    const conversions = Object.keys(template.findResources('AWS::CloudWatch::Alarm')).find((id) =>
      id.startsWith('Conversions'),
    )!;
    expect(deploymentConfig(template).AutoRollbackConfiguration).toEqual({
      Alarms: [
        ...slotAlarms(template),
        { AlarmName: { Ref: conversions } },
        { AlarmName: 'checkout-api-5xx' },
      ],
    });
  });

  test('a wait given as a token in seconds reaches WaitIntervalInSeconds as it is', () => {
    const app = new App();
    const pointer = new ReleasePointer(new Stack(app, 'Release'), 'Pointer', { environmentName: 'dev' });
    const stack = new Stack(app, 'Serving');
    const seconds = new CfnParameter(stack, 'CanarySeconds', { type: 'Number' }).valueAsNumber;
    new ServingSlot(stack, 'Slot', {
      pointer,
      artifactStore: new ArtifactStore(stack, 'Store'),
      mode: ServingMode.realTime({
        trafficShifting: TrafficShifting.canary({
          size: CapacitySize.percent(10),
          wait: Duration.seconds(seconds),
        }),
      }),
    });
    // THEN the wait is the parameter, and the timeout, which cannot add it up, is SageMaker's longest
    expect(deploymentConfig(Template.fromStack(stack)).BlueGreenUpdatePolicy).toMatchObject({
      TrafficRoutingConfiguration: { WaitIntervalInSeconds: { Ref: 'CanarySeconds' } },
      MaximumExecutionTimeoutInSeconds: 28800,
    });
  });

  test('each kind of update passes cfn-lint, which checks them against AWS::SageMaker::Endpoint', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'traffic-shifting-'));
    const files = [
      TrafficShifting.allAtOnce(),
      TrafficShifting.canary({ size: CapacitySize.instances(1), wait: Duration.minutes(10) }),
      TrafficShifting.linear({ step: CapacitySize.percent(25), interval: Duration.minutes(5) }),
    ].map((trafficShifting, i) => {
      const { template } = realTimeSlot({
        minInstances: 2,
        maxInstances: 4,
        trafficShifting,
        rollbackAlarmNames: ['checkout-api-5xx'],
      });
      const file = path.join(dir, `slot-${i}.json`);
      fs.writeFileSync(file, JSON.stringify(template.toJSON()));
      return file;
    });
    const { matches, stderr } = cfnLint(['--', ...files]);
    expect(stderr).toBe('');
    expect(formatCfnLint(matches)).toEqual([]);
  });
});

describe('the deployment-guardrails capability', () => {
  test('a real-time slot provides it; a serverless slot, which has no blue/green rollback, does not', () => {
    const { slot } = realTimeSlot({});
    expect(MaturityContract.providedBy(slot)).toContain(Capability.DEPLOYMENT_GUARDRAILS);

    const app = new App();
    const pointer = new ReleasePointer(new Stack(app, 'Release'), 'Pointer', { environmentName: 'dev' });
    const stack = new Stack(app, 'Serving');
    const serverless = new ServingSlot(stack, 'Slot', {
      pointer,
      artifactStore: new ArtifactStore(stack, 'Store'),
    });
    expect(MaturityContract.providedBy(serverless)).not.toContain(Capability.DEPLOYMENT_GUARDRAILS);
  });

  test('a slot on Inf1 instances, which SageMaker excludes from guardrails, does not, and says why', () => {
    // GIVEN a canary on an Inf1 instance type
    const { slot, stack } = realTimeSlot({
      instanceType: 'ml.inf1.xlarge',
      trafficShifting: TrafficShifting.canary({ size: CapacitySize.percent(10), wait: Duration.minutes(10) }),
    });
    // THEN the capability is not claimed, and a warning that can be acknowledged tells why
    expect(MaturityContract.providedBy(slot)).not.toContain(Capability.DEPLOYMENT_GUARDRAILS);
    Annotations.fromStack(stack).hasWarning(
      '/Serving/Slot',
      Match.stringLikeRegexp(
        'SageMaker applies no deployment guardrails to endpoints on Inf1 instances \\(ml\\.inf1\\.xlarge\\).*cdk-mlops-maturity:guardrailsExcludeInf1',
      ),
    );
  });
});

describe('refused guardrails fail at synth with the prop, the value and the fix', () => {
  const canary = (size: CapacitySize, wait = Duration.minutes(10)) => TrafficShifting.canary({ size, wait });
  const linear = (step: CapacitySize, interval = Duration.minutes(5)) =>
    TrafficShifting.linear({ step, interval });

  test.each<[string, RealTimeServingOptions, RegExp]>([
    [
      'a canary above 50%',
      { trafficShifting: canary(CapacitySize.percent(60)) },
      /mode\.trafficShifting\.size 'CapacitySize\.percent\(60\)' is invalid: SageMaker allows a canary of at most 50% of the new fleet: use CapacitySize\.percent\(n\) with n from 1 to 50/,
    ],
    [
      'a canary of 0%',
      { trafficShifting: canary(CapacitySize.percent(0)) },
      /mode\.trafficShifting\.size 'CapacitySize\.percent\(0\)' is invalid: use a whole number of at least 1/,
    ],
    [
      'a canary of every instance the variant runs',
      { minInstances: 2, maxInstances: 4, trafficShifting: canary(CapacitySize.instances(2)) },
      /mode\.trafficShifting\.size 'CapacitySize\.instances\(2\)' is invalid: 2 instances is more than half of the 2 instances the variant runs at minInstances \(it would shift all traffic at once\), and SageMaker allows a canary of at most 50%: use a percentage, or raise minInstances to at least 4/,
    ],
    [
      'a canary of 2 of 3 instances',
      { minInstances: 3, maxInstances: 4, trafficShifting: canary(CapacitySize.instances(2)) },
      /mode\.trafficShifting\.size 'CapacitySize\.instances\(2\)' is invalid: 2 instances is more than half of the 3 instances the variant runs at minInstances, and/,
    ],
    [
      'a canary of a fraction of an instance',
      { minInstances: 4, maxInstances: 4, trafficShifting: canary(CapacitySize.instances(1.5)) },
      /mode\.trafficShifting\.size 'CapacitySize\.instances\(1\.5\)' is invalid: use a whole number of at least 1/,
    ],
    [
      'a linear step above 50%',
      { trafficShifting: linear(CapacitySize.percent(60)) },
      /mode\.trafficShifting\.step 'CapacitySize\.percent\(60\)' is invalid: SageMaker's linear steps are 10% to 50% of the new fleet: use CapacitySize\.percent\(n\) with n from 10 to 50/,
    ],
    [
      'a linear step below 10%',
      { trafficShifting: linear(CapacitySize.percent(5)) },
      /mode\.trafficShifting\.step 'CapacitySize\.percent\(5\)' is invalid: SageMaker's linear steps are 10% to 50%/,
    ],
    [
      'a linear step of more than half the instances',
      { minInstances: 1, trafficShifting: linear(CapacitySize.instances(1)) },
      /mode\.trafficShifting\.step 'CapacitySize\.instances\(1\)' is invalid: 1 instance is more than half of the 1 instance the variant runs at minInstances \(it would shift all traffic at once\), and SageMaker allows a linear step of at most 50%/,
    ],
    [
      'a linear step under 10% of the fleet autoscaling may reach',
      { minInstances: 2, maxInstances: 20, trafficShifting: linear(CapacitySize.instances(1)) },
      /mode\.trafficShifting\.step 'CapacitySize\.instances\(1\)' is invalid: 1 instance is less than 10% of the 20 instances autoscaling may reach \(maxInstances\), and SageMaker's linear steps are 10% to 50% of the fleet: use a percentage, a larger step, or lower maxInstances/,
    ],
    [
      'a canary wait above one hour',
      { trafficShifting: canary(CapacitySize.percent(10), Duration.minutes(61)) },
      /mode\.trafficShifting\.wait '1 hour 1 minute' is invalid: use at most one hour/,
    ],
    [
      'a linear interval in fractions of a second',
      { trafficShifting: linear(CapacitySize.percent(20), Duration.millis(1500)) },
      /mode\.trafficShifting\.interval '1 second 500 millis' is invalid: use whole seconds: SageMaker's WaitIntervalInSeconds is an integer/,
    ],
    [
      'waits longer than an update may run',
      { trafficShifting: linear(CapacitySize.percent(10), Duration.hours(1)) },
      /mode\.trafficShifting 'TrafficShifting\.linear\(\{ step: CapacitySize\.percent\(10\), interval: 1 hour \}\)' is invalid: its waits and the bake time add up to 10 hours 5 minutes, and SageMaker ends an update after at most 8 hours, which must also leave 30 minutes to provision the new fleet: shorten the interval or the bake time, or take larger steps/,
    ],
    [
      'more than 8 alarms besides the slot alarms',
      { rollbackAlarmNames: ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9'] },
      /mode\.rollbackAlarmNames '\["a1",.*"a9"\]' is invalid: SageMaker watches at most 10 alarms in an update and the slot's own 2 are among them: give at most 8/,
    ],
    [
      'a blank alarm name',
      { rollbackAlarmNames: ['ok', '  '] },
      /mode\.rollbackAlarmNames\[1\] ' {2}' is invalid: use the name of a CloudWatch alarm in this account and region: 1 to 255 characters, not only spaces, without control characters/,
    ],
    [
      'an alarm name with a control character',
      { rollbackAlarmNames: ['line\nbreak'] },
      /mode\.rollbackAlarmNames\[0\] 'line\nbreak' is invalid: use the name of a CloudWatch alarm/,
    ],
    [
      'an alarm name longer than 255 characters',
      { rollbackAlarmNames: ['a'.repeat(256)] },
      /mode\.rollbackAlarmNames\[0\] 'a{256}' is invalid: use the name of a CloudWatch alarm/,
    ],
    [
      "one of the slot's own alarms again",
      { rollbackAlarmNames: ['taxi-dev-rollback-errors'] },
      /mode\.rollbackAlarmNames\[0\] 'taxi-dev-rollback-errors' is invalid: it is already watched \(one of the slot's own alarms or an earlier name\): give each alarm once/,
    ],
  ])('%s', (_name, options, message) => {
    const build = () => realTimeSlot(options);
    expect(build).toThrow(MlopsValidationError);
    expect(build).toThrow(message);
  });

  test('a token wait in minutes, which CloudFormation cannot convert', () => {
    const build = () => {
      const app = new App();
      const pointer = new ReleasePointer(new Stack(app, 'Release'), 'Pointer', { environmentName: 'dev' });
      const stack = new Stack(app, 'Serving');
      const minutes = new CfnParameter(stack, 'Minutes', { type: 'Number' }).valueAsNumber;
      new ServingSlot(stack, 'Slot', {
        pointer,
        artifactStore: new ArtifactStore(stack, 'Store'),
        mode: ServingMode.realTime({
          trafficShifting: TrafficShifting.canary({
            size: CapacitySize.percent(10),
            wait: Duration.minutes(minutes),
          }),
        }),
      });
    };
    expect(build).toThrow(
      /mode\.trafficShifting\.wait .* is invalid: a token canary wait must be given in seconds, as CloudFormation's WaitIntervalInSeconds takes it: use Duration\.seconds\(token\)/,
    );
  });

  test.each([
    [
      'trafficShifting',
      TrafficShifting.canary({ size: CapacitySize.percent(10), wait: Duration.minutes(10) }),
    ],
    ['rollbackAlarmNames', ['checkout-api-5xx']],
  ])('a serverless slot given %s (by a caller the types do not reach)', (key, value) => {
    const build = () => {
      const app = new App();
      const pointer = new ReleasePointer(new Stack(app, 'Release'), 'Pointer', { environmentName: 'dev' });
      const stack = new Stack(app, 'Serving');
      new ServingSlot(stack, 'Slot', {
        pointer,
        artifactStore: new ArtifactStore(stack, 'Store'),
        mode: ServingMode.serverless({ [key]: value } as ServerlessServingOptions),
      });
    };
    expect(build).toThrow(MlopsValidationError);
    expect(build).toThrow(
      new RegExp(
        `mode\\.${key} '.+' is invalid: a serverless slot has no instance fleets to shift traffic between and no ` +
          `rollback alarms: give it to ServingMode\\.realTime\\(\\{ ${key} \\}\\), or remove it`,
      ),
    );
  });

  test('every problem is reported in one error', () => {
    const build = () =>
      realTimeSlot({
        trafficShifting: TrafficShifting.canary({ size: CapacitySize.percent(70), wait: Duration.hours(2) }),
        rollbackAlarmNames: [''],
      });
    expect(build).toThrow(
      /mode\.trafficShifting\.wait[^\n]*\n {2}- mode\.trafficShifting\.size[^\n]*\n {2}- mode\.rollbackAlarmNames\[0\]/,
    );
  });
});
