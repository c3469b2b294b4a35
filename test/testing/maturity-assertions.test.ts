import { App, Stack } from 'aws-cdk-lib';
import { Level0Tier, MaturityContract, MaturityLevel } from '../../lib';
import { MaturityAssertions, MlopsAssertionError } from '../../lib/testing';

/** A stack at level 0: the artifact store and workspace, nothing of level 1. */
function levelZeroStack(): Stack {
  const stack = new Stack(new App(), 'Team');
  MaturityContract.declare(stack, { environmentName: 'team', declaredLevel: MaturityLevel.NO_MLOPS });
  new Level0Tier(stack, 'Level0');
  return stack;
}

describe('MaturityAssertions', () => {
  test('passes for the level and capabilities the composition has', () => {
    const assertions = MaturityAssertions.of(levelZeroStack());
    expect(() => assertions.hasLevel(MaturityLevel.NO_MLOPS)).not.toThrow();
    expect(() => assertions.hasCapability('artifact-store')).not.toThrow();
    expect(() => assertions.hasCapability('notebook-workspace')).not.toThrow();
    expect(assertions.achievedLevel).toBe(0);
    expect(assertions.missingForLevel(MaturityLevel.NO_MLOPS)).toEqual([]);
  });

  test('hasLevel fails listing every missing capability', () => {
    const assertions = MaturityAssertions.of(levelZeroStack());
    expect(() => assertions.hasLevel(MaturityLevel.DEVOPS)).toThrow(MlopsAssertionError);
    expect(() => assertions.hasLevel(MaturityLevel.DEVOPS)).toThrow(
      "Environment 'team' does not reach maturity level 1 (DevOps, no MLOps): it reaches level 0 (No MLOps). " +
        'Missing: ci-cd (level 1: CI/CD that tests and releases the platform and its ML code), ' +
        'automated-tests (level 1: Automated tests gate every release), ' +
        'ops-metrics (level 1: Operational metrics, dashboards and alerts)',
    );
  });

  test('missingForLevel names what each level still needs', () => {
    const assertions = MaturityAssertions.of(levelZeroStack());
    expect(assertions.missingForLevel(MaturityLevel.AUTOMATED_TRAINING)).toEqual([
      'ci-cd',
      'automated-tests',
      'ops-metrics',
      'training-pipeline',
      'experiment-tracking',
      'model-registry',
      'one-command-deployment',
      'multiple-models',
    ]);
  });

  test('hasCapability fails naming the capability and what is present', () => {
    const assertions = MaturityAssertions.of(levelZeroStack());
    expect(() => assertions.hasCapability('model-registry')).toThrow(
      "Environment 'team' lacks capability model-registry (level 2: Model registry (model package groups)). " +
        'Present: artifact-store, notebook-workspace',
    );
    expect(() => assertions.hasCapability('model-regsitry')).toThrow(
      /'model-regsitry' is not a capability of the maturity model: use one of artifact-store, notebook-workspace, ci-cd/,
    );
  });

  test('shared capabilities count', () => {
    const stack = levelZeroStack();
    const contract = MaturityContract.of(stack)!;
    contract.shareCapability(MaturityContract.of(stack)!.capabilities[0], 'dev');
    expect(MaturityAssertions.of(stack).capabilities).toEqual(['artifact-store', 'notebook-workspace']);
  });

  test('finds the one contract below a scope, and refuses an ambiguous or missing one', () => {
    const stack = levelZeroStack();
    const app = stack.node.root as App;
    expect(MaturityAssertions.of(app).environmentName).toBe('team');
    const other = new Stack(app, 'Other');
    MaturityContract.declare(other, { environmentName: 'other', declaredLevel: MaturityLevel.NO_MLOPS });
    expect(() => MaturityAssertions.of(app)).toThrow(
      "2 maturity contracts are declared under '(app)' (team, other): call MaturityAssertions.of() on one environment's scope",
    );
    expect(() => MaturityAssertions.of(new Stack(new App(), 'Bare'))).toThrow(
      /No maturity contract covers 'Bare': declare one with MaturityContract.declare/,
    );
    expect(() => MaturityAssertions.of(stack).hasLevel(7 as MaturityLevel)).toThrow(
      'level 7 is not a maturity level: use an integer from 0 to 4',
    );
  });
});
