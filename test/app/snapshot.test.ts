import { loadSynthesizedApp } from '../support/synthesized-app';
import { normalizedTemplate } from '../../lib/testing';

// GIVEN the default app, synthesized once by the global setup with the repository's cdk.json
const { stacks } = loadSynthesizedApp();

describe('snapshots of every environment', () => {
  test('the app has a stack for each default environment and the delivery pipeline', () => {
    expect(stacks.map((s) => `${s.environment}/${s.stackName}`).sort()).toEqual([
      '(platform)/Delivery',
      'dev/dev-Platform',
      'dev/dev-Release',
      'dev/dev-Serving',
      'prod/prod-Platform',
      'prod/prod-Release',
      'prod/prod-Serving',
      'staging/staging-Platform',
      'staging/staging-Release',
      'staging/staging-Serving',
    ]);
  });

  test.each(stacks.map((s) => [`${s.environment}/${s.stackName}`, s] as const))(
    '%s matches its snapshot',
    (_name, stack) => {
      // THEN the template, asset hashes normalized, is unchanged unless the snapshot is updated on purpose
      expect(normalizedTemplate(stack.template)).toMatchSnapshot();
    },
  );
});
