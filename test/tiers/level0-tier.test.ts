import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Capability, MaturityContract } from '../../lib/maturity';
import { Level0Tier } from '../../lib/tiers/level0-tier';
import { formatFindings, nagFindings } from '../support/nag';

function tierStack(props: ConstructorParameters<typeof Level0Tier>[2] = {}) {
  const app = new App();
  const stack = new Stack(app, 'Env');
  const contract = MaturityContract.declare(stack, { environmentName: 'dev', declaredLevel: 0 });
  const tier = new Level0Tier(stack, 'Level0', props);
  return { app, stack, contract, tier };
}

describe('Level0Tier', () => {
  describe('defaults', () => {
    // GIVEN a tier with no props
    const { stack, contract, tier } = tierStack();
    const template = Template.fromStack(stack);

    test('provides both level-0 capabilities, so the environment reaches level 0', () => {
      expect(MaturityContract.providedBy(tier.artifactStore)).toEqual([Capability.ARTIFACT_STORE]);
      expect(MaturityContract.providedBy(tier.workspace!)).toEqual([Capability.NOTEBOOK_WORKSPACE]);
      expect(contract.achievedLevel).toBe(0);
    });

    test('uses one KMS key for the store and the workspace', () => {
      template.resourceCountIs('AWS::KMS::Key', 1);
      template.hasResourceProperties('AWS::SageMaker::Domain', {
        KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('ArtifactStore.*Key'), 'Arn'] },
      });
    });

    test("grants the workspace's role read-write on the artifact store and its key", () => {
      const policies = template.findResources('AWS::IAM::Policy');
      const statements = Object.values(policies).flatMap(
        (p) =>
          (p as { Properties: { PolicyDocument: { Statement: Array<{ Action: string | string[] }> } } })
            .Properties.PolicyDocument.Statement,
      );
      const actions = statements.flatMap((s) => ([] as string[]).concat(s.Action));
      expect(actions).toEqual(
        expect.arrayContaining(['s3:GetObject*', 's3:PutObject', 'kms:Decrypt', 'kms:GenerateDataKey*']),
      );
    });

    test('retains data by default', () => {
      template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
      template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
      template.hasResource('AWS::SageMaker::Domain', { DeletionPolicy: 'Retain' });
      template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
    });

    test('creates no NAT gateway', () => {
      template.resourceCountIs('AWS::EC2::NatGateway', 0);
      expect(contract.alwaysOnResources).toEqual([]);
    });
  });

  test('without a workspace provides only the artifact store', () => {
    const { stack, contract, tier } = tierStack({ enableWorkspace: false });
    expect(tier.workspace).toBeUndefined();
    expect(contract.capabilities).toEqual([Capability.ARTIFACT_STORE]);
    expect(contract.achievedLevel).toBe(-1);
    // WHEN another environment provides the workspace, the stack synthesizes without a domain
    contract.shareCapability(Capability.NOTEBOOK_WORKSPACE, 'dev');
    Template.fromStack(stack).resourceCountIs('AWS::SageMaker::Domain', 0);
  });

  test('DESTROY deletes data on removal and empties the buckets', () => {
    const { stack } = tierStack({ removalPolicy: RemovalPolicy.DESTROY });
    const template = Template.fromStack(stack);
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 2);
    template.hasResource('AWS::SageMaker::Domain', { DeletionPolicy: 'Delete' });
  });

  test('options reach the store and the workspace', () => {
    const { stack, tier } = tierStack({
      artifactStoreOptions: { noncurrentVersionExpiration: Duration.days(30) },
      workspaceOptions: { userProfiles: ['ann'], idleTimeout: Duration.minutes(120) },
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 30 } })]),
      },
    });
    template.hasResourceProperties('AWS::SageMaker::UserProfile', { UserProfileName: 'ann' });
    template.hasResourceProperties('AWS::SageMaker::Domain', {
      DefaultUserSettings: Match.objectLike({
        JupyterLabAppSettings: Match.objectLike({
          AppLifecycleManagement: { IdleSettings: Match.objectLike({ IdleTimeoutInMinutes: 120 }) },
        }),
      }),
    });
    expect(tier.workspace?.userProfileNames).toEqual(['ann']);
  });

  test.each([
    ['retained', RemovalPolicy.RETAIN],
    ['destroyed', RemovalPolicy.DESTROY],
  ])('a %s tier has zero unacknowledged cdk-nag findings', (_name, removalPolicy) => {
    const { app } = tierStack({ removalPolicy });
    expect(formatFindings(nagFindings(app))).toBe('');
  });
});
