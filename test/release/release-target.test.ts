import { App, Stack, Stage } from 'aws-cdk-lib';
import { parsePlatformConfig } from '../../bin/config';
import { ReleasePointer } from '../../lib/serving/release-pointer';
import { ServingSlot } from '../../lib/serving/serving-slot';
import { ArtifactStore } from '../../lib/storage/artifact-store';
import { ReleaseError } from '../../lambda/shared/release';
import {
  buildPlatformAppForRelease,
  EnvironmentReleaseRequest,
  resolveEnvironmentTarget,
  resolveStackTarget,
} from '../../bin/release-target';

const ARN = 'arn:aws:sagemaker:us-east-1:123456789012:model-package/taxi-duration/3';
const EU_ARN = 'arn:aws:sagemaker:eu-west-1:123456789012:model-package/taxi-duration/3';

// Built once: the platform app as the release command builds it from cdk.json's context.
const platform = buildPlatformAppForRelease({
  mlops: {
    environments: {
      dev: { level: 2 },
      staging: { level: 1 },
      prod: { level: 2, account: '123456789012', region: 'eu-west-1' },
    },
    delivery: false,
  },
});

function resolve(overrides: Partial<EnvironmentReleaseRequest> = {}) {
  return resolveEnvironmentTarget(platform, { environment: 'dev', modelPackageArn: ARN, ...overrides });
}

function refusal(fn: () => unknown): ReleaseError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ReleaseError);
    return error as ReleaseError;
  }
  throw new Error('expected a ReleaseError');
}

describe('resolveEnvironmentTarget: the platform app names the stack, the pointer and the region', () => {
  test("an environment without a region: the app's stack and pointer, the package's region", () => {
    expect(resolve()).toEqual({
      environment: 'dev',
      slotName: 'default',
      request: {
        modelPackageArn: ARN,
        stackName: 'dev-Platform',
        pointerName: '/mlops/dev/serving/default/model-package-arn',
        region: 'us-east-1',
        account: undefined,
        deployCommand: "npx cdk deploy 'dev/*'",
      },
    });
  });

  test("an environment with an account and a region: the stack's region and account", () => {
    expect(resolve({ environment: 'prod', modelPackageArn: EU_ARN }).request).toMatchObject({
      stackName: 'prod-Platform',
      pointerName: '/mlops/prod/serving/default/model-package-arn',
      region: 'eu-west-1',
      account: '123456789012',
    });
  });

  test('building the app bundles no asset', () => {
    expect(platform.app.node.tryGetContext('aws:cdk:bundling-stacks')).toEqual([]);
  });
});

describe('resolveEnvironmentTarget: a stage and stack named by the user', () => {
  // GIVEN an environment whose slots live in a nested stage, in a stack with its own stackName
  const config = parsePlatformConfig({ mlops: { environments: { dev: { level: 2 } }, delivery: false } });
  const app = new App();
  const team = new Stage(app, 'team');
  const dev = new Stage(team, 'dev');
  const env = { account: '123456789012', region: 'eu-west-1' };
  const pointers = new Stack(dev, 'Pointers', { env });
  const serving = new Stack(dev, 'Serving', { env, stackName: 'ml-serving-dev' });
  const artifactStore = new ArtifactStore(serving, 'Store');
  for (const slotName of ['default', 'shadow']) {
    const pointer = new ReleasePointer(pointers, `Pointer-${slotName}`, { environmentName: 'dev', slotName });
    new ServingSlot(serving, `Slot-${slotName}`, { pointer, artifactStore });
  }

  test("the slot's own stack name, pointer and region, and the stage's path in the deploy command", () => {
    // WHEN
    const target = resolveEnvironmentTarget(
      { config, stages: [dev] },
      { environment: 'dev', modelPackageArn: EU_ARN, slotName: 'shadow' },
    );

    // THEN
    expect(target).toEqual({
      environment: 'dev',
      slotName: 'shadow',
      request: {
        modelPackageArn: EU_ARN,
        stackName: 'ml-serving-dev',
        pointerName: '/mlops/dev/serving/shadow/model-package-arn',
        region: 'eu-west-1',
        account: '123456789012',
        deployCommand: "npx cdk deploy 'team/dev/*'",
      },
    });
  });

  test("a package from another region than the slot's stack", () => {
    const error = refusal(() =>
      resolveEnvironmentTarget({ config, stages: [dev] }, { environment: 'dev', modelPackageArn: ARN }),
    );
    expect(error.code).toBe('region-mismatch');
    expect(error.message).toMatch(
      /model package ARN '.*' is in region us-east-1, but environment 'dev' is in eu-west-1: .*register the model in eu-west-1/,
    );
  });
});

describe('resolveEnvironmentTarget: config errors', () => {
  test('an environment that is not configured: lists the configured ones', () => {
    const error = refusal(() => resolve({ environment: 'qa' }));
    expect(error.code).toBe('unknown-environment');
    expect(error.message).toBe(
      "environment 'qa' is not configured: use one of dev, staging, prod, or add it to context.mlops.environments in cdk.json",
    );
  });

  test('an environment below level 2 has no serving slot: says which level to set', () => {
    const error = refusal(() => resolve({ environment: 'staging' }));
    expect(error.code).toBe('no-serving-slot');
    expect(error.message).toMatch(
      /environment 'staging' is at maturity level 1, which has no serving slot: set context\.mlops\.environments\.staging\.level to 2 or higher/,
    );
  });

  test.each(['', 'a/b', 'x'.repeat(65)])('a slot name the pointer cannot hold (%s)', (slotName) => {
    const error = refusal(() => resolve({ slotName }));
    expect(error.code).toBe('invalid-request');
    expect(error.message).toBe(
      `slot '${slotName}' is invalid: use 1-64 letters, digits, dots, hyphens and underscores, or leave it out for the 'default' slot`,
    );
  });

  test('a slot the environment does not have: lists the slots it has', () => {
    const error = refusal(() => resolve({ slotName: 'shadow' }));
    expect(error.code).toBe('no-serving-slot');
    expect(error.message).toBe(
      "environment 'dev' has no serving slot 'shadow': its slots are 'default'; name one of them, or leave the slot out for 'default'",
    );
  });

  test('a malformed ARN', () => {
    const error = refusal(() =>
      resolve({
        modelPackageArn: 'arn:aws:sagemaker:us-east-1:123456789012:model-package-group/taxi-duration',
      }),
    );
    expect(error.code).toBe('invalid-model-package-arn');
    expect(error.message).toMatch(
      /names a model package group, not one of its versions: .*--model-package-group-name taxi-duration/,
    );
  });

  test("a package from another region than the environment's", () => {
    const error = refusal(() => resolve({ environment: 'prod' }));
    expect(error.code).toBe('region-mismatch');
    expect(error.message).toMatch(
      /model package ARN '.*' is in region us-east-1, but environment 'prod' is in eu-west-1: .*register the model in eu-west-1/,
    );
  });
});

describe('resolveStackTarget: a slot in a stack of the user', () => {
  test("names the stack and the pointer as given; the region defaults to the package's", () => {
    expect(
      resolveStackTarget({
        stackName: 'my-serving',
        pointerName: '/team/model',
        modelPackageArn: ` ${EU_ARN} `,
      }),
    ).toEqual({
      stackName: 'my-serving',
      pointerName: '/team/model',
      region: 'eu-west-1',
      modelPackageArn: EU_ARN,
    });
    expect(
      resolveStackTarget({
        stackName: 'my-serving',
        pointerName: '/team/model',
        modelPackageArn: EU_ARN,
        region: 'us-east-1',
      }),
    ).toMatchObject({ region: 'us-east-1' });
  });

  test('a malformed ARN', () => {
    const error = refusal(() =>
      resolveStackTarget({ stackName: 's', pointerName: '/p', modelPackageArn: 'taxi/3' }),
    );
    expect(error.code).toBe('invalid-model-package-arn');
  });
});
