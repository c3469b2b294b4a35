import { spawnSync } from 'child_process';
import * as path from 'path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { createPlatformApp, synthesizePlatform } from '../../bin/platform-app';
import { MlopsValidationError } from '../../lib/private/errors';

// A config written for these tests, independent of cdk.json: editing the repository's environments
// must not change what the app's behaviour is checked against.
const base = {
  mlops: {
    environments: {
      dev: { level: 2, removalPolicy: 'destroy', workspace: { userProfiles: ['data-scientist'] } },
      staging: { level: 2, serving: { mode: 'realTime', instanceType: 'ml.m5.large', maxInstances: 2 } },
      prod: {
        level: 2,
        serving: { mode: 'realTime', instanceType: 'ml.c5.xlarge', minInstances: 2, maxInstances: 4 },
        training: { schedule: 'rate(7 days)', triggerOnNewData: true },
      },
    },
  },
};
const withContext = (extra: Record<string, unknown>) => ({
  context: { ...base, ...extra },
  analyticsReporting: false,
});

describe('createPlatformApp', () => {
  test('builds one stage per configured environment, in config order, with the configured levels', () => {
    const { stages, config } = createPlatformApp(withContext({}));
    expect(stages.map((s) => s.stageName)).toEqual(['dev', 'staging', 'prod']);
    expect(config.environments.map((e) => e.level)).toEqual([2, 2, 2]);
    expect(stages.map((s) => s.contract.declaredLevel)).toEqual([2, 2, 2]);
  });

  test("each environment's config reaches its stacks: serving, training, removal policy, names", () => {
    // GIVEN the fixture's prod (real-time, scheduled and data-triggered training) and dev (destroy)
    const { stages } = createPlatformApp(withContext({}));
    const [dev, , prod] = stages;
    const template = Template.fromStack(prod.platform);
    const serving = Template.fromStack(prod.serving!);
    // THEN prod's one model (the shorthand form) serves from its named endpoint, on the configured instances
    serving.hasResourceProperties('AWS::SageMaker::Endpoint', { EndpointName: 'mlops-prod-trip-duration' });
    serving.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ InstanceType: 'ml.c5.xlarge', InitialInstanceCount: 2 })],
    });
    serving.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 2,
      MaxCapacity: 4,
    });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(7 days)' });
    // AND prod has no workspace of its own and retains its data, while dev's is deleted with it
    template.resourceCountIs('AWS::SageMaker::Domain', 0);
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
    const devTemplate = Template.fromStack(dev.platform);
    devTemplate.hasResource('AWS::SageMaker::Domain', { DeletionPolicy: 'Delete' });
    devTemplate.hasResourceProperties('AWS::SageMaker::UserProfile', { UserProfileName: 'data-scientist' });
    Template.fromStack(dev.serving!).hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ ServerlessConfig: Match.anyValue() })],
    });
    expect(stages.map((s) => [s.release?.stackName, s.platform.stackName, s.serving?.stackName])).toEqual([
      ['dev-Release', 'dev-Platform', 'dev-Serving'],
      ['staging-Release', 'staging-Platform', 'staging-Serving'],
      ['prod-Release', 'prod-Platform', 'prod-Serving'],
    ]);
  });

  test('an environment below level 2 has no Release stack and no level-2 resources', () => {
    const { stages } = createPlatformApp(withContext({ 'mlops:env': 'dev', 'mlops:dev:level': '1' }));
    expect(stages[0].release).toBeUndefined();
    expect(stages[0].platform.level2).toBeUndefined();
    Template.fromStack(stages[0].platform).resourceCountIs('AWS::SageMaker::Pipeline', 0);
  });

  test('a GitHub OIDC provider ARN from config is trusted instead of a new provider', () => {
    const providerArn = 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com';
    const { stages } = createPlatformApp(
      withContext({
        'mlops:env': 'dev',
        'mlops:dev:githubOidc.repository': 'octo-org/ml-platform',
        'mlops:dev:githubOidc.gitHubEnvironment': 'dev',
        'mlops:dev:githubOidc.providerArn': providerArn,
      }),
    );
    const template = Template.fromStack(stages[0].platform);
    template.resourceCountIs('AWS::IAM::OIDCProvider', 0);
    expect(stages[0].platform.level1?.gitHubDeployRole?.subject).toBe(
      'repo:octo-org/ml-platform:environment:dev',
    );
  });

  test('-c mlops:env selects environments', () => {
    const { stages } = createPlatformApp(withContext({ 'mlops:env': 'staging,prod' }));
    expect(stages.map((s) => s.stageName)).toEqual(['staging', 'prod']);
  });

  test('an account and region from config become the stage environment', () => {
    const { stages } = createPlatformApp(
      withContext({
        'mlops:prod:account': '123456789012',
        'mlops:prod:region': 'eu-west-1',
        'mlops:delivery:account': '111122223333',
        'mlops:delivery:region': 'eu-west-1',
      }),
    );
    const prod = stages.find((s) => s.stageName === 'prod')!;
    expect([prod.account, prod.region]).toEqual(['123456789012', 'eu-west-1']);
    expect(prod.platform.account).toBe('123456789012');
  });

  test('only the first environment gets a workspace; the others share it', () => {
    const { stages } = createPlatformApp(withContext({}));
    expect(stages.map((s) => s.platform.level0.workspace !== undefined)).toEqual([true, false, false]);
    const shared = stages[2].contract.sharedCapabilities.map((s) => [s.capability.name, s.fromEnvironment]);
    expect(shared.filter(([name]) => name === 'notebook-workspace')).toEqual([['notebook-workspace', 'dev']]);
  });

  test('a workspace VPC given by ids is used without a lookup and no VPC is created', () => {
    // GIVEN dev's workspace in an existing VPC, as -c overrides give it
    const { stages } = createPlatformApp(
      withContext({
        'mlops:env': 'dev',
        'mlops:dev:workspace.vpcId': 'vpc-0123456789abcdef0',
        'mlops:dev:workspace.subnetIds': '["subnet-0123456789abcdef0","subnet-0fedcba9876543210"]',
        'mlops:dev:workspace.networkAccess': 'VpcOnly',
      }),
    );
    // THEN the domain sits in those subnets and the stack creates no network of its own
    const template = Template.fromStack(stages[0].platform);
    template.hasResourceProperties('AWS::SageMaker::Domain', {
      VpcId: 'vpc-0123456789abcdef0',
      SubnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
      AppNetworkAccessType: 'VpcOnly',
    });
    template.resourceCountIs('AWS::EC2::VPC', 0);
  });

  describe('bad config fails with one error naming the key, the value and the fix', () => {
    test.each([
      [
        'unknown level',
        { 'mlops:dev:level': '7' },
        /context\.mlops\.environments\.dev\.level '7' is invalid: use an integer maturity level from 0 to 4/,
      ],
      [
        'unknown key',
        { 'mlops:dev:lvel': '1' },
        /context\.mlops\.environments\.dev\.lvel is not a known key: did you mean 'level'\?/,
      ],
      [
        'malformed account',
        { 'mlops:prod:account': '12345' },
        /environments\.prod\.account '12345' is invalid: use a 12-digit AWS account id/,
      ],
      [
        'malformed region',
        { 'mlops:prod:region': 'europe' },
        /environments\.prod\.region 'europe' is invalid: use an AWS region code such as "eu-west-1"/,
      ],
      [
        'unknown environment selected',
        { 'mlops:env': 'dev,qa' },
        /context mlops:env 'qa' is invalid: name environments that exist, comma-separated: dev, staging, prod/,
      ],
      [
        'override of a missing environment',
        { 'mlops:qa:level': '1' },
        /names environment 'qa', which does not exist: use one of dev, staging, prod/,
      ],
    ])('%s', (_case, extra, message) => {
      expect(() => createPlatformApp(withContext(extra))).toThrow(MlopsValidationError);
      expect(() => createPlatformApp(withContext(extra))).toThrow(message);
    });

    test('several problems come in one error', () => {
      expect(() =>
        createPlatformApp(withContext({ 'mlops:dev:level': '9', 'mlops:staging:region': 'nowhere' })),
      ).toThrow(/Invalid platform config:\s+- .*dev\.level '9'.*\n\s+- .*staging\.region 'nowhere'/);
    });
  });

  test('a declared level the composition does not reach fails synth, listing the missing capabilities', () => {
    // GIVEN dev declares level 3, but only the tiers up to level 2 exist in it
    const platform = createPlatformApp(withContext({ 'mlops:env': 'dev', 'mlops:dev:level': '3' }));
    // THEN synth fails with the environment, both levels, each missing capability and the fix
    expect(() => synthesizePlatform(platform)).toThrow(
      /\[dev\] Environment 'dev' declares maturity level 3 \(Automated deployment\) but reaches level 2 \(Automated training\)\. Missing capabilities: release-on-approval \(level 3: .*\), staged-promotion \(level 3: .*\), deployment-guardrails \(level 3: .*\), variant-testing \(level 3: .*\), model-monitoring \(level 3: .*\)\. Fix: add the tiers that provide them, or lower the declared level to 2\./,
    );
  });

  test('without the delivery pipeline or a GitHub deploy role, level 1 is not reached', () => {
    const platform = createPlatformApp(
      withContext({ 'mlops:env': 'dev', 'mlops:delivery:enabled': 'false' }),
    );
    expect(() => synthesizePlatform(platform)).toThrow(
      /Environment 'dev' declares maturity level 2 .* but reaches level 0 .*Missing capabilities: ci-cd .*automated-tests /,
    );
  });

  test('a GitHub OIDC deploy role delivers an environment without the pipeline', () => {
    const platform = createPlatformApp(
      withContext({
        'mlops:env': 'dev',
        'mlops:delivery:enabled': 'false',
        'mlops:dev:githubOidc.repository': 'octo-org/ml-platform',
      }),
    );
    expect(platform.delivery).toBeUndefined();
    expect(platform.stages[0].contract.achievedLevel).toBe(2);
    expect(platform.stages[0].platform.level1?.gitHubDeployRole?.subject).toBe(
      'repo:octo-org/ml-platform:ref:refs/heads/main',
    );
  });

  test('no environment with a workspace leaves level 0 unreached', () => {
    const platform = createPlatformApp(
      withContext({ 'mlops:env': 'dev', 'mlops:dev:workspace.enabled': 'false' }),
    );
    expect(() => synthesizePlatform(platform)).toThrow(
      /does not reach level 0\. Missing capabilities: notebook-workspace/,
    );
  });
});

describe('bin/app.ts, the main job', () => {
  test('exits non-zero and prints only the config error for bad config', () => {
    // GIVEN the CDK CLI's way of passing context to the app
    const root = path.join(__dirname, '..', '..');
    const result = spawnSync(process.execPath, ['-r', 'esbuild-register', 'bin/app.ts'], {
      cwd: root,
      encoding: 'utf8',
      env: {
        ...process.env,
        CDK_CONTEXT_JSON: JSON.stringify({ ...base, 'mlops:dev:level': 'five' }),
        CDK_OUTDIR: path.join(root, 'test', '.synth', 'bad-config.out'),
      },
    });
    // THEN the process fails with the message and no stack trace
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("context.mlops.environments.dev.level 'five' is invalid");
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
