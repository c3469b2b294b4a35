import { loadSynthesizedApp } from '../support/synthesized-app';

// GIVEN every environment stack of the default app. Generic on purpose: a Lambda function or queue
// that a later tier adds must be covered without a new test.
const environments = loadSynthesizedApp().stacks.filter((s) => s.environment !== '(platform)');
type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

const cases = environments.flatMap((stack) => {
  const resources = (stack.template.Resources ?? {}) as Resources;
  const alarms = Object.values(resources)
    .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
    .map((a) => JSON.stringify(a));
  return Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function' || r.Type === 'AWS::SQS::Queue')
    .map(([logicalId, r]) => ({
      name: `${stack.environment}/${logicalId}`,
      logicalId,
      type: r.Type,
      alarms,
    }));
});

describe('every Lambda function and queue in every environment has its alarms', () => {
  test('there is something to check', () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  test.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const mine = c.alarms.filter((a) => a.includes(`"${c.logicalId}"`));
    const metrics = (names: string[]) =>
      names.filter((m) => mine.some((a) => a.includes(`"MetricName":"${m}"`)));
    if (c.type === 'AWS::Lambda::Function') {
      expect(metrics(['Errors', 'Throttles', 'Duration'])).toEqual(['Errors', 'Throttles', 'Duration']);
    } else {
      expect(metrics(['ApproximateNumberOfMessagesVisible', 'ApproximateAgeOfOldestMessage']).length).toBe(1);
    }
  });

  test('each environment has a dashboard and a notification topic', () => {
    const names = [...new Set(environments.map((s) => s.environment))];
    expect(names.sort()).toEqual(['dev', 'prod', 'staging']);
    for (const env of names) {
      const types = environments
        .filter((s) => s.environment === env)
        .flatMap((s) => Object.values((s.template.Resources ?? {}) as Resources).map((r) => r.Type));
      expect({
        env,
        dashboard: types.includes('AWS::CloudWatch::Dashboard'),
        topic: types.includes('AWS::SNS::Topic'),
      }).toEqual({ env, dashboard: true, topic: true });
    }
  });
});

describe('every serving endpoint has one set of alarms, in its own stack', () => {
  const endpoints = environments.flatMap((stack) =>
    Object.entries((stack.template.Resources ?? {}) as Resources)
      .filter(([, r]) => r.Type === 'AWS::SageMaker::Endpoint')
      .map(([logicalId, r]) => ({ name: `${stack.environment}/${logicalId}`, stack, endpoint: r })),
  );

  test('there is something to check', () => {
    expect(endpoints.length).toBeGreaterThan(0);
  });

  test.each(endpoints.map((e) => [e.name, e] as const))('%s', (_name, { stack, endpoint }) => {
    // GIVEN the endpoint's name, literal in the template (a serving slot's)
    const name = (endpoint.Properties as { EndpointName: unknown }).EndpointName;
    const alarms = Object.values((stack.template.Resources ?? {}) as Resources).filter(
      (r) =>
        r.Type === 'AWS::CloudWatch::Alarm' &&
        JSON.stringify(r.Properties).includes(`{"Name":"EndpointName","Value":${JSON.stringify(name)}}`),
    );
    // THEN exactly one 5XX alarm and one latency alarm watch each of its variants (the champion, and
    // the test variant staging and prod offer), and all notify
    const byVariant: Record<string, string[]> = {};
    for (const alarm of alarms) {
      const props = alarm.Properties as {
        MetricName: string;
        Dimensions: Array<{ Name: string; Value: string }>;
      };
      const variant = props.Dimensions.find((d) => d.Name === 'VariantName')?.Value ?? '(none)';
      (byVariant[variant] ??= []).push(props.MetricName);
    }
    const expected =
      stack.environment === 'dev'
        ? ['AllTraffic']
        : ['AllTraffic', stack.environment === 'staging' ? 'Shadow' : 'Challenger'];
    expect(Object.keys(byVariant).sort()).toEqual(expected.sort());
    for (const metrics of Object.values(byVariant)) {
      expect(metrics.sort()).toEqual(['Invocation5XXErrors', 'ModelLatency']);
    }
    for (const alarm of alarms) {
      expect((alarm.Properties as { AlarmActions?: unknown[] }).AlarmActions).toHaveLength(1);
    }
  });

  test('no environment stack imports values of another or uses a condition it does not define', () => {
    for (const stack of environments) {
      const text = JSON.stringify(stack.template.Resources ?? {});
      const defined = Object.keys((stack.template.Conditions ?? {}) as object);
      const used = [
        ...text.matchAll(/"Condition":"([^"]+)"/g),
        ...text.matchAll(/"Fn::If":\["([^"]+)"/g),
      ].map((m) => m[1]);
      expect({ stack: stack.stackName, imports: text.includes('Fn::ImportValue') }).toEqual({
        stack: stack.stackName,
        imports: false,
      });
      expect({ stack: stack.stackName, undefined: used.filter((c) => !defined.includes(c)) }).toEqual({
        stack: stack.stackName,
        undefined: [],
      });
    }
  });
});
