import { App, Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { MlopsValidationError } from '../../lib/private/errors';
import { Workspace, WorkspaceNetworkAccess, WorkspaceProps } from '../../lib/workspace/workspace';
import { formatFindings, nagFindings } from '../support/nag';

function workspaceStack(props?: WorkspaceProps | ((stack: Stack) => WorkspaceProps)) {
  const app = new App();
  const stack = new Stack(app, 'S', { env: { account: '111122223333', region: 'eu-west-1' } });
  const workspace = new Workspace(stack, 'Workspace', typeof props === 'function' ? props(stack) : props);
  return { app, stack, workspace };
}

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown };
function roleStatements(template: Template): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
        .Statement,
  );
}

describe('Workspace defaults', () => {
  // GIVEN a workspace with no props
  const { stack, workspace } = workspaceStack();
  const template = Template.fromStack(stack);
  const domainId = stack.getLogicalId(workspace.domain);

  test('creates an IAM-auth domain encrypted with a new rotating key', () => {
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::SageMaker::Domain', {
      AuthMode: 'IAM',
      AppNetworkAccessType: 'PublicInternetOnly',
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WorkspaceKey'), 'Arn'] },
      DomainName: Match.stringLikeRegexp('^S-Workspace-[A-F0-9]{8}$'),
    });
  });

  test('creates a VPC with isolated subnets in two AZs, flow logs and no NAT gateway', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.resourceCountIs('AWS::EC2::Subnet', 2);
    template.hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC',
      LogDestinationType: 'cloud-watch-logs',
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    template.hasResourceProperties('AWS::SageMaker::Domain', {
      VpcId: { Ref: Match.stringLikeRegexp('^WorkspaceVpc') },
      SubnetIds: [{ Ref: Match.stringLikeRegexp('Subnet1') }, { Ref: Match.stringLikeRegexp('Subnet2') }],
    });
  });

  test('shuts JupyterLab down after 60 idle minutes and uses its own security group', () => {
    template.hasResourceProperties('AWS::SageMaker::Domain', {
      DefaultUserSettings: {
        ExecutionRole: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WorkspaceExecutionRole'), 'Arn'] },
        SecurityGroups: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^WorkspaceSecurityGroup'), 'GroupId'] }],
        JupyterLabAppSettings: {
          AppLifecycleManagement: {
            IdleSettings: { LifecycleManagement: 'ENABLED', IdleTimeoutInMinutes: 60 },
          },
        },
      },
    });
  });

  test('the execution role is assumed by SageMaker and scoped to this domain', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: 'sagemaker.amazonaws.com' } })],
      },
    });
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    const statements = roleStatements(template);
    const scoped = statements.find((s) => s.Sid === 'StudioAppsAndSpacesOfThisDomain')!;
    expect(JSON.stringify(scoped.Resource)).toContain(
      JSON.stringify({ 'Fn::GetAtt': [domainId, 'DomainId'] }),
    );
    expect(JSON.stringify(scoped.Resource)).toContain(':app/');
    expect(statements.find((s) => s.Sid === 'DescribeThisDomain')?.Resource).toEqual({
      'Fn::GetAtt': [domainId, 'DomainArn'],
    });
    // Only read-only listing is granted on every resource.
    const unscoped = statements.filter((s) => s.Resource === '*');
    expect(
      unscoped
        .flatMap((s) => ([] as string[]).concat(s.Action))
        .every((a) => /^sagemaker:(List|Search)/.test(a)),
    ).toBe(true);
  });

  test('retains the domain and key, creates no user profile', () => {
    template.hasResource('AWS::SageMaker::Domain', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
    template.resourceCountIs('AWS::SageMaker::UserProfile', 0);
    expect(workspace.userProfileNames).toEqual([]);
  });

  test('exposes the domain attributes', () => {
    expect(stack.resolve(workspace.domainId)).toEqual({ 'Fn::GetAtt': [domainId, 'DomainId'] });
    expect(stack.resolve(workspace.domainArn)).toEqual({ 'Fn::GetAtt': [domainId, 'DomainArn'] });
    expect(stack.resolve(workspace.domainUrl)).toEqual({ 'Fn::GetAtt': [domainId, 'Url'] });
    expect(workspace.grantPrincipal).toBe(workspace.executionRole);
  });

  test('has zero unacknowledged cdk-nag findings', () => {
    expect(formatFindings(nagFindings(workspaceStack().app))).toBe('');
  });
});

describe('Workspace options', () => {
  const userVpc = (stack: Stack) =>
    new ec2.Vpc(stack, 'UserVpc', {
      natGateways: 1,
      maxAzs: 2,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      ],
    });

  test('a given VPC with VPC_ONLY: no VPC created, private subnets used', () => {
    const { stack } = workspaceStack((s) => ({
      vpc: userVpc(s),
      networkAccess: WorkspaceNetworkAccess.VPC_ONLY,
    }));
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::FlowLog', 0);
    template.hasResourceProperties('AWS::SageMaker::Domain', {
      AppNetworkAccessType: 'VpcOnly',
      VpcId: { Ref: Match.stringLikeRegexp('^UserVpc') },
      SubnetIds: [
        { Ref: Match.stringLikeRegexp('privateSubnet1') },
        { Ref: Match.stringLikeRegexp('privateSubnet2') },
      ],
    });
  });

  test('a given VPC without networkAccess warns that traffic bypasses it', () => {
    const { stack } = workspaceStack((s) => ({ vpc: userVpc(s) }));
    Annotations.fromStack(stack).hasWarning(
      '/S/Workspace',
      Match.stringLikeRegexp(
        'PublicInternetOnly network access in your VPC.*cdk-mlops-maturity:workspacePublicInternetInOwnVpc',
      ),
    );
  });

  test('imported VPC and subnets by id, as the app config gives them', () => {
    const { stack } = workspaceStack((s) => ({
      vpc: ec2.Vpc.fromVpcAttributes(s, 'Imported', {
        vpcId: 'vpc-0123456789abcdef0',
        availabilityZones: Fn.getAzs(),
      }),
      vpcSubnets: { subnets: [ec2.Subnet.fromSubnetId(s, 'Sn', 'subnet-0123456789abcdef0')] },
    }));
    Template.fromStack(stack).hasResourceProperties('AWS::SageMaker::Domain', {
      VpcId: 'vpc-0123456789abcdef0',
      SubnetIds: ['subnet-0123456789abcdef0'],
    });
  });

  test('a given key, role and security groups are used and none are created', () => {
    const { stack, workspace } = workspaceStack((s) => {
      const vpc = userVpc(s);
      return {
        vpc,
        networkAccess: WorkspaceNetworkAccess.VPC_ONLY,
        encryptionKey: new kms.Key(s, 'MyKey', { enableKeyRotation: true }),
        executionRole: iam.Role.fromRoleArn(s, 'MyRole', 'arn:aws:iam::111122223333:role/studio'),
        securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(s, 'MySg', 'sg-0123456789abcdef0')],
      };
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.resourceCountIs('AWS::IAM::Role', 0);
    template.resourceCountIs('AWS::EC2::SecurityGroup', 0);
    template.hasResourceProperties('AWS::SageMaker::Domain', {
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^MyKey'), 'Arn'] },
      DefaultUserSettings: Match.objectLike({
        ExecutionRole: 'arn:aws:iam::111122223333:role/studio',
        SecurityGroups: ['sg-0123456789abcdef0'],
      }),
    });
    expect(workspace.securityGroup).toBeUndefined();
    expect(workspace.connections.securityGroups.map((sg) => sg.securityGroupId)).toEqual([
      'sg-0123456789abcdef0',
    ]);
  });

  test('idle timeout, domain name, user profiles and DESTROY', () => {
    const { stack, workspace } = workspaceStack({
      idleTimeout: Duration.hours(3),
      domainName: 'ml-team',
      userProfiles: ['alice', 'bob'],
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const extra = workspace.addUserProfile('carol');
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SageMaker::Domain', {
      DomainName: 'ml-team',
      DefaultUserSettings: Match.objectLike({
        JupyterLabAppSettings: {
          AppLifecycleManagement: { IdleSettings: Match.objectLike({ IdleTimeoutInMinutes: 180 }) },
        },
      }),
    });
    template.hasResource('AWS::SageMaker::Domain', { DeletionPolicy: 'Delete' });
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
    template.resourceCountIs('AWS::SageMaker::UserProfile', 3);
    template.hasResource('AWS::SageMaker::UserProfile', {
      Properties: {
        UserProfileName: 'alice',
        DomainId: { 'Fn::GetAtt': [stack.getLogicalId(workspace.domain), 'DomainId'] },
      },
      DeletionPolicy: 'Delete',
    });
    expect(workspace.userProfileNames).toEqual(['alice', 'bob', 'carol']);
    expect(stack.resolve(extra.userProfileName)).toBe('carol');
  });

  test('grants through grantPrincipal land on the execution role', () => {
    const { stack, workspace } = workspaceStack();
    new s3.Bucket(stack, 'Data').grantRead(workspace);
    const actions = roleStatements(Template.fromStack(stack)).flatMap((s) =>
      ([] as string[]).concat(s.Action),
    );
    expect(actions).toEqual(expect.arrayContaining(['s3:GetObject*', 's3:List*']));
  });

  test('connections allow rules against the security group', () => {
    const { stack, workspace } = workspaceStack();
    const peer = new ec2.SecurityGroup(stack, 'Peer', { vpc: workspace.vpc });
    workspace.connections.allowTo(peer, ec2.Port.tcp(5432));
    Template.fromStack(stack).hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 5432,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WorkspaceSecurityGroup'), 'GroupId'] },
    });
  });
});

describe('Workspace validation', () => {
  test.each<[string, WorkspaceProps, RegExp]>([
    [
      'VPC_ONLY without a vpc',
      { networkAccess: WorkspaceNetworkAccess.VPC_ONLY },
      /networkAccess 'VpcOnly' is invalid: VpcOnly needs a route to AWS services.*pass `vpc`/,
    ],
    [
      'idle timeout too short',
      { idleTimeout: Duration.minutes(30) },
      /idleTimeout '30 minutes' is invalid: use whole minutes from 60 to 525600/,
    ],
    ['idle timeout too long', { idleTimeout: Duration.days(400) }, /idleTimeout '400 days' is invalid/],
    [
      'bad domain name',
      { domainName: 'my_domain' },
      /domainName 'my_domain' is invalid: use 1-63 letters, digits and hyphens/,
    ],
    [
      'bad profile name',
      { userProfiles: ['Al ice'] },
      /userProfiles 'Al ice' is invalid: use 1-63 letters, digits and hyphens/,
    ],
    [
      'duplicate profiles',
      { userProfiles: ['a', 'a'] },
      /userProfiles '\["a"\]' is invalid: user profile names must be unique/,
    ],
    [
      'SNAPSHOT removal',
      { removalPolicy: RemovalPolicy.SNAPSHOT },
      /removalPolicy 'snapshot' is invalid: use RemovalPolicy\.RETAIN or RemovalPolicy\.DESTROY/,
    ],
  ])('%s fails naming the prop, value and fix', (_name, props, message) => {
    expect(() => workspaceStack(props)).toThrow(MlopsValidationError);
    expect(() => workspaceStack(props)).toThrow(message);
  });

  test('addUserProfile rejects a name already added', () => {
    const { workspace } = workspaceStack({ userProfiles: ['alice'] });
    expect(() => workspace.addUserProfile('alice')).toThrow(
      /userProfiles 'alice' is invalid: user profile names must be unique/,
    );
  });

  test('all problems come in one error', () => {
    expect(() => workspaceStack({ idleTimeout: Duration.minutes(1), domainName: '-x' })).toThrow(
      /Workspace 'S\/Workspace':\n {2}- idleTimeout.*\n {2}- domainName/,
    );
  });
});
