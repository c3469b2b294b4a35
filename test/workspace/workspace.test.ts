import { App, CfnParameter, Duration, Fn, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { MlopsValidationError } from '../../lib/private/errors';
import { Workspace, WorkspaceNetworkAccess, WorkspaceProps } from '../../lib/workspace/workspace';
import { acknowledgementsUnder } from '../support/acknowledgements';
import { formatFindings, nagFindings } from '../support/nag';

const ENV = { account: '111122223333', region: 'eu-west-1' };

/** A Workspace with `props` in a fresh app; props may be built from the stack to create their inputs there. */
function workspaceStack(
  props?: WorkspaceProps | ((stack: Stack) => WorkspaceProps),
  env: { account: string; region: string } | undefined = ENV,
) {
  const app = new App();
  const stack = new Stack(app, 'S', { env });
  const workspace = new Workspace(stack, 'Workspace', typeof props === 'function' ? props(stack) : props);
  return { app, stack, workspace };
}

/** A VPC of the user's with NAT and flow logs, as VPC_ONLY needs and cdk-nag expects. */
function userVpc(stack: Stack): ec2.Vpc {
  const vpc = new ec2.Vpc(stack, 'UserVpc', {
    natGateways: 1,
    maxAzs: 2,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
      { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    ],
  });
  vpc.addFlowLog('FlowLog');
  return vpc;
}

/** The error `fn` throws, so one construction serves both the type and the message assertions. */
function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, none was thrown');
}

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
function policyStatements(template: Template): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
        .Statement,
  );
}

describe('Workspace defaults', () => {
  // GIVEN a workspace with no props
  // WHEN its stack is synthesized once for every test below
  const { stack, workspace } = workspaceStack();
  const template = Template.fromStack(stack);
  const domainLogicalId = stack.getLogicalId(workspace.domain);
  /** The resolved ARN pattern of every `kind` resource (app, space, ...) under this domain. */
  const arnUnder = (kind: string) =>
    stack.resolve(`arn:${stack.partition}:sagemaker:eu-west-1:111122223333:${kind}/${workspace.domainId}/*`);

  test('creates an IAM-auth domain encrypted with a new rotating key, named from its path', () => {
    // THEN
    template.resourceCountIs('AWS::SageMaker::Domain', 1);
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::SageMaker::Domain', {
      AuthMode: 'IAM',
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WorkspaceKey'), 'Arn'] },
      DomainName: Match.stringLikeRegexp('^S-Workspace-[A-F0-9]{8}$'),
    });
  });

  test('the generated domain name is stable: the same path gives the same name', () => {
    // GIVEN a second, independent app with the same construct path
    const again = workspaceStack();
    // THEN the name, which the domain cannot change without replacement, is the same
    const name = (t: Template) =>
      Object.values(t.findResources('AWS::SageMaker::Domain'))[0].Properties.DomainName as string;
    expect(name(Template.fromStack(again.stack))).toBe(name(template));
  });

  test('the generated domain name keeps hyphens of ids and fits SageMaker for long paths', () => {
    // GIVEN a hyphenated stack id, and a path far longer than 63 characters
    const app = new App();
    const short = new Workspace(new Stack(app, 'ml-dev'), 'Workspace');
    const deep = new Stack(app, 'Deep');
    const long = new Workspace(
      new Construct(new Construct(deep, 'AVeryLongConstructIdForTheTier'), 'AnotherLongIdForItsPart'),
      'TheNotebookWorkspaceOfTheTeam',
    );
    // THEN
    const name = (w: Workspace) => Stack.of(w).resolve(w.domain.domainName) as string;
    expect(name(short)).toMatch(/^ml-dev-Workspace-[A-F0-9]{8}$/);
    expect(name(long).length).toBeLessThanOrEqual(63);
    expect(name(long)).toMatch(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/);
  });

  test('creates a VPC in two AZs with isolated subnets only, flow logs and no NAT gateway', () => {
    // THEN nothing in the network bills per hour
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.resourceCountIs('AWS::EC2::EIP', 0);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    template.resourceCountIs('AWS::EC2::Subnet', 2);
    template.allResourcesProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false });
    template.hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC',
      ResourceId: { Ref: Match.stringLikeRegexp('^WorkspaceVpc') },
      LogDestinationType: 'cloud-watch-logs',
      LogGroupName: { Ref: Match.stringLikeRegexp('^WorkspaceFlowLogs') },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    template.hasResourceProperties('AWS::SageMaker::Domain', {
      VpcId: { Ref: Match.stringLikeRegexp('^WorkspaceVpc') },
      SubnetIds: [
        { Ref: Match.stringLikeRegexp('^WorkspaceVpcstudioSubnet1') },
        { Ref: Match.stringLikeRegexp('^WorkspaceVpcstudioSubnet2') },
      ],
    });
  });

  test('uses SageMaker-managed internet access, which the NAT-less VPC needs', () => {
    // THEN
    template.hasResourceProperties('AWS::SageMaker::Domain', { AppNetworkAccessType: 'PublicInternetOnly' });
  });

  test('shuts JupyterLab down after 60 idle minutes, in private and shared spaces', () => {
    // THEN both the user defaults and the shared-space defaults carry the role, group and idle shutdown
    const settings = {
      ExecutionRole: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WorkspaceExecutionRole'), 'Arn'] },
      SecurityGroups: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^WorkspaceSecurityGroup'), 'GroupId'] }],
      JupyterLabAppSettings: {
        AppLifecycleManagement: {
          IdleSettings: { LifecycleManagement: 'ENABLED', IdleTimeoutInMinutes: 60 },
        },
      },
    };
    template.hasResourceProperties('AWS::SageMaker::Domain', {
      DefaultUserSettings: settings,
      DefaultSpaceSettings: settings,
    });
  });

  test('creates one security group with open egress and no ingress', () => {
    // THEN
    template.resourceCountIs('AWS::EC2::SecurityGroup', 1);
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupEgress: [{ CidrIp: '0.0.0.0/0', IpProtocol: '-1' }].map((e) => Match.objectLike(e)),
      SecurityGroupIngress: Match.absent(),
    });
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    expect(workspace.securityGroup).toBeDefined();
    expect(workspace.connections.securityGroups).toEqual([workspace.securityGroup]);
  });

  test('the execution role is assumed by SageMaker only and has no managed policy', () => {
    // THEN
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'sagemaker.amazonaws.com' } },
        ],
      },
      ManagedPolicyArns: Match.absent(),
    });
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    expect(JSON.stringify(template.toJSON())).not.toContain('AmazonSageMakerFullAccess');
  });

  test("the execution role's Studio permissions are scoped to this domain", () => {
    // THEN every statement naming a resource names this domain's apps, spaces, profiles or the domain
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^WorkspaceExecutionRole') }],
      PolicyDocument: {
        Statement: [
          {
            Sid: 'StudioAppsAndSpacesOfThisDomain',
            Effect: 'Allow',
            Action: [
              'sagemaker:CreateApp',
              'sagemaker:DeleteApp',
              'sagemaker:DescribeApp',
              'sagemaker:CreateSpace',
              'sagemaker:DeleteSpace',
              'sagemaker:DescribeSpace',
              'sagemaker:UpdateSpace',
              'sagemaker:DescribeUserProfile',
            ],
            Resource: [arnUnder('app'), arnUnder('space'), arnUnder('user-profile')],
          },
          {
            Sid: 'StudioTagOnCreateInThisDomain',
            Effect: 'Allow',
            Action: 'sagemaker:AddTags',
            Resource: [arnUnder('app'), arnUnder('space')],
            Condition: { Null: { 'sagemaker:TaggingAction': 'false' } },
          },
          {
            Sid: 'DescribeThisDomain',
            Effect: 'Allow',
            Action: 'sagemaker:DescribeDomain',
            Resource: { 'Fn::GetAtt': [domainLogicalId, 'DomainArn'] },
          },
          {
            Sid: 'StudioListing',
            Effect: 'Allow',
            Action: [
              'sagemaker:ListApps',
              'sagemaker:ListSpaces',
              'sagemaker:ListUserProfiles',
              'sagemaker:Search',
            ],
            Resource: '*',
          },
        ],
      },
    });
  });

  test('grants no data access by itself', () => {
    // THEN only SageMaker actions are granted; data comes from grants by its owners
    const workspaceActions = policyStatements(template)
      .filter((s) => s.Sid?.startsWith('Studio') || s.Sid === 'DescribeThisDomain')
      .flatMap((s) => ([] as string[]).concat(s.Action));
    expect(workspaceActions.every((a) => a.startsWith('sagemaker:'))).toBe(true);
  });

  test('retains the domain, key and flow-log group, and creates no user profile', () => {
    // THEN
    template.hasResource('AWS::SageMaker::Domain', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain' });
    template.resourceCountIs('AWS::SageMaker::UserProfile', 0);
    expect(workspace.userProfileNames).toEqual([]);
  });

  test('exposes the domain attributes and grants through the execution role', () => {
    // THEN
    expect(stack.resolve(workspace.domainId)).toEqual({ 'Fn::GetAtt': [domainLogicalId, 'DomainId'] });
    expect(stack.resolve(workspace.domainArn)).toEqual({ 'Fn::GetAtt': [domainLogicalId, 'DomainArn'] });
    expect(stack.resolve(workspace.domainUrl)).toEqual({ 'Fn::GetAtt': [domainLogicalId, 'Url'] });
    expect(workspace.grantPrincipal).toBe(workspace.executionRole);
    expect(stack.resolve(workspace.executionRole.roleArn)).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^WorkspaceExecutionRole/), 'Arn'],
    });
    expect(stack.resolve(workspace.encryptionKey.keyArn)).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^WorkspaceKey/), 'Arn'],
    });
    expect(stack.resolve(workspace.vpc.vpcId)).toEqual({ Ref: expect.stringMatching(/^WorkspaceVpc/) });
  });

  test('acknowledges each wildcard finding of the execution role, and nothing else', () => {
    // THEN one acknowledgement per cdk-nag finding id, each with a reason, all on the role
    const acks = acknowledgementsUnder(workspace).filter((a) => a.id.includes('AwsSolutions'));
    const domainId = `<${domainLogicalId}.DomainId>`;
    const prefix =
      'Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:eu-west-1:111122223333';
    expect(acks.map((a) => a.id).sort()).toEqual(
      [
        `${prefix}:app/${domainId}/*]`,
        `${prefix}:space/${domainId}/*]`,
        `${prefix}:user-profile/${domainId}/*]`,
        'Annotation::AwsSolutions-IAM5[Resource::*]',
      ].sort(),
    );
    expect(acks.every((a) => a.path === 'S/Workspace/ExecutionRole' && a.reason.length > 40)).toBe(true);
  });
});

describe('Workspace cdk-nag', () => {
  test('the default workspace has zero unacknowledged AwsSolutions findings', () => {
    // GIVEN a default workspace in an environment-specific stack
    const { app } = workspaceStack();
    // WHEN synthesized with the AwsSolutions pack
    // THEN nothing is reported
    expect(formatFindings(nagFindings(app))).toBe('');
  });

  test('a workspace in a VPC of the user, in an environment-agnostic stack, has zero findings', () => {
    // GIVEN a VPC_ONLY workspace in a user VPC; the stack's region and account are tokens
    const { app } = workspaceStack(
      (s) => ({ vpc: userVpc(s), networkAccess: WorkspaceNetworkAccess.VPC_ONLY }),
      undefined,
    );
    // WHEN synthesized with the AwsSolutions pack
    // THEN nothing is reported
    expect(formatFindings(nagFindings(app))).toBe('');
  });
});

describe('Workspace without context lookups', () => {
  /** A Workspace in a fresh app with no context at all, as `cdk synth` without credentials runs it. */
  function synthWithoutContext(
    env: { account: string; region: string } | undefined,
    props?: WorkspaceProps,
    context?: Record<string, unknown>,
  ) {
    const app = new App({ context });
    const stack = new Stack(app, 'S', { env });
    new Workspace(stack, 'Workspace', props);
    const assembly = app.synth();
    return { stack, assembly, template: Template.fromStack(stack) };
  }
  const deployTimeZone = (i: number) => ({ 'Fn::Select': [i, { 'Fn::GetAZs': '' }] });

  test('a stack with an explicit account and region needs no context and writes no dummy zone', () => {
    // GIVEN a stack bound to an account and region, and an app without any context
    // WHEN it is synthesized
    const { assembly, template } = synthWithoutContext({ account: '123456789012', region: 'eu-west-1' });
    // THEN nothing is missing (the CLI would otherwise need credentials), and the zones resolve at deploy time
    expect(assembly.manifest.missing ?? []).toEqual([]);
    expect(JSON.stringify(template.toJSON())).not.toMatch(/dummy/);
    template.resourceCountIs('AWS::EC2::Subnet', 2);
    template.hasResourceProperties('AWS::EC2::Subnet', {
      AvailabilityZone: deployTimeZone(0),
      CidrBlock: '10.0.0.0/22',
    });
    template.hasResourceProperties('AWS::EC2::Subnet', {
      AvailabilityZone: deployTimeZone(1),
      CidrBlock: '10.0.4.0/22',
    });
  });

  test('an environment-agnostic stack gets the same deploy-time zones', () => {
    // WHEN
    const { assembly, template } = synthWithoutContext(undefined);
    // THEN
    expect(assembly.manifest.missing ?? []).toEqual([]);
    template.hasResourceProperties('AWS::EC2::Subnet', { AvailabilityZone: deployTimeZone(0) });
    template.hasResourceProperties('AWS::EC2::Subnet', { AvailabilityZone: deployTimeZone(1) });
  });

  test('given availability zones get one isolated subnet each, in consecutive /22 blocks', () => {
    // GIVEN three literal zones
    const { assembly, template } = synthWithoutContext(
      { account: '123456789012', region: 'eu-west-1' },
      { availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'] },
    );
    // THEN they are used as given, without a lookup to check them against
    expect(assembly.manifest.missing ?? []).toEqual([]);
    template.resourceCountIs('AWS::EC2::Subnet', 3);
    template.resourceCountIs('AWS::EC2::RouteTable', 3);
    for (const [zone, cidr] of [
      ['eu-west-1a', '10.0.0.0/22'],
      ['eu-west-1b', '10.0.4.0/22'],
      ['eu-west-1c', '10.0.8.0/22'],
    ]) {
      template.hasResourceProperties('AWS::EC2::Subnet', {
        AvailabilityZone: zone,
        CidrBlock: cidr,
        MapPublicIpOnLaunch: false,
        Tags: Match.arrayWith([{ Key: 'aws-cdk:subnet-type', Value: 'Isolated' }]),
      });
    }
    template.hasResourceProperties('AWS::SageMaker::Domain', {
      SubnetIds: [1, 2, 3].map((n) => ({
        Ref: Match.stringLikeRegexp(`^WorkspaceVpcstudioSubnet${n}Subnet`),
      })),
    });
  });

  test('the network keeps the logical ids it had as an ec2.Vpc, so nothing is replaced', () => {
    // WHEN
    const { template } = synthWithoutContext(undefined);
    // THEN the ids are those of the released template
    const ids = Object.keys(template.toJSON().Resources);
    expect(ids).toEqual(
      expect.arrayContaining([
        'WorkspaceVpc92F8182D',
        'WorkspaceVpcstudioSubnet1SubnetB35A8436',
        'WorkspaceVpcstudioSubnet1RouteTableF1CDEDB7',
        'WorkspaceVpcstudioSubnet1RouteTableAssociation3E334B42',
        'WorkspaceVpcstudioSubnet2SubnetC2B72B07',
        'WorkspaceVpcstudioSubnet2RouteTableE1BD8B60',
        'WorkspaceVpcstudioSubnet2RouteTableAssociation9A176190',
        'WorkspaceVpcFlowLog82D74269',
        'WorkspaceVpcFlowLogIAMRoleEF6353CE',
      ]),
    );
    template.hasResourceProperties('AWS::EC2::VPC', {
      CidrBlock: '10.0.0.0/16',
      EnableDnsHostnames: true,
      EnableDnsSupport: true,
      Tags: [{ Key: 'Name', Value: 'S/Workspace/Vpc' }],
    });
  });

  test("with aws-cdk's restrictDefaultSecurityGroup flag, the default security group loses its rules", () => {
    // GIVEN the flag that new CDK projects set
    const { template } = synthWithoutContext({ account: '123456789012', region: 'eu-west-1' }, undefined, {
      '@aws-cdk/aws-ec2:restrictDefaultSecurityGroup': true,
    });
    // THEN
    template.hasResourceProperties('Custom::VpcRestrictDefaultSG', {
      DefaultSecurityGroupId: { 'Fn::GetAtt': ['WorkspaceVpc92F8182D', 'DefaultSecurityGroup'] },
      Account: '123456789012',
    });
    expect(Object.keys(template.findResources('Custom::VpcRestrictDefaultSG'))).toEqual([
      expect.stringMatching(/^WorkspaceVpcRestrictDefaultSecurityGroupCustomResource[A-F0-9]{8}$/),
    ]);
    template.hasResourceProperties('AWS::IAM::Role', {
      Policies: [
        Match.objectLike({
          PolicyDocument: Match.objectLike({
            Statement: [
              Match.objectLike({
                Action: Match.arrayWith(['ec2:RevokeSecurityGroupIngress', 'ec2:RevokeSecurityGroupEgress']),
              }),
            ],
          }),
        }),
      ],
    });
  });
});

describe('Workspace network options', () => {
  test('a given VPC with VPC_ONLY: no VPC or flow log created, its private subnets used, no warning', () => {
    // GIVEN
    const { stack } = workspaceStack((s) => ({
      vpc: userVpc(s),
      networkAccess: WorkspaceNetworkAccess.VPC_ONLY,
    }));
    // WHEN
    const template = Template.fromStack(stack);
    // THEN
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::Logs::LogGroup', 1); // the user VPC's own flow-log group
    expect(Object.keys(template.findResources('AWS::Logs::LogGroup'))[0]).toMatch(/^UserVpc/);
    template.hasResourceProperties('AWS::SageMaker::Domain', {
      AppNetworkAccessType: 'VpcOnly',
      VpcId: { Ref: Match.stringLikeRegexp('^UserVpc') },
      SubnetIds: [
        { Ref: Match.stringLikeRegexp('^UserVpcprivateSubnet1') },
        { Ref: Match.stringLikeRegexp('^UserVpcprivateSubnet2') },
      ],
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      VpcId: { Ref: Match.stringLikeRegexp('^UserVpc') },
    });
    Annotations.fromStack(stack).hasNoWarning('/S/Workspace', Match.anyValue());
  });

  test('a subnet selection picks the subnets of the given VPC', () => {
    // GIVEN a selection of the isolated group
    const { stack } = workspaceStack((s) => ({
      vpc: userVpc(s),
      vpcSubnets: { subnetGroupName: 'data' },
      networkAccess: WorkspaceNetworkAccess.VPC_ONLY,
    }));
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::SageMaker::Domain', {
      SubnetIds: [
        { Ref: Match.stringLikeRegexp('^UserVpcdataSubnet1') },
        { Ref: Match.stringLikeRegexp('^UserVpcdataSubnet2') },
      ],
    });
  });

  test('a given VPC without networkAccess warns that Studio traffic bypasses it', () => {
    // GIVEN
    const { stack } = workspaceStack((s) => ({ vpc: userVpc(s) }));
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::SageMaker::Domain', {
      AppNetworkAccessType: 'PublicInternetOnly',
    });
    Annotations.fromStack(stack).hasWarning(
      '/S/Workspace',
      Match.stringLikeRegexp(
        'PublicInternetOnly network access in your VPC.*cdk-mlops-maturity:workspacePublicInternetInOwnVpc',
      ),
    );
  });

  test('an imported VPC with subnets by id, as the app config gives them, needs no lookup', () => {
    // GIVEN
    const { stack } = workspaceStack((s) => ({
      vpc: ec2.Vpc.fromVpcAttributes(s, 'Imported', {
        vpcId: 'vpc-0123456789abcdef0',
        availabilityZones: Fn.getAzs(),
      }),
      vpcSubnets: {
        subnets: [
          ec2.Subnet.fromSubnetId(s, 'Sn1', 'subnet-0123456789abcdef0'),
          ec2.Subnet.fromSubnetId(s, 'Sn2', 'subnet-0123456789abcdef1'),
        ],
      },
      networkAccess: WorkspaceNetworkAccess.VPC_ONLY,
    }));
    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.hasResourceProperties('AWS::SageMaker::Domain', {
      AppNetworkAccessType: 'VpcOnly',
      VpcId: 'vpc-0123456789abcdef0',
      SubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
    });
  });

  test('given security groups are used and none is created', () => {
    // GIVEN two security groups of the user
    const { stack, workspace } = workspaceStack((s) => ({
      vpc: userVpc(s),
      networkAccess: WorkspaceNetworkAccess.VPC_ONLY,
      securityGroups: [
        ec2.SecurityGroup.fromSecurityGroupId(s, 'Sg1', 'sg-0123456789abcdef0'),
        ec2.SecurityGroup.fromSecurityGroupId(s, 'Sg2', 'sg-0123456789abcdef1'),
      ],
    }));
    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::SecurityGroup', 0);
    const groups = ['sg-0123456789abcdef0', 'sg-0123456789abcdef1'];
    template.hasResourceProperties('AWS::SageMaker::Domain', {
      DefaultUserSettings: Match.objectLike({ SecurityGroups: groups }),
      DefaultSpaceSettings: Match.objectLike({ SecurityGroups: groups }),
    });
    expect(workspace.securityGroup).toBeUndefined();
    expect(workspace.connections.securityGroups.map((sg) => sg.securityGroupId)).toEqual(groups);
  });

  test('connections open ports from the workspace security group', () => {
    // GIVEN a database security group in the workspace VPC
    const { stack, workspace } = workspaceStack();
    const database = new ec2.SecurityGroup(stack, 'Database', { vpc: workspace.vpc });
    // WHEN the workspace is allowed to reach it
    workspace.connections.allowTo(database, ec2.Port.tcp(5432));
    // THEN an ingress rule on the database names the workspace group
    Template.fromStack(stack).hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 5432,
      ToPort: 5432,
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Database'), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WorkspaceSecurityGroup'), 'GroupId'] },
    });
  });
});

describe('Workspace options', () => {
  test('a given key and role are used: no key, role or policy is created', () => {
    // GIVEN
    const { stack, workspace } = workspaceStack((s) => ({
      encryptionKey: new kms.Key(s, 'MyKey', { enableKeyRotation: true }),
      executionRole: iam.Role.fromRoleArn(s, 'MyRole', 'arn:aws:iam::111122223333:role/studio'),
    }));
    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.resourceCountIs('AWS::IAM::Role', 1); // the flow log's role only
    template.resourcePropertiesCountIs(
      'AWS::IAM::Role',
      {
        AssumeRolePolicyDocument: Match.objectLike({
          Statement: [Match.objectLike({ Principal: { Service: 'sagemaker.amazonaws.com' } })],
        }),
      },
      0,
    );
    expect(policyStatements(template).filter((s) => JSON.stringify(s.Action).includes('sagemaker:'))).toEqual(
      [],
    );
    template.hasResourceProperties('AWS::SageMaker::Domain', {
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^MyKey'), 'Arn'] },
      DefaultUserSettings: Match.objectLike({ ExecutionRole: 'arn:aws:iam::111122223333:role/studio' }),
      DefaultSpaceSettings: Match.objectLike({ ExecutionRole: 'arn:aws:iam::111122223333:role/studio' }),
    });
    expect(workspace.grantPrincipal).toBe(workspace.executionRole);
    expect(workspace.executionRole.roleArn).toBe('arn:aws:iam::111122223333:role/studio');
  });

  test('idle timeout, domain name, user profiles, addUserProfile and DESTROY', () => {
    // GIVEN
    const { stack, workspace } = workspaceStack({
      idleTimeout: Duration.hours(3),
      domainName: 'ml-team',
      userProfiles: ['alice', 'bob'],
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // WHEN a profile is added later
    const carol = workspace.addUserProfile('carol');
    const template = Template.fromStack(stack);
    // THEN
    const idle = {
      JupyterLabAppSettings: {
        AppLifecycleManagement: {
          IdleSettings: { LifecycleManagement: 'ENABLED', IdleTimeoutInMinutes: 180 },
        },
      },
    };
    template.hasResourceProperties('AWS::SageMaker::Domain', {
      DomainName: 'ml-team',
      DefaultUserSettings: Match.objectLike(idle),
      DefaultSpaceSettings: Match.objectLike(idle),
      // CloudFormation's Domain has no retention setting for the home file system; none is invented.
      RetentionPolicy: Match.absent(),
    });
    template.hasResource('AWS::SageMaker::Domain', {
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
    });
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
    template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete' });
    template.resourceCountIs('AWS::SageMaker::UserProfile', 3);
    for (const name of ['alice', 'bob', 'carol']) {
      template.hasResource('AWS::SageMaker::UserProfile', {
        Properties: {
          UserProfileName: name,
          DomainId: { 'Fn::GetAtt': [stack.getLogicalId(workspace.domain), 'DomainId'] },
        },
        DeletionPolicy: 'Delete',
      });
    }
    expect(workspace.userProfileNames).toEqual(['alice', 'bob', 'carol']);
    expect(stack.resolve(carol.userProfileName)).toBe('carol');
  });

  test('user profiles are retained with the default removal policy', () => {
    // GIVEN
    const { stack } = workspaceStack({ userProfiles: ['alice'] });
    // THEN
    Template.fromStack(stack).hasResource('AWS::SageMaker::UserProfile', {
      Properties: Match.objectLike({ UserProfileName: 'alice' }),
      DeletionPolicy: 'Retain',
    });
  });

  test('token values are passed through unvalidated', () => {
    // GIVEN an idle timeout and a domain name from parameters, known only at deploy time
    const { stack } = workspaceStack((s) => ({
      idleTimeout: Duration.minutes(Token.asNumber(new CfnParameter(s, 'Idle', { type: 'Number' }))),
      domainName: new CfnParameter(s, 'Name').valueAsString,
    }));
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::SageMaker::Domain', {
      DomainName: { Ref: 'Name' },
      DefaultUserSettings: Match.objectLike({
        JupyterLabAppSettings: {
          AppLifecycleManagement: {
            IdleSettings: Match.objectLike({ IdleTimeoutInMinutes: { Ref: 'Idle' } }),
          },
        },
      }),
    });
  });

  test('grants through grantPrincipal land on the execution role', () => {
    // GIVEN a bucket of the user
    const { stack, workspace } = workspaceStack();
    // WHEN the workspace is granted read access
    new s3.Bucket(stack, 'Data', { enforceSSL: true }).grantRead(workspace);
    // THEN the execution role's policy holds the bucket actions on that bucket
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^WorkspaceExecutionRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['s3:GetObject*', 's3:List*']),
            Resource: Match.arrayWith([{ 'Fn::GetAtt': [Match.stringLikeRegexp('^Data'), 'Arn'] }]),
          }),
        ]),
      },
    });
  });
});

describe('Workspace validation', () => {
  test.each<[string, WorkspaceProps | ((s: Stack) => WorkspaceProps), RegExp]>([
    [
      'VPC_ONLY without a vpc',
      { networkAccess: WorkspaceNetworkAccess.VPC_ONLY },
      /networkAccess 'VpcOnly' is invalid: VpcOnly needs a route to AWS services.*pass `vpc` with a NAT gateway or SageMaker, STS and S3 endpoints/,
    ],
    [
      'vpcSubnets without a vpc',
      { vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } },
      /vpcSubnets '\{ subnetType: Private \}' is invalid: .*pass `vpc` too, or drop vpcSubnets/,
    ],
    [
      'a vpc with neither private nor isolated subnets and no vpcSubnets',
      (s) => ({
        vpc: new ec2.Vpc(s, 'PublicOnly', {
          natGateways: 0,
          subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }],
        }),
      }),
      /vpcSubnets \(undefined\) is invalid: vpc 'S\/PublicOnly' has no private or isolated subnets.*pass vpcSubnets/,
    ],
    [
      'no security groups',
      { securityGroups: [] },
      /securityGroups '0 security groups' is invalid: pass 1 to 5 security groups, or omit securityGroups/,
    ],
    [
      'six security groups',
      (s) => ({
        securityGroups: [0, 1, 2, 3, 4, 5].map((i) =>
          ec2.SecurityGroup.fromSecurityGroupId(s, `Sg${i}`, `sg-0123456789abcdef${i}`),
        ),
      }),
      /securityGroups '6 security groups' is invalid: pass 1 to 5 security groups/,
    ],
    [
      'idle timeout too short',
      { idleTimeout: Duration.minutes(30) },
      /idleTimeout '30 minutes' is invalid: use whole minutes from 60 to 525600, e\.g\. Duration\.minutes\(60\)/,
    ],
    [
      'idle timeout too long',
      { idleTimeout: Duration.days(366) },
      /idleTimeout '366 days' is invalid: use whole minutes from 60 to 525600/,
    ],
    [
      'idle timeout not in whole minutes',
      { idleTimeout: Duration.seconds(3630) },
      /idleTimeout '1 hour 30 seconds' is invalid: use whole minutes/,
    ],
    [
      'bad domain name',
      { domainName: 'my_domain' },
      /domainName 'my_domain' is invalid: use 1-63 letters, digits and hyphens/,
    ],
    [
      'domain name ending in a hyphen',
      { domainName: 'team-' },
      /domainName 'team-' is invalid: use 1-63 letters, digits and hyphens/,
    ],
    [
      'bad profile name',
      { userProfiles: ['alice', 'Al ice'] },
      /userProfiles 'Al ice' is invalid: use 1-63 letters, digits and hyphens/,
    ],
    [
      'profile name too long',
      { userProfiles: ['a'.repeat(64)] },
      new RegExp(`userProfiles '${'a'.repeat(64)}' is invalid: use 1-63 letters`),
    ],
    [
      'duplicate profiles',
      { userProfiles: ['a', 'b', 'a', 'a'] },
      /userProfiles '\["a"\]' is invalid: user profile names must be unique; remove the duplicates/,
    ],
    [
      'availabilityZones with a given vpc',
      (s) => ({ vpc: userVpc(s), availabilityZones: ['eu-west-1a', 'eu-west-1b'] }),
      /availabilityZones '\["eu-west-1a","eu-west-1b"\]' is invalid: it places the subnets of the VPC this construct creates; with your own `vpc`, choose subnets with vpcSubnets/,
    ],
    [
      'no availability zones',
      { availabilityZones: [] },
      /availabilityZones '\[\]' is invalid: give 1 to 64 zones, e\.g\. \['eu-west-1a', 'eu-west-1b'\]/,
    ],
    [
      'a repeated availability zone',
      { availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1a'] },
      /availabilityZones '\["eu-west-1a","eu-west-1b","eu-west-1a"\]' is invalid: each zone holds one subnet; remove the duplicates eu-west-1a/,
    ],
    [
      'SNAPSHOT removal',
      { removalPolicy: RemovalPolicy.SNAPSHOT },
      /removalPolicy 'snapshot' is invalid: a Studio domain cannot be snapshotted; use RemovalPolicy\.RETAIN or RemovalPolicy\.DESTROY/,
    ],
  ])('%s fails naming the prop, the value and the fix', (_name, props, message) => {
    // WHEN
    const error = errorOf(() => workspaceStack(props));
    // THEN
    expect(error).toBeInstanceOf(MlopsValidationError);
    expect(error.message).toMatch(/^Workspace 'S\/Workspace': /);
    expect(error.message).toMatch(message);
  });

  test('all problems come in one error', () => {
    // WHEN three props are wrong at once
    const error = errorOf(() =>
      workspaceStack({
        networkAccess: WorkspaceNetworkAccess.VPC_ONLY,
        idleTimeout: Duration.minutes(1),
        domainName: '-x',
      }),
    );
    // THEN each is listed
    expect(error).toBeInstanceOf(MlopsValidationError);
    expect((error as MlopsValidationError).problems).toHaveLength(3);
    expect(error.message).toMatch(
      /^Workspace 'S\/Workspace':\n {2}- networkAccess.*\n {2}- idleTimeout.*\n {2}- domainName/,
    );
  });

  test('addUserProfile rejects a name already added, and an invalid name', () => {
    // GIVEN
    const { stack, workspace } = workspaceStack({ userProfiles: ['alice'] });
    // WHEN / THEN
    expect(() => workspace.addUserProfile('alice')).toThrow(
      /userProfiles 'alice' is invalid: user profile names must be unique; remove the duplicate/,
    );
    expect(() => workspace.addUserProfile('bad_name')).toThrow(
      /userProfiles 'bad_name' is invalid: use 1-63 letters, digits and hyphens/,
    );
    // AND nothing was added by the failed calls
    expect(workspace.userProfileNames).toEqual(['alice']);
    Template.fromStack(stack).resourceCountIs('AWS::SageMaker::UserProfile', 1);
  });
});
