import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack, Stage } from 'aws-cdk-lib';
import { parsePlatformConfig } from '../../bin/config';
import { PlatformApp } from '../../bin/platform-app';
import { ModelRegistry } from '../../lib/registry/model-registry';
import { ReleasePointer } from '../../lib/serving/release-pointer';
import { ServingMode, ServingSlot } from '../../lib/serving/serving-slot';
import { VariantWeight } from '../../lib/serving/variant-weight';
import { ArtifactStore } from '../../lib/storage/artifact-store';
import { ReleaseError } from '../../lambda/shared/release';
import {
  buildPlatformAppForRelease,
  EnvironmentReleaseRequest,
  resolveEnvironmentTarget,
  resolveStackTarget,
  resolveVariantTarget,
} from '../../bin/release-target';

const ARN = 'arn:aws:sagemaker:us-east-1:123456789012:model-package/taxi-duration/3';
const EU_ARN = 'arn:aws:sagemaker:eu-west-1:123456789012:model-package/taxi-duration/3';

const ROOT = path.join(__dirname, '..', '..');

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

// And from the repository's own cdk.json: dev, staging and prod with models trip-duration and fare-amount.
const repositoryApp = buildPlatformAppForRelease(
  (JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> })
    .context,
);

/** The model package group the app gives a model's slot, as the app names it. */
function groupOf(app: PlatformApp, environment: string, model: string): string {
  const slot = app.stages
    .find((s) => s.node.id === environment)
    ?.node.findAll()
    .find((c): c is ServingSlot => c instanceof ServingSlot && c.node.path.endsWith(`/Serving/${model}`));
  const group = slot?.modelRegistry?.modelPackageGroupName;
  if (group === undefined) {
    throw new Error(`no slot with a model registry for model ${model} of ${environment}`);
  }
  return group;
}

function versionOf(group: string, region = 'us-east-1'): string {
  return `arn:aws:sagemaker:${region}:123456789012:model-package/${group.toLowerCase()}/3`;
}

// The groups of the one-model shorthand (dev, prod) of `platform`.
const DEV_ARN = versionOf(groupOf(platform, 'dev', 'trip-duration'));
const PROD_ARN = versionOf(groupOf(platform, 'prod', 'trip-duration'), 'eu-west-1');

function resolve(overrides: Partial<EnvironmentReleaseRequest> = {}) {
  return resolveEnvironmentTarget(platform, { environment: 'dev', modelPackageArn: DEV_ARN, ...overrides });
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
  test("an environment of one model without a region: the app's stack, pointer and group, the package's region", () => {
    expect(resolve()).toEqual({
      environment: 'dev',
      modelName: 'trip-duration',
      request: {
        modelPackageArn: DEV_ARN,
        stackName: 'dev-Serving',
        pointerName: '/mlops/dev/serving/trip-duration/model-package-arn',
        region: 'us-east-1',
        account: undefined,
        modelPackageGroupName: groupOf(platform, 'dev', 'trip-duration'),
        deployCommand: "npx cdk deploy 'dev/*'",
      },
    });
  });

  test('the model of an environment with one may be named too', () => {
    expect(resolve({ modelName: 'trip-duration' })).toMatchObject({ modelName: 'trip-duration' });
  });

  test("an environment with an account and a region: the stack's region and account", () => {
    expect(resolve({ environment: 'prod', modelPackageArn: PROD_ARN }).request).toMatchObject({
      stackName: 'prod-Serving',
      pointerName: '/mlops/prod/serving/trip-duration/model-package-arn',
      region: 'eu-west-1',
      account: '123456789012',
    });
  });

  test('building the app bundles no asset', () => {
    expect(platform.app.node.tryGetContext('aws:cdk:bundling-stacks')).toEqual([]);
  });
});

describe("resolveEnvironmentTarget: the repository's cdk.json, two models per environment", () => {
  test('the app names each model its own group, in lower case', () => {
    // The groups are generated from the slot's construct path (ModelRegistry's default name).
    expect(groupOf(repositoryApp, 'dev', 'trip-duration')).toMatch(/^dev-platform-level2-trip-duration-/);
    expect(groupOf(repositoryApp, 'dev', 'fare-amount')).toMatch(/^dev-platform-level2-fare-amount-/);
  });

  test.each([
    ['dev', 'trip-duration'],
    ['dev', 'fare-amount'],
    ['staging', 'fare-amount'],
    ['prod', 'trip-duration'],
  ])('%s --model %s: the stack, the pointer and the group of that model', (environment, modelName) => {
    // GIVEN a version of the model's own group
    const group = groupOf(repositoryApp, environment, modelName);
    const modelPackageArn = versionOf(group);

    // WHEN
    const target = resolveEnvironmentTarget(repositoryApp, { environment, modelName, modelPackageArn });

    // THEN
    expect(target).toEqual({
      environment,
      modelName,
      request: {
        modelPackageArn,
        stackName: `${environment}-Serving`,
        pointerName: `/mlops/${environment}/serving/${modelName}/model-package-arn`,
        region: 'us-east-1',
        account: undefined,
        modelPackageGroupName: group,
        deployCommand: `npx cdk deploy '${environment}/*'`,
      },
    });
  });

  test('no --model with two models: lists them and shows the command, with the model the package is of', () => {
    const fare = versionOf(groupOf(repositoryApp, 'dev', 'fare-amount'));
    const error = refusal(() =>
      resolveEnvironmentTarget(repositoryApp, { environment: 'dev', modelPackageArn: fare }),
    );
    expect(error.code).toBe('model-required');
    expect(error.message).toBe(
      "environment 'dev' has more than one model ('trip-duration', 'fare-amount'): name the one to release " +
        `with --model, e.g. npm run release -- --env dev --model fare-amount --model-package-arn ${fare}`,
    );
  });

  test("no --model with two models and a package of neither's group: the command with a placeholder", () => {
    const error = refusal(() =>
      resolveEnvironmentTarget(repositoryApp, { environment: 'staging', modelPackageArn: ARN }),
    );
    expect(error.code).toBe('model-required');
    expect(error.message).toContain(
      `npm run release -- --env staging --model <model> --model-package-arn ${ARN}`,
    );
  });

  test('a model the environment does not have: lists the ones it has', () => {
    const error = refusal(() =>
      resolveEnvironmentTarget(repositoryApp, {
        environment: 'dev',
        modelName: 'churn',
        modelPackageArn: ARN,
      }),
    );
    expect(error.code).toBe('unknown-model');
    expect(error.message).toBe(
      "environment 'dev' has no model 'churn': its models are 'trip-duration', 'fare-amount'; name one of them with --model",
    );
  });

  test.each(['', 'Trip-Duration', 'trip--duration', 'a/b', 'x'.repeat(33)])(
    'a model name no model can have (%p)',
    (modelName) => {
      const error = refusal(() =>
        resolveEnvironmentTarget(repositoryApp, { environment: 'dev', modelName, modelPackageArn: ARN }),
      );
      expect(error.code).toBe('invalid-request');
      expect(error.message).toBe(
        `model '${modelName}' is invalid: a model name is 1-32 lower-case letters, digits and single hyphens, ` +
          "starting with a letter; environment 'dev' has 'trip-duration', 'fare-amount'",
      );
    },
  );

  test("a package of the other model's group is refused, and says which model serves it", () => {
    // GIVEN a version of trip-duration's group, released to fare-amount
    const tripGroup = groupOf(repositoryApp, 'dev', 'trip-duration');
    const fareGroup = groupOf(repositoryApp, 'dev', 'fare-amount');
    const trip = versionOf(tripGroup);

    // WHEN
    const error = refusal(() =>
      resolveEnvironmentTarget(repositoryApp, {
        environment: 'dev',
        modelName: 'fare-amount',
        modelPackageArn: trip,
      }),
    );

    // THEN
    expect(error.code).toBe('wrong-model-group');
    expect(error.message).toBe(
      `model package '${trip}' belongs to group '${tripGroup}', but model 'fare-amount' of environment 'dev' ` +
        `serves group '${fareGroup}': release a version of '${fareGroup}', or release this one to model ` +
        "'trip-duration' (--model trip-duration)",
    );
  });

  test("a package of a group that no model of the environment serves: names the model's group only", () => {
    const error = refusal(() =>
      resolveEnvironmentTarget(repositoryApp, {
        environment: 'dev',
        modelName: 'trip-duration',
        modelPackageArn: ARN,
      }),
    );
    expect(error.code).toBe('wrong-model-group');
    const group = groupOf(repositoryApp, 'dev', 'trip-duration');
    expect(error.message).toBe(
      `model package '${ARN}' belongs to group 'taxi-duration', but model 'trip-duration' of environment 'dev' ` +
        `serves group '${group}': release a version of '${group}'`,
    );
  });

  test("an environment the automation promotes to also takes the source's approved versions", () => {
    // GIVEN a version of dev's group, dev being the source that staging and prod are promoted from
    const devGroup = groupOf(repositoryApp, 'dev', 'trip-duration');
    const fromDev = versionOf(devGroup);
    for (const environment of ['staging', 'prod']) {
      // WHEN it is released to the target by hand
      const target = resolveEnvironmentTarget(repositoryApp, {
        environment,
        modelName: 'trip-duration',
        modelPackageArn: fromDev,
      });
      // THEN the engine checks it against dev's group
      expect(target.request.modelPackageGroupName).toBe(devGroup);
      expect(target.request.stackName).toBe(`${environment}-Serving`);
    }
    // AND a version of prod's group is still refused in staging, naming both groups it takes
    const prodVersion = versionOf(groupOf(repositoryApp, 'prod', 'trip-duration'));
    const error = refusal(() =>
      resolveEnvironmentTarget(repositoryApp, {
        environment: 'staging',
        modelName: 'trip-duration',
        modelPackageArn: prodVersion,
      }),
    );
    expect(error.code).toBe('wrong-model-group');
    expect(error.message).toContain(`and the approved versions of '${devGroup}' (environment dev)`);
  });

  test("another environment's version of the same model is another group", () => {
    const staging = versionOf(groupOf(repositoryApp, 'staging', 'trip-duration'));
    const error = refusal(() =>
      resolveEnvironmentTarget(repositoryApp, {
        environment: 'dev',
        modelName: 'trip-duration',
        modelPackageArn: staging,
      }),
    );
    expect(error.code).toBe('wrong-model-group');
  });
});

describe('resolveEnvironmentTarget: a stage and stack named by the user', () => {
  // GIVEN an environment whose slots live in a nested stage, in a stack with its own stackName;
  // one slot serves a group named in mixed case, the other names no registry
  const config = parsePlatformConfig({
    mlops: {
      environments: { dev: { level: 2, models: { 'trip-duration': {}, 'fare-amount': {} } } },
      delivery: false,
    },
  });
  const app = new App();
  const team = new Stage(app, 'team');
  const dev = new Stage(team, 'dev');
  const env = { account: '123456789012', region: 'eu-west-1' };
  const pointers = new Stack(dev, 'Pointers', { env });
  const serving = new Stack(dev, 'Serving', { env, stackName: 'ml-serving-dev' });
  const artifactStore = new ArtifactStore(serving, 'Store');
  const fareRegistry = ModelRegistry.fromModelPackageGroupName(serving, 'FareRegistry', 'Taxi-Fare');
  for (const slotName of ['trip-duration', 'fare-amount']) {
    const pointer = new ReleasePointer(pointers, `Pointer-${slotName}`, { environmentName: 'dev', slotName });
    new ServingSlot(serving, `Slot-${slotName}`, {
      pointer,
      artifactStore,
      modelRegistry: slotName === 'fare-amount' ? fareRegistry : undefined,
    });
  }
  const FARE_ARN = 'arn:aws:sagemaker:eu-west-1:123456789012:model-package/taxi-fare/3';

  test("the slot's own stack name, pointer and region, and the stage's path in the deploy command", () => {
    // WHEN
    const target = resolveEnvironmentTarget(
      { config, stages: [dev] },
      { environment: 'dev', modelPackageArn: FARE_ARN, modelName: 'fare-amount' },
    );

    // THEN the ARN's lower-cased group is the slot's group
    expect(target).toEqual({
      environment: 'dev',
      modelName: 'fare-amount',
      request: {
        modelPackageArn: FARE_ARN,
        stackName: 'ml-serving-dev',
        pointerName: '/mlops/dev/serving/fare-amount/model-package-arn',
        region: 'eu-west-1',
        account: '123456789012',
        modelPackageGroupName: 'Taxi-Fare',
        deployCommand: "npx cdk deploy 'team/dev/*'",
      },
    });
  });

  test('a slot without a model registry takes a package of any group: the engine gets no group', () => {
    const target = resolveEnvironmentTarget(
      { config, stages: [dev] },
      { environment: 'dev', modelPackageArn: EU_ARN, modelName: 'trip-duration' },
    );
    expect(target.request.modelPackageGroupName).toBeUndefined();
    expect(target.request.pointerName).toBe('/mlops/dev/serving/trip-duration/model-package-arn');
  });

  test("a package from another region than the slot's stack", () => {
    const error = refusal(() =>
      resolveEnvironmentTarget(
        { config, stages: [dev] },
        { environment: 'dev', modelPackageArn: ARN, modelName: 'trip-duration' },
      ),
    );
    expect(error.code).toBe('region-mismatch');
    expect(error.message).toMatch(
      /model package ARN '.*' is in region us-east-1, but environment 'dev' is in eu-west-1: .*register the model in eu-west-1/,
    );
  });

  test('a model of cdk.json whose slot the app does not define', () => {
    const error = refusal(() =>
      resolveEnvironmentTarget(
        { config, stages: [] },
        { environment: 'dev', modelPackageArn: EU_ARN, modelName: 'trip-duration' },
      ),
    );
    expect(error.code).toBe('no-serving-slot');
    expect(error.message).toMatch(
      /^environment 'dev' has no serving slot reading \/mlops\/dev\/serving\/trip-duration\/model-package-arn for model 'trip-duration'/,
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
    const error = refusal(() =>
      resolve({
        environment: 'prod',
        modelPackageArn: versionOf(groupOf(platform, 'prod', 'trip-duration')),
      }),
    );
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

describe('resolveVariantTarget: the variants a model slot offers', () => {
  // GIVEN an environment whose trip-duration slot offers a challenger and fare-amount a shadow
  const config = parsePlatformConfig({
    mlops: {
      environments: { dev: { level: 2, models: { 'trip-duration': {}, 'fare-amount': {} } } },
      delivery: false,
    },
  });
  const app = new App();
  const dev = new Stage(app, 'dev');
  const pointers = new Stack(dev, 'Release');
  const serving = new Stack(dev, 'Platform', { env: { account: '123456789012', region: 'eu-west-1' } });
  const artifactStore = new ArtifactStore(serving, 'Store');
  const registry = ModelRegistry.fromModelPackageGroupName(serving, 'Registry', 'taxi-duration');
  const variantOf = (slotName: string, variant: string) => ({
    pointer: new ReleasePointer(pointers, `${slotName}-${variant}`, {
      environmentName: 'dev',
      slotName,
      variant,
    }),
    weight: new VariantWeight(pointers, `${slotName}-${variant}-weight`, {
      environmentName: 'dev',
      slotName,
      variant,
    }),
  });
  for (const slotName of ['trip-duration', 'fare-amount']) {
    new ServingSlot(serving, `Slot-${slotName}`, {
      pointer: new ReleasePointer(pointers, `Pointer-${slotName}`, { environmentName: 'dev', slotName }),
      artifactStore,
      modelRegistry: slotName === 'trip-duration' ? registry : undefined,
      mode: ServingMode.realTime(),
      challenger: slotName === 'trip-duration' ? variantOf(slotName, 'challenger') : undefined,
      shadow: slotName === 'fare-amount' ? variantOf(slotName, 'shadow') : undefined,
    });
  }
  const source = { config, stages: [dev] };
  const TRIP = '/mlops/dev/serving/trip-duration';
  const base = (pointerList: unknown[]) => ({
    stackName: 'dev-Platform',
    region: 'eu-west-1',
    account: '123456789012',
    deployCommand: "npx cdk deploy 'dev/*'",
    pointers: pointerList,
  });

  test("a release to the challenger writes its pointer and weight, as the slot reads them, checked against the slot's group", () => {
    const target = resolveVariantTarget(source, {
      environment: 'dev',
      modelName: 'trip-duration',
      variant: 'challenger',
      action: 'release',
      modelPackageArn: EU_ARN,
      weightPercent: 20,
    });
    expect(target).toEqual({
      environment: 'dev',
      modelName: 'trip-duration',
      variant: 'challenger',
      action: 'release',
      request: {
        ...base([
          { pointerName: `${TRIP}/variants/challenger/model-package-arn`, modelPackageArn: EU_ARN },
          { pointerName: `${TRIP}/variants/challenger/weight`, weightPercent: 20 },
        ]),
        modelPackageGroupName: 'taxi-duration',
      },
    });
  });

  test.each([
    [
      'weight',
      { weightPercent: 50 },
      [{ pointerName: `${TRIP}/variants/challenger/weight`, weightPercent: 50 }],
    ],
    ['stop', {}, [{ pointerName: `${TRIP}/variants/challenger/model-package-arn`, modelPackageArn: 'none' }]],
    [
      'promote',
      {},
      [
        {
          pointerName: `${TRIP}/model-package-arn`,
          copyFrom: `${TRIP}/variants/challenger/model-package-arn`,
        },
        { pointerName: `${TRIP}/variants/challenger/model-package-arn`, modelPackageArn: 'none' },
      ],
    ],
  ] as const)('%s: the pointers the engine writes in one update', (action, extra, expected) => {
    const target = resolveVariantTarget(source, {
      environment: 'dev',
      modelName: 'trip-duration',
      variant: 'challenger',
      action,
      ...extra,
    });
    expect(target.request.pointers).toEqual(expected);
    expect(target.request.region).toBe('eu-west-1');
  });

  test('a shadow is promoted the same way', () => {
    const target = resolveVariantTarget(source, {
      environment: 'dev',
      modelName: 'fare-amount',
      variant: 'shadow',
      action: 'promote',
    });
    expect(target.request.pointers).toEqual([
      {
        pointerName: '/mlops/dev/serving/fare-amount/model-package-arn',
        copyFrom: '/mlops/dev/serving/fare-amount/variants/shadow/model-package-arn',
      },
      {
        pointerName: '/mlops/dev/serving/fare-amount/variants/shadow/model-package-arn',
        modelPackageArn: 'none',
      },
    ]);
  });

  test('a variant the slot does not offer is refused, naming the one it offers', () => {
    const error = refusal(() =>
      resolveVariantTarget(source, {
        environment: 'dev',
        modelName: 'fare-amount',
        variant: 'challenger',
        action: 'stop',
      }),
    );
    expect(error.code).toBe('unknown-variant');
    expect(error.message).toBe(
      "model 'fare-amount' of environment 'dev' offers no challenger variant: its serving slot offers shadow. Name " +
        '--variant shadow, or give the slot a challenger (ServingSlot prop challenger) and deploy the environment ' +
        "(npx cdk deploy 'dev/*')",
    );
  });

  test.each([
    [
      { variant: 'canary' },
      /^variant 'canary' is invalid: name challenger \(an A\/B test\) or shadow \(a shadow test\)$/,
    ],
    [
      { weightPercent: 150, action: 'weight' },
      /^weight '150' is invalid: give the challenger's share of the requests as a whole percentage from 0 to 100$/,
    ],
    [{ action: 'release' }, /needs the model package version it serves: give --model-package-arn$/],
    [
      { action: 'release', modelPackageArn: 'arn:aws:sagemaker:eu-west-1:123456789012:model-package/fare/3' },
      /^model package '.*' belongs to group 'fare', but model 'trip-duration' of environment 'dev' serves group 'taxi-duration'/,
    ],
    [
      { action: 'release', modelPackageArn: ARN },
      /is in region us-east-1, but environment 'dev' is in eu-west-1/,
    ],
  ] as const)('refused: %p', (overrides, message) => {
    const error = refusal(() =>
      resolveVariantTarget(source, {
        environment: 'dev',
        modelName: 'trip-duration',
        variant: 'challenger',
        action: 'stop',
        ...overrides,
      }),
    );
    expect(error.message).toMatch(message);
  });

  test("an environment without a region takes the credentials' region for a release without an ARN", () => {
    const agnostic = new App();
    const stage = new Stage(agnostic, 'dev');
    const release = new Stack(stage, 'Release');
    const stack = new Stack(stage, 'Platform');
    new ServingSlot(stack, 'Slot', {
      pointer: new ReleasePointer(release, 'Pointer', { environmentName: 'dev', slotName: 'trip-duration' }),
      artifactStore: new ArtifactStore(stack, 'Store'),
      mode: ServingMode.realTime(),
      challenger: {
        pointer: new ReleasePointer(release, 'C', {
          environmentName: 'dev',
          slotName: 'trip-duration',
          variant: 'challenger',
        }),
        weight: new VariantWeight(release, 'W', {
          environmentName: 'dev',
          slotName: 'trip-duration',
          variant: 'challenger',
        }),
      },
    });
    const request = {
      environment: 'dev',
      modelName: 'trip-duration',
      variant: 'challenger',
      action: 'stop',
    } as const;
    const agnosticSource = { config, stages: [stage] };
    expect(
      resolveVariantTarget(agnosticSource, { ...request, defaultRegion: 'us-west-2' }).request.region,
    ).toBe('us-west-2');
    expect(refusal(() => resolveVariantTarget(agnosticSource, request)).message).toMatch(
      /^environment 'dev' names no region, and nothing in this release does: set AWS_REGION/,
    );
  });
});
