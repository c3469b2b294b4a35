import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Capability } from '../../lib/maturity/capability';
import { MaturityContract } from '../../lib/maturity/maturity-contract';
import { MaturityLevel } from '../../lib/maturity/maturity-level';
import { ReleasePointer } from '../../lib/serving/release-pointer';
import { ArtifactStore } from '../../lib/storage/artifact-store';
import { Level2Tier } from '../../lib/tiers/level2-tier';
import { Level0Tier } from '../../lib/tiers/level0-tier';
import { Level1Tier } from '../../lib/tiers/level1-tier';
import { ServingMode } from '../../lib/serving/serving-slot';
import { ReferenceTarget } from '../../lib/training/reference-workload';

describe('Level2Tier', () => {
  // GIVEN a stack composing tiers 0 to 2 (the delivery capabilities through a GitHub deploy role)
  const app = new App();
  const release = new Stack(app, 'Release');
  const pointer = (slotName: string) =>
    new ReleasePointer(release, slotName, { environmentName: 'dev', slotName });
  const stack = new Stack(app, 'Platform');
  const contract = MaturityContract.declare(stack, {
    environmentName: 'dev',
    declaredLevel: MaturityLevel.AUTOMATED_TRAINING,
  });
  const level0 = new Level0Tier(stack, 'Level0', { removalPolicy: RemovalPolicy.DESTROY });
  new Level1Tier(stack, 'Level1', {
    environmentName: 'dev',
    gitHubDeployRole: { repository: 'octo/ml' },
  });
  const tier = new Level2Tier(stack, 'Level2', {
    artifactStore: level0.artifactStore,
    models: [
      { modelName: 'trip-duration', releasePointer: pointer('trip-duration') },
      {
        modelName: 'fare-amount',
        releasePointer: pointer('fare-amount'),
        workloadOptions: { target: ReferenceTarget.FARE_AMOUNT },
        servingOptions: { mode: ServingMode.realTime() },
      },
    ],
  });
  const template = Template.fromStack(stack);

  test('registers the level-2 capabilities, so the stack reaches level 2', () => {
    expect(contract.achievedLevel).toBe(MaturityLevel.AUTOMATED_TRAINING);
    for (const capability of Capability.requiredAt(MaturityLevel.AUTOMATED_TRAINING)) {
      expect(contract.capabilities).toContain(capability);
    }
  });

  test('one MLflow app, and per model a pipeline, a model package group and a serving slot', () => {
    template.resourceCountIs('AWS::SageMaker::MlflowApp', 1);
    template.resourceCountIs('AWS::SageMaker::Pipeline', 2);
    template.resourceCountIs('AWS::SageMaker::ModelPackageGroup', 2);
    template.resourceCountIs('AWS::SageMaker::Endpoint', 2);
    expect(tier.models.map((m) => m.modelName)).toEqual(['trip-duration', 'fare-amount']);
    // Each slot reads its own model's pointer.
    for (const name of ['trip-duration', 'fare-amount']) {
      template.hasParameter('*', {
        Type: 'AWS::SSM::Parameter::Value<String>',
        Default: `/mlops/dev/serving/${name}/model-package-arn`,
      });
    }
  });

  test('the maturity report lists each model with its pipeline, group, slot and serving mode', () => {
    expect(contract.models).toEqual([
      {
        name: 'trip-duration',
        pipelineName: tier.model('trip-duration').workload.pipeline.pipelineName,
        modelPackageGroupName: expect.stringMatching(
          /^platform-level2-trip-duration-modelregistry-[0-9a-f]{8}$/,
        ),
        endpointName: tier.model('trip-duration').servingSlot.endpointName,
        servingMode: 'serverless',
      },
      expect.objectContaining({ name: 'fare-amount', servingMode: 'realTime' }),
    ]);
    expect(contract.toReport().notes).toEqual([]);
    // The real-time endpoint bills once released, and is reported as the fare model's.
    expect(contract.toReport().conditionalAlwaysOnResources).toEqual([
      expect.objectContaining({ type: 'AWS::SageMaker::Endpoint', model: 'fare-amount' }),
    ]);
  });

  test('keeps the registry and the tracking by default', () => {
    template.hasResource('AWS::SageMaker::ModelPackageGroup', { DeletionPolicy: 'Retain' });
    template.hasResource('AWS::SageMaker::MlflowApp', { DeletionPolicy: 'Retain' });
  });

  test("each model's pipeline registers into its own group", () => {
    const groups = tier.models.map((model) => {
      const registered = model.workload.pipeline.definition
        .allSteps()
        .find((s) => s.type === 'RegisterModel')!
        .render() as { Arguments: { ModelPackageGroupName: string } };
      return stack.resolve(registered.Arguments.ModelPackageGroupName);
    });
    expect(groups).toEqual([
      expect.stringMatching(/^platform-level2-trip-duration-modelregistry-[0-9a-f]{8}$/),
      expect.stringMatching(/^platform-level2-fare-amount-modelregistry-[0-9a-f]{8}$/),
    ]);
  });

  test('a bad, repeated or colliding model name fails naming it', () => {
    const make = (names: string[]) => {
      const other = new App();
      const rel = new Stack(other, 'Release');
      const s = new Stack(other, 'Platform');
      return new Level2Tier(s, 'Level2', {
        artifactStore: ArtifactStore.fromBucketName(s, 'Store', 'existing-ml-bucket'),
        models: names.map((n, i) => ({
          modelName: n,
          releasePointer: new ReleasePointer(rel, `P${i}`, { environmentName: 'qa', slotName: `s${i}` }),
        })),
      });
    };
    expect(() => make([])).toThrow(/models '\[\]' is invalid: give at least one model/);
    expect(() => make(['Fare'])).toThrow(/models\[0\]\.modelName 'Fare' is invalid: use 1-32 lower-case/);
    expect(() => make(['fare', 'fare'])).toThrow(
      /models\[1\]\.modelName 'fare' is invalid: give each model its own name/,
    );
    expect(() => make(['fare-a', 'farea'])).toThrow(/differs from model 'fare-a' only in hyphens/);
  });

  test('an artifact store of another app is accepted through its interface', () => {
    const other = new Stack(new App(), 'Other');
    const otherRelease = new Stack(other.node.root as App, 'OtherRelease');
    const imported = ArtifactStore.fromBucketName(other, 'Imported', 'existing-ml-bucket');
    expect(
      () =>
        new Level2Tier(other, 'Level2', {
          artifactStore: imported,
          models: [
            {
              modelName: 'churn',
              releasePointer: new ReleasePointer(otherRelease, 'Pointer', { environmentName: 'qa' }),
            },
          ],
        }),
    ).not.toThrow();
  });

  test('a release pointer of another app is accepted through its interface', () => {
    // GIVEN a pointer that another app created, imported by name
    const otherApp = new App();
    const platform = new Stack(otherApp, 'Platform');
    const imported = ReleasePointer.fromParameterName(
      platform,
      'Pointer',
      '/mlops/qa/serving/default/model-package-arn',
    );
    // WHEN the tier serves it
    new Level2Tier(platform, 'Level2', {
      artifactStore: ArtifactStore.fromBucketName(platform, 'Store', 'existing-ml-bucket'),
      models: [{ modelName: 'churn', releasePointer: imported }],
    });
    // THEN the slot reads that parameter
    Template.fromStack(platform).hasParameter('*', {
      Type: 'AWS::SSM::Parameter::Value<String>',
      Default: '/mlops/qa/serving/default/model-package-arn',
    });
  });
});
