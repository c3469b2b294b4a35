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

describe('Level2Tier', () => {
  // GIVEN a stack composing tiers 0 to 2 (the delivery capabilities through a GitHub deploy role)
  const app = new App();
  const release = new Stack(app, 'Release');
  const pointer = new ReleasePointer(release, 'Pointer', { environmentName: 'dev' });
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
    releasePointer: pointer,
  });
  const template = Template.fromStack(stack);

  test('registers the four level-2 capabilities, so the stack reaches level 2', () => {
    expect(contract.achievedLevel).toBe(MaturityLevel.AUTOMATED_TRAINING);
    for (const capability of Capability.requiredAt(MaturityLevel.AUTOMATED_TRAINING)) {
      expect(contract.capabilities).toContain(capability);
    }
  });

  test('holds the pipeline, the MLflow app, the model package group and the serving slot', () => {
    template.resourceCountIs('AWS::SageMaker::Pipeline', 1);
    template.resourceCountIs('AWS::SageMaker::MlflowApp', 1);
    template.resourceCountIs('AWS::SageMaker::ModelPackageGroup', 1);
    template.resourceCountIs('AWS::SageMaker::Endpoint', 1);
    expect(tier.servingSlot.released).toBeDefined();
  });

  test('keeps the registry and the tracking by default', () => {
    template.hasResource('AWS::SageMaker::ModelPackageGroup', { DeletionPolicy: 'Retain' });
    template.hasResource('AWS::SageMaker::MlflowApp', { DeletionPolicy: 'Retain' });
  });

  test('the pipeline registers into the tier registry and logs to the tier tracking', () => {
    const registered = tier.workload.pipeline.definition
      .allSteps()
      .find((s) => s.type === 'RegisterModel')!
      .render() as { Arguments: { ModelPackageGroupName: string } };
    expect(stack.resolve(registered.Arguments.ModelPackageGroupName)).toEqual(
      stack.resolve(tier.modelRegistry.modelPackageGroupName),
    );
  });

  test('an artifact store of another app is accepted through its interface', () => {
    const other = new Stack(new App(), 'Other');
    const otherRelease = new Stack(other.node.root as App, 'OtherRelease');
    const imported = ArtifactStore.fromBucketName(other, 'Imported', 'existing-ml-bucket');
    expect(
      () =>
        new Level2Tier(other, 'Level2', {
          artifactStore: imported,
          releasePointer: new ReleasePointer(otherRelease, 'Pointer', { environmentName: 'qa' }),
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
      releasePointer: imported,
    });
    // THEN the slot reads that parameter
    Template.fromStack(platform).hasParameter('*', {
      Type: 'AWS::SSM::Parameter::Value<String>',
      Default: '/mlops/qa/serving/default/model-package-arn',
    });
  });
});
