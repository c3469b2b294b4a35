// The tiers in a stack of your own, with an explicit account and region. Synthesizes without
// credentials and without a cdk.context.json: nothing in the library needs a context lookup.
import { App, Aspects, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  Capability,
  Level0Tier,
  Level1Tier,
  Level2Tier,
  MaturityContract,
  MaturityLevel,
  RedundantDependsOnLintAcknowledgement,
  ReferenceTarget,
  ReleasePointer,
} from 'cdk-mlops-maturity';

const env = { account: '111111111111', region: 'eu-west-1' };

export function build(app: App): Stack[] {
  // Each model's release pointer is read by the serving stack when it deploys, so the pointers
  // live in a stack deployed first.
  const releases = new Stack(app, 'TeamReleases', { env });
  const pointer = (model: string) =>
    new ReleasePointer(releases, `Pointer-${model}`, { environmentName: 'team', slotName: model });

  const platform = new Stack(app, 'TeamMlPlatform', { env });
  const contract = MaturityContract.declare(platform, {
    environmentName: 'team',
    declaredLevel: MaturityLevel.AUTOMATED_TRAINING,
  });
  const level0 = new Level0Tier(platform, 'Level0', {
    removalPolicy: RemovalPolicy.RETAIN,
    workspaceOptions: { userProfiles: ['analyst'] },
  });
  new Level1Tier(platform, 'Level1', { environmentName: 'team' });
  // Two models side by side, each with its own pipeline, model package group and serving slot.
  new Level2Tier(platform, 'Level2', {
    artifactStore: level0.artifactStore,
    models: [
      { modelName: 'trip-duration', releasePointer: pointer('trip-duration') },
      {
        modelName: 'fare-amount',
        releasePointer: pointer('fare-amount'),
        workloadOptions: { target: ReferenceTarget.FARE_AMOUNT },
      },
    ],
  });
  // Delivered by the team's own CI, which runs the tests before `cdk deploy`.
  contract.shareCapability(Capability.CI_CD, 'team-ci');
  contract.shareCapability(Capability.AUTOMATED_TESTS, 'team-ci');
  return [releases, platform].map((stack) => {
    Aspects.of(stack).add(new RedundantDependsOnLintAcknowledgement());
    return stack;
  });
}
