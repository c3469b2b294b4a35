import { Template } from 'aws-cdk-lib/assertions';
import { createPlatformApp } from '../../bin/platform-app';
import { MlopsValidationError } from '../../lib/private/errors';
import { loadSynthesizedApp } from '../support/synthesized-app';

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
}

/** The endpoints of a template, by endpoint name, and the alarms by logical id. */
function endpointsAndAlarms(template: Record<string, unknown>) {
  const resources = Object.entries(template.Resources as Record<string, Resource>);
  const endpoints = Object.fromEntries(
    resources
      .filter(([, r]) => r.Type === 'AWS::SageMaker::Endpoint')
      .map(([, r]) => [r.Properties.EndpointName as string, r.Properties]),
  );
  const alarms = Object.fromEntries(
    resources.filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm').map(([id, r]) => [id, r.Properties]),
  );
  return { endpoints, alarms };
}

describe('deployment guardrails of the default app', () => {
  // GIVEN the default app, as cdk synth writes it
  const { stacks } = loadSynthesizedApp();
  const serving = (env: string) => stacks.find((s) => s.stackName === `${env}-Serving`)!.template;

  test('prod updates each model with a 10% canary for 10 minutes, rolling back on its alarms by name', () => {
    const { endpoints, alarms } = endpointsAndAlarms(serving('prod'));
    expect(Object.keys(endpoints).sort()).toEqual(['mlops-prod-fare-amount', 'mlops-prod-trip-duration']);
    for (const [name, endpoint] of Object.entries(endpoints)) {
      const config = endpoint.DeploymentConfig as {
        BlueGreenUpdatePolicy: unknown;
        AutoRollbackConfiguration: { Alarms: Array<{ AlarmName?: { Ref: string }; 'Fn::If'?: unknown[] }> };
      };
      expect(config.BlueGreenUpdatePolicy).toEqual({
        TrafficRoutingConfiguration: {
          Type: 'CANARY',
          CanarySize: { Type: 'CAPACITY_PERCENT', Value: 10 },
          WaitIntervalInSeconds: 600,
        },
        TerminationWaitInSeconds: 300,
        MaximumExecutionTimeoutInSeconds: 3600,
      });
      // The alarms are referenced by name (a Ref of an alarm is its name), and are the model's own;
      // the challenger's join them while it serves (a condition of its own)
      const refOf = (a: (typeof config.AutoRollbackConfiguration.Alarms)[number]) =>
        (a.AlarmName ?? (a['Fn::If']![1] as { AlarmName: { Ref: string } }).AlarmName).Ref;
      const names = config.AutoRollbackConfiguration.Alarms.map((a) => alarms[refOf(a)]?.AlarmName);
      expect({ name, names }).toEqual({
        name,
        names: [
          `${name}-rollback-errors`,
          `${name}-rollback-latency`,
          `${name}-challenger-rollback-errors`,
          `${name}-challenger-rollback-latency`,
        ],
      });
      expect(
        config.AutoRollbackConfiguration.Alarms.filter((a) => a['Fn::If']).map((a) => a['Fn::If']![0]),
      ).toEqual([expect.stringMatching(/ChallengerReleased/), expect.stringMatching(/ChallengerReleased/)]);
    }
  });

  test('staging updates all at once; dev, serverless, has no blue/green policy', () => {
    for (const endpoint of Object.values(endpointsAndAlarms(serving('staging')).endpoints)) {
      expect(endpoint.DeploymentConfig).toMatchObject({
        BlueGreenUpdatePolicy: {
          TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 },
        },
      });
    }
    const dev = Object.values(endpointsAndAlarms(serving('dev')).endpoints);
    expect(dev).toHaveLength(2);
    expect(dev.map((e) => e.DeploymentConfig)).toEqual([undefined, undefined]);
  });
});

describe('the config reaches the slot', () => {
  const context = (serving: Record<string, unknown>) => ({
    analyticsReporting: false,
    // Selected, so the pipeline that delivers prod is left out and its capabilities are shared
    context: { mlops: { environments: { prod: { level: 2, serving } } }, 'mlops:env': 'prod' },
  });

  test('linear steps and extra rollback alarms', () => {
    // GIVEN prod with linear steps of 25% every 3 minutes and one more alarm
    const { stages } = createPlatformApp(
      context({
        mode: 'realTime',
        minInstances: 2,
        maxInstances: 4,
        trafficShifting: { linear: { percent: 25, intervalMinutes: 3 } },
        rollbackAlarmNames: ['checkout-api-5xx'],
      }),
    );
    // THEN the endpoint shifts in those steps and also watches that alarm
    const template = Template.fromStack(stages[0].serving!);
    const { endpoints } = endpointsAndAlarms(template.toJSON());
    const config = endpoints['mlops-prod-trip-duration'].DeploymentConfig as {
      BlueGreenUpdatePolicy: { TrafficRoutingConfiguration: unknown };
      AutoRollbackConfiguration: { Alarms: Array<{ AlarmName: unknown }> };
    };
    expect(config.BlueGreenUpdatePolicy.TrafficRoutingConfiguration).toEqual({
      Type: 'LINEAR',
      LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 25 },
      WaitIntervalInSeconds: 180,
    });
    expect(config.AutoRollbackConfiguration.Alarms.map((a) => a.AlarmName)).toEqual([
      { Ref: expect.stringMatching(/ErrorsAlarm/) },
      { Ref: expect.stringMatching(/LatencyAlarm/) },
      'checkout-api-5xx',
    ]);
  });

  test('a canary the fleet cannot take fails with the slot, the prop, the value and the fix', () => {
    // GIVEN a canary of one instance on prod's one instance: it would take all traffic at once
    const build = () =>
      createPlatformApp(
        context({
          mode: 'realTime',
          minInstances: 1,
          trafficShifting: { canary: { instances: 1, waitMinutes: 5 } },
        }),
      );
    expect(build).toThrow(MlopsValidationError);
    expect(build).toThrow(
      /ServingSlot 'prod\/Serving\/trip-duration': mode\.trafficShifting\.size 'CapacitySize\.instances\(1\)' is invalid: 1 instance is more than half of the 1 instance the variant runs at minInstances \(it would shift all traffic at once\)/,
    );
  });
});
