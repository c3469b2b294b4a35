import { Annotations, Duration, Fn, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { ProblemCollector } from '../private/errors';
import { createIsolatedVpc } from '../private/isolated-vpc';
import { SAGEMAKER_NAME } from '../private/sagemaker-names';
import { acknowledgeNagFindings, acknowledgeWildcards } from '../private/nag-acknowledgements';

/** How the Studio apps of a Workspace reach the network. */
export class WorkspaceNetworkAccess {
  /**
   * Apps reach the internet through SageMaker's own network; the VPC only carries the traffic to
   * the home directories' file system. Works in a VPC without NAT gateways, so it costs nothing
   * while idle.
   */
  public static readonly PUBLIC_INTERNET_ONLY = new WorkspaceNetworkAccess('PublicInternetOnly');

  /**
   * All traffic goes through your VPC, which then needs a route to AWS services: a NAT gateway, or
   * VPC endpoints for at least SageMaker (API and runtime), STS and S3.
   */
  public static readonly VPC_ONLY = new WorkspaceNetworkAccess('VpcOnly');

  private constructor(
    /** The value of the domain's `AppNetworkAccessType`. */
    public readonly value: string,
  ) {}

  public toString(): string {
    return this.value;
  }
}

/** Props of a Workspace. */
export interface WorkspaceProps {
  /**
   * The VPC of the domain.
   *
   * @default - a new VPC with one isolated subnet in each of `availabilityZones`, no NAT gateway, flow logs
   */
  readonly vpc?: ec2.IVpc;

  /**
   * The availability zones of the VPC this construct creates, one isolated subnet in each. Not
   * allowed with `vpc`. Give literal zone names (e.g. `['eu-west-1a', 'eu-west-1b']`) to pin them;
   * nothing is looked up at synth either way.
   *
   * @default - the first two of the region, resolved at deploy time (Fn::GetAZs)
   */
  readonly availabilityZones?: string[];

  /**
   * Where in `vpc` the domain's network interfaces go. Only with `vpc`.
   *
   * @default - the private subnets of `vpc`, else its isolated subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * How Studio apps reach the network. VPC_ONLY requires `vpc`, because the VPC this construct
   * creates has no route to AWS services.
   *
   * @default WorkspaceNetworkAccess.PUBLIC_INTERNET_ONLY
   */
  readonly networkAccess?: WorkspaceNetworkAccess;

  /**
   * Security groups of the domain's apps, one to five.
   *
   * @default - one new security group with all egress allowed and no ingress
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * The key that encrypts the domain's storage: the home directories' EFS file system and the
   * spaces' EBS volumes.
   *
   * @default - a new customer-managed key with rotation, removed with `removalPolicy`
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * The role Studio apps run as. A given role is used as is: it must already allow what Studio
   * needs. Grant data access with e.g. `artifactStore.grantReadWrite(workspace)`.
   *
   * @default - a role assumed by SageMaker with the Studio permissions on this domain only
   */
  readonly executionRole?: iam.IRole;

  /**
   * Names of the Studio user profiles to create: 1-63 letters, digits and hyphens, unique.
   *
   * @default - none; add them later with `addUserProfile`
   */
  readonly userProfiles?: string[];

  /**
   * Inactivity after which JupyterLab apps shut down, so that a forgotten notebook stops billing.
   * Whole minutes from 60 to 525,600 (a year), the range SageMaker accepts for
   * `IdleTimeoutInMinutes`.
   *
   * @default Duration.minutes(60)
   */
  readonly idleTimeout?: Duration;

  /**
   * The domain's name: 1-63 letters, digits and hyphens, starting with a letter or digit.
   *
   * @default - derived from the construct path, stable across deployments
   */
  readonly domainName?: string;

  /**
   * What happens to the domain, its user profiles, the created key and the created flow-log group
   * when they leave the stack. RETAIN or DESTROY.
   *
   * The home directories' EFS file system, which SageMaker creates with the domain, is kept either
   * way: CloudFormation's AWS::SageMaker::Domain has no retention setting for it and deletes the
   * domain with SageMaker's default, which retains the file system.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

const NAME_FIX = 'use 1-63 letters, digits and hyphens, starting and ending with a letter or digit';
/** The bounds of `IdleSettings.IdleTimeoutInMinutes` in the AWS::SageMaker::Domain schema. */
const MIN_IDLE_MINUTES = 60;
const MAX_IDLE_MINUTES = 525600;
/** A domain's user settings accept at most five security groups. */
const MAX_SECURITY_GROUPS = 5;
/** A /22 subnet per zone in the created VPC's /16; no region has nearly as many zones. */
const MAX_AVAILABILITY_ZONES = 64;

/**
 * The platform's notebook workspace (maturity level 0): a SageMaker Studio domain with IAM
 * authentication, KMS encryption, JupyterLab idle shutdown and, by default, its own VPC without
 * NAT gateways.
 *
 * The workspace is grantable: `grantPrincipal` is the role Studio apps run as, so data owners
 * grant access with e.g. `artifactStore.grantReadWrite(workspace)`. It is connectable: its
 * security groups are `connections`.
 */
export class Workspace extends Construct implements iam.IGrantable, ec2.IConnectable {
  /** The domain resource, as an escape hatch. */
  public readonly domain: sagemaker.CfnDomain;
  /**
   * The domain's id, e.g. `d-xxxxxxxxxxxx`.
   * @attribute
   */
  public readonly domainId: string;
  /** @attribute */
  public readonly domainArn: string;
  /**
   * The domain's Studio URL.
   * @attribute
   */
  public readonly domainUrl: string;
  /** The role Studio apps run as. */
  public readonly executionRole: iam.IRole;
  /** The execution role: grants to the workspace land on it. */
  public readonly grantPrincipal: iam.IPrincipal;
  /** The domain's VPC, given or created. */
  public readonly vpc: ec2.IVpc;
  /** The key encrypting the domain's storage, given or created. */
  public readonly encryptionKey: kms.IKey;
  /** The security groups of the domain's apps. */
  public readonly connections: ec2.Connections;
  /** The security group created for the domain; undefined when `securityGroups` were given. */
  public readonly securityGroup?: ec2.ISecurityGroup;

  private readonly profiles = new Map<string, sagemaker.CfnUserProfile>();
  private readonly removalPolicy: RemovalPolicy;

  constructor(scope: Construct, id: string, props: WorkspaceProps = {}) {
    super(scope, id);
    validateProps(this, props);
    this.removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.vpc = props.vpc ?? this.createVpc(props.availabilityZones);
    const subnets = this.vpc.selectSubnets(props.vpcSubnets ?? defaultSubnets(this.vpc));

    if (props.securityGroups) {
      this.connections = new ec2.Connections({ securityGroups: props.securityGroups });
    } else {
      // Egress stays open: with VPC_ONLY, apps reach AWS APIs, package mirrors and data stores whose
      // addresses are not known at synth, and in either mode the home directories over NFS. No ingress.
      this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
        vpc: this.vpc,
        description: 'SageMaker Studio apps of the MLOps workspace',
        allowAllOutbound: true,
      });
      this.connections = this.securityGroup.connections;
    }

    this.encryptionKey =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: `Encrypts the SageMaker Studio domain ${this.node.path}`,
        enableKeyRotation: true,
        removalPolicy: this.removalPolicy,
      });

    // The domain requires a name, and changing it replaces the domain: one derived from the path
    // is the same on every deployment. Hyphens in ids are kept, as in the names already deployed;
    // the leading-hyphen strip only matters for an id that starts with one.
    const domainName =
      props.domainName ??
      Names.uniqueResourceName(this, {
        maxLength: 63,
        separator: '-',
        allowedSpecialCharacters: '-',
      }).replace(/^-+/, '');
    const createdRole = props.executionRole
      ? undefined
      : new iam.Role(this, 'ExecutionRole', {
          assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
          description: `Studio apps of the workspace domain ${domainName}`,
        });
    this.executionRole = props.executionRole ?? createdRole!;
    this.grantPrincipal = this.executionRole;

    const securityGroupIds = this.connections.securityGroups.map((sg) => sg.securityGroupId);
    const jupyterLabAppSettings: sagemaker.CfnDomain.JupyterLabAppSettingsProperty = {
      appLifecycleManagement: {
        idleSettings: {
          lifecycleManagement: 'ENABLED',
          idleTimeoutInMinutes: (props.idleTimeout ?? Duration.minutes(60)).toMinutes(),
        },
      },
    };
    this.domain = new sagemaker.CfnDomain(this, 'Domain', {
      domainName,
      authMode: 'IAM',
      vpcId: this.vpc.vpcId,
      subnetIds: subnets.subnetIds,
      appNetworkAccessType: (props.networkAccess ?? WorkspaceNetworkAccess.PUBLIC_INTERNET_ONLY).value,
      kmsKeyId: this.encryptionKey.keyArn,
      defaultUserSettings: {
        executionRole: this.executionRole.roleArn,
        securityGroups: securityGroupIds,
        jupyterLabAppSettings,
      },
      // Shared spaces take their role, network and idle shutdown from here, not from the user settings.
      defaultSpaceSettings: {
        executionRole: this.executionRole.roleArn,
        securityGroups: securityGroupIds,
        jupyterLabAppSettings,
      },
    });
    this.domain.applyRemovalPolicy(this.removalPolicy);
    this.domainId = this.domain.attrDomainId;
    this.domainArn = this.domain.attrDomainArn;
    this.domainUrl = this.domain.attrUrl;

    if (createdRole) {
      this.grantStudioPermissions(createdRole);
    }
    for (const name of props.userProfiles ?? []) {
      this.addUserProfile(name);
    }
  }

  /** Names of the user profiles this workspace created, in the order they were added. */
  public get userProfileNames(): string[] {
    return [...this.profiles.keys()];
  }

  /**
   * Adds a Studio user profile named `name` to the domain, with the domain's default settings and
   * the workspace's removal policy.
   */
  public addUserProfile(name: string): sagemaker.CfnUserProfile {
    const problems = new ProblemCollector(`Workspace '${this.node.path}'`);
    checkProfileName(problems, name);
    if (this.profiles.has(name)) {
      problems.add('userProfiles', name, 'user profile names must be unique; remove the duplicate');
    }
    problems.throwIfAny();

    const profile = new sagemaker.CfnUserProfile(this, `UserProfile-${name}`, {
      domainId: this.domainId,
      userProfileName: name,
    });
    profile.applyRemovalPolicy(this.removalPolicy);
    this.profiles.set(name, profile);
    return profile;
  }

  private createVpc(availabilityZones?: string[]): ec2.IVpc {
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: this.removalPolicy,
    });
    // Isolated subnets only: a NAT gateway bills by the hour, and with PUBLIC_INTERNET_ONLY Studio
    // reaches the internet through SageMaker's network. Deploy-time zones: no context lookup.
    return createIsolatedVpc(this, 'Vpc', {
      availabilityZones: availabilityZones ?? [0, 1].map((i) => Fn.select(i, Fn.getAzs())),
      subnetGroupName: 'studio',
      flowLogGroup: flowLogs,
    });
  }

  /**
   * What a JupyterLab user needs on this domain only. The policy is a separate resource that
   * depends on the domain (for its id) while the domain depends only on the role: no cycle.
   */
  private grantStudioPermissions(role: iam.Role): void {
    const stack = Stack.of(this);
    const arn = (resource: string) =>
      `arn:${stack.partition}:sagemaker:${stack.region}:${stack.account}:${resource}`;
    const apps = arn(`app/${this.domainId}/*`);
    const spaces = arn(`space/${this.domainId}/*`);
    const profiles = arn(`user-profile/${this.domainId}/*`);

    const appsAndSpaces = new iam.PolicyStatement({
      sid: 'StudioAppsAndSpacesOfThisDomain',
      actions: [
        'sagemaker:CreateApp',
        'sagemaker:DeleteApp',
        'sagemaker:DescribeApp',
        'sagemaker:CreateSpace',
        'sagemaker:DeleteSpace',
        'sagemaker:DescribeSpace',
        // Studio updates a space when its user changes the instance type or storage size.
        'sagemaker:UpdateSpace',
        'sagemaker:DescribeUserProfile',
      ],
      resources: [apps, spaces, profiles],
    });
    // Studio tags every app and space it creates; without this the create calls are denied.
    // The condition limits it to tags passed in a create call.
    const tagOnCreate = new iam.PolicyStatement({
      sid: 'StudioTagOnCreateInThisDomain',
      actions: ['sagemaker:AddTags'],
      resources: [apps, spaces],
      conditions: { Null: { 'sagemaker:TaggingAction': 'false' } },
    });
    const describeDomain = new iam.PolicyStatement({
      sid: 'DescribeThisDomain',
      actions: ['sagemaker:DescribeDomain'],
      resources: [this.domainArn],
    });
    const listing = new iam.PolicyStatement({
      sid: 'StudioListing',
      actions: [
        'sagemaker:ListApps',
        'sagemaker:ListSpaces',
        'sagemaker:ListUserProfiles',
        'sagemaker:Search',
      ],
      resources: ['*'],
    });
    for (const statement of [appsAndSpaces, tagOnCreate, describeDomain, listing]) {
      role.addToPrincipalPolicy(statement);
    }

    // One acknowledgement per finding id: each id names the domain-scoped ARN it is about.
    acknowledgeWildcards(
      role,
      [appsAndSpaces, tagOnCreate],
      'Studio names apps and spaces at run time; the ARNs are limited to apps, spaces and user profiles ' +
        "under this domain's id, in this account and region.",
    );
    acknowledgeNagFindings(role, {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'sagemaker:ListApps, ListSpaces, ListUserProfiles and Search do not support resource-level ' +
        'permissions, so they can only be granted on all resources; they are read-only.',
    });
  }
}

function defaultSubnets(vpc: ec2.IVpc): ec2.SubnetSelection {
  return vpc.privateSubnets.length > 0
    ? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }
    : { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
}

function validateProps(scope: Construct, props: WorkspaceProps): void {
  const problems = new ProblemCollector(`Workspace '${scope.node.path}'`);

  problems.checkRetainOrDestroy(
    props.removalPolicy,
    'a Studio domain cannot be snapshotted; use RemovalPolicy.RETAIN or RemovalPolicy.DESTROY',
  );

  if (props.networkAccess === WorkspaceNetworkAccess.VPC_ONLY && !props.vpc) {
    problems.add(
      'networkAccess',
      props.networkAccess.value,
      'VpcOnly needs a route to AWS services, which the created VPC (no NAT gateway, no VPC endpoints) ' +
        'does not have: pass `vpc` with a NAT gateway or SageMaker, STS and S3 endpoints, or use PUBLIC_INTERNET_ONLY',
    );
  }
  if (props.availabilityZones && props.vpc) {
    problems.add(
      'availabilityZones',
      props.availabilityZones,
      'it places the subnets of the VPC this construct creates; with your own `vpc`, choose subnets with vpcSubnets instead',
    );
  }
  const zones = props.availabilityZones;
  if (zones && !Token.isUnresolved(zones)) {
    const literal = zones.filter((z) => !Token.isUnresolved(z));
    const repeated = [...new Set(literal.filter((z, i) => literal.indexOf(z) !== i))];
    if (zones.length === 0 || zones.length > MAX_AVAILABILITY_ZONES) {
      problems.add(
        'availabilityZones',
        zones,
        `give 1 to ${MAX_AVAILABILITY_ZONES} zones, e.g. ['eu-west-1a', 'eu-west-1b'], or omit it for the region's first two`,
      );
    } else if (repeated.length > 0) {
      problems.add(
        'availabilityZones',
        zones,
        `each zone holds one subnet; remove the duplicates ${repeated.join(', ')}`,
      );
    }
  }
  if (props.vpcSubnets && !props.vpc) {
    problems.add(
      'vpcSubnets',
      describeSelection(props.vpcSubnets),
      'vpcSubnets selects subnets of `vpc`, which was not given: pass `vpc` too, or drop vpcSubnets',
    );
  }
  if (
    props.vpc &&
    !props.vpcSubnets &&
    props.vpc.privateSubnets.length === 0 &&
    props.vpc.isolatedSubnets.length === 0
  ) {
    problems.add(
      'vpcSubnets',
      undefined,
      `vpc '${props.vpc.node.path}' has no private or isolated subnets to default to: ` +
        'pass vpcSubnets, e.g. { subnets: [ec2.Subnet.fromSubnetId(...)] }',
    );
  }
  if (
    props.securityGroups &&
    (props.securityGroups.length < 1 || props.securityGroups.length > MAX_SECURITY_GROUPS)
  ) {
    problems.add(
      'securityGroups',
      `${props.securityGroups.length} security groups`,
      `pass 1 to ${MAX_SECURITY_GROUPS} security groups, or omit securityGroups to create one`,
    );
  }

  const idle = props.idleTimeout;
  if (idle && !idle.isUnresolved()) {
    const minutes = idle.toSeconds() / 60;
    if (!Number.isInteger(minutes) || minutes < MIN_IDLE_MINUTES || minutes > MAX_IDLE_MINUTES) {
      problems.add(
        'idleTimeout',
        idle.toHumanString(),
        `use whole minutes from ${MIN_IDLE_MINUTES} to ${MAX_IDLE_MINUTES}, e.g. Duration.minutes(60)`,
      );
    }
  }

  problems.checkPattern('domainName', props.domainName, SAGEMAKER_NAME, NAME_FIX);
  const names = props.userProfiles ?? [];
  names.forEach((n) => checkProfileName(problems, n));
  const duplicates = [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
  if (duplicates.length > 0) {
    problems.add('userProfiles', duplicates, 'user profile names must be unique; remove the duplicates');
  }
  problems.throwIfAny();

  if (props.vpc && !props.networkAccess) {
    Annotations.of(scope).addWarningV2(
      'cdk-mlops-maturity:workspacePublicInternetInOwnVpc',
      'The workspace uses PublicInternetOnly network access in your VPC: Studio traffic bypasses the VPC. ' +
        'Set networkAccess: WorkspaceNetworkAccess.VPC_ONLY to keep it inside.',
    );
  }
}

function checkProfileName(problems: ProblemCollector, name: string): void {
  if (!Token.isUnresolved(name) && !SAGEMAKER_NAME.test(name)) {
    problems.add('userProfiles', name, NAME_FIX);
  }
}

/** A readable form of a subnet selection for error messages: subnets are constructs, not JSON. */
function describeSelection(selection: ec2.SubnetSelection): string {
  const parts = [
    selection.subnetType && `subnetType: ${selection.subnetType}`,
    selection.subnetGroupName && `subnetGroupName: ${selection.subnetGroupName}`,
    selection.subnets && `subnets: ${selection.subnets.map((s) => s.subnetId).join(', ')}`,
  ].filter((p) => p);
  return parts.length > 0 ? `{ ${parts.join('; ')} }` : 'a subnet selection';
}
