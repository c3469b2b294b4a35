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
  ReleasePointer,
} from 'cdk-mlops-maturity';

const env = { account: '111111111111', region: 'eu-west-1' };

export function build(app: App): Stack[] {
  // The release pointer is read by the serving stack when it deploys, so it lives in a stack
  // deployed first.
  const releases = new Stack(app, 'TeamReleases', { env });
  const pointer = new ReleasePointer(releases, 'Pointer', { environmentName: 'team' });

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
  new Level2Tier(platform, 'Level2', {
    artifactStore: level0.artifactStore,
    releasePointer: pointer,
  });
  // Delivered by the team's own CI, which runs the tests before `cdk deploy`.
  contract.shareCapability(Capability.CI_CD, 'team-ci');
  contract.shareCapability(Capability.AUTOMATED_TESTS, 'team-ci');
  return [releases, platform].map((stack) => {
    Aspects.of(stack).add(new RedundantDependsOnLintAcknowledgement());
    return stack;
  });
}
