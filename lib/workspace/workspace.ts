import { Annotations, Duration, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { ProblemCollector } from '../private/errors';
import { acknowledgeWildcards } from '../private/nag-acknowledgements';

/** How Studio apps reach the network. */
export class WorkspaceNetworkAccess {
  /**
   * Apps reach the internet through SageMaker's own network; the VPC only carries the home
   * directories' file system. Works in a VPC without NAT gateways, so it costs nothing while idle.
   */
  public static readonly PUBLIC_INTERNET_ONLY = new WorkspaceNetworkAccess('PublicInternetOnly');
  /**
   * All traffic goes through your VPC, which then needs a route to AWS services (NAT gateway or
   * VPC endpoints).
   */
  public static readonly VPC_ONLY = new WorkspaceNetworkAccess('VpcOnly');

  private constructor(
    /** The value of the domain's AppNetworkAccessType. */
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
   * @default - a new VPC with two isolated subnets, no NAT gateway and flow logs
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Where in `vpc` the domain's network interfaces go.
   *
   * @default - the VPC's private subnets, else its isolated subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * How Studio apps reach the network. VPC_ONLY requires `vpc`, because the created VPC has no
   * route to AWS services.
   *
   * @default WorkspaceNetworkAccess.PUBLIC_INTERNET_ONLY
   */
  readonly networkAccess?: WorkspaceNetworkAccess;

  /**
   * Security groups of the domain's apps.
   *
   * @default - one new security group, egress open so that apps can reach package mirrors and AWS APIs
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * The key that encrypts the domain's storage.
   *
   * @default - a new customer-managed key with rotation
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * The role Studio apps run as. Grant it data access with e.g. `artifactStore.grantReadWrite(workspace)`.
   *
   * @default - a role with the Studio permissions for this domain only
   */
  readonly executionRole?: iam.IRole;

  /**
   * Studio user profiles to create.
   *
   * @default - none; add them later with `addUserProfile`
   */
  readonly userProfiles?: string[];

  /**
   * Inactivity after which JupyterLab apps shut down, so a forgotten notebook stops billing.
   * From 60 minutes to 525,600 minutes (a year), the range SageMaker accepts.
   *
   * @default Duration.minutes(60)
   */
  readonly idleTimeout?: Duration;

  /**
   * The domain's name.
   *
   * @default - derived from the construct path, stable across deployments
   */
  readonly domainName?: string;

  /**
   * What happens to the domain, its user profiles, the created key and flow-log group when they leave
   * the stack. Only RETAIN and DESTROY apply. The home directories' EFS file system is kept either
   * way: CloudFormation deletes a domain with SageMaker's default retention of the file system.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

const NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const MIN_IDLE_MINUTES = 60;
const MAX_IDLE_MINUTES = 525600;

/**
 * The platform's notebook workspace (maturity level 0): a SageMaker Studio domain with IAM
 * authentication, KMS encryption, idle shutdown and, by default, its own VPC without NAT gateways.
 *
 * The workspace is grantable: `grantPrincipal` is the role Studio apps run as.
 */
export class Workspace extends Construct implements iam.IGrantable, ec2.IConnectable {
  public readonly domain: sagemaker.CfnDomain;
  /** @attribute */
  public readonly domainId: string;
  /** @attribute */
  public readonly domainArn: string;
  /** @attribute */
  public readonly domainUrl: string;
  public readonly executionRole: iam.IRole;
  public readonly grantPrincipal: iam.IPrincipal;
  public readonly vpc: ec2.IVpc;
  public readonly encryptionKey: kms.IKey;
  public readonly connections: ec2.Connections;
  /** The security group created for the domain, when none was given. */
  public readonly securityGroup?: ec2.SecurityGroup;
  private readonly profiles = new Map<string, sagemaker.CfnUserProfile>();
  private readonly removalPolicy: RemovalPolicy;

  constructor(scope: Construct, id: string, props: WorkspaceProps = {}) {
    super(scope, id);
    validateProps(this, props);
    this.removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.vpc = props.vpc ?? this.createVpc();
    const subnets = this.vpc.selectSubnets(props.vpcSubnets ?? defaultSubnets(this.vpc));
    if (props.securityGroups && props.securityGroups.length > 0) {
      this.connections = new ec2.Connections({ securityGroups: props.securityGroups });
    } else {
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

    const domainName =
      props.domainName ??
      Names.uniqueResourceName(this, { maxLength: 63, separator: '-', allowedSpecialCharacters: '-' });
    const createdRole = props.executionRole ? undefined : this.createExecutionRole(domainName);
    this.executionRole = props.executionRole ?? createdRole!;
    this.grantPrincipal = this.executionRole;

    this.domain = new sagemaker.CfnDomain(this, 'Domain', {
      domainName,
      authMode: 'IAM',
      vpcId: this.vpc.vpcId,
      subnetIds: subnets.subnetIds,
      appNetworkAccessType: (props.networkAccess ?? WorkspaceNetworkAccess.PUBLIC_INTERNET_ONLY).value,
      kmsKeyId: this.encryptionKey.keyArn,
      defaultUserSettings: {
        executionRole: this.executionRole.roleArn,
        securityGroups: this.connections.securityGroups.map((sg) => sg.securityGroupId),
        jupyterLabAppSettings: {
          appLifecycleManagement: {
            idleSettings: {
              lifecycleManagement: 'ENABLED',
              idleTimeoutInMinutes: (props.idleTimeout ?? Duration.minutes(60)).toMinutes(),
            },
          },
        },
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

  /** Names of the user profiles created by this workspace. */
  public get userProfileNames(): string[] {
    return [...this.profiles.keys()];
  }

  /** Adds a Studio user profile named `name`. */
  public addUserProfile(name: string): sagemaker.CfnUserProfile {
    const problems = new ProblemCollector(`Workspace '${this.node.path}'`);
    checkProfileName(problems, 'userProfiles', name);
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

  private createVpc(): ec2.Vpc {
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      // No NAT gateway: it bills per hour. Studio reaches the internet through SageMaker's network.
      natGateways: 0,
      subnetConfiguration: [{ name: 'studio', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 22 }],
    });
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: this.removalPolicy,
    });
    vpc.addFlowLog('FlowLog', { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs) });
    return vpc;
  }

  private createExecutionRole(domainName: string): iam.Role {
    return new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: `Studio apps of the workspace domain ${domainName}`,
    });
  }

  /**
   * What a JupyterLab user needs on this domain only. The policy is a separate resource that
   * depends on the domain (for its id), while the domain depends only on the role: no cycle.
   */
  private grantStudioPermissions(role: iam.Role): void {
    const stack = Stack.of(this);
    const arn = (path: string) => `arn:${stack.partition}:sagemaker:${stack.region}:${stack.account}:${path}`;
    const domainScoped = new iam.PolicyStatement({
      sid: 'StudioAppsAndSpacesOfThisDomain',
      actions: [
        'sagemaker:CreateApp',
        'sagemaker:DeleteApp',
        'sagemaker:DescribeApp',
        'sagemaker:CreateSpace',
        'sagemaker:DeleteSpace',
        'sagemaker:DescribeSpace',
        'sagemaker:UpdateSpace',
        'sagemaker:DescribeUserProfile',
      ],
      resources: [
        arn(`app/${this.domainId}/*`),
        arn(`space/${this.domainId}/*`),
        arn(`user-profile/${this.domainId}/*`),
      ],
    });
    role.addToPolicy(domainScoped);
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeThisDomain',
        actions: ['sagemaker:DescribeDomain'],
        resources: [this.domainArn],
      }),
    );
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
    role.addToPolicy(listing);
    acknowledgeWildcards(
      role,
      [domainScoped],
      'Studio creates apps, spaces and profiles with names chosen at run time; the ARNs are limited to this ' +
        "domain's id in this account and region.",
    );
    acknowledgeWildcards(
      role,
      [listing],
      'SageMaker List and Search actions do not support resource-level permissions, so they can only be ' +
        'granted on all resources; they are read-only.',
    );
  }
}

function defaultSubnets(vpc: ec2.IVpc): ec2.SubnetSelection {
  return vpc.privateSubnets.length > 0
    ? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }
    : { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
}

function validateProps(scope: Construct, props: WorkspaceProps): void {
  const problems = new ProblemCollector(`Workspace '${scope.node.path}'`);
  const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
  if (removalPolicy !== RemovalPolicy.RETAIN && removalPolicy !== RemovalPolicy.DESTROY) {
    problems.add('removalPolicy', removalPolicy, 'use RemovalPolicy.RETAIN or RemovalPolicy.DESTROY');
  }
  if (props.networkAccess === WorkspaceNetworkAccess.VPC_ONLY && !props.vpc) {
    problems.add(
      'networkAccess',
      props.networkAccess.value,
      'VpcOnly needs a route to AWS services, which the created VPC (no NAT gateway, no VPC endpoints) ' +
        'does not have: pass `vpc` with a NAT gateway or SageMaker, STS and S3 endpoints, or use PUBLIC_INTERNET_ONLY',
    );
  }
  if (props.idleTimeout && !Token.isUnresolved(props.idleTimeout.toSeconds())) {
    const minutes = props.idleTimeout.toSeconds() / 60;
    if (!Number.isInteger(minutes) || minutes < MIN_IDLE_MINUTES || minutes > MAX_IDLE_MINUTES) {
      problems.add(
        'idleTimeout',
        props.idleTimeout.toHumanString(),
        `use whole minutes from ${MIN_IDLE_MINUTES} to ${MAX_IDLE_MINUTES}, e.g. Duration.minutes(60)`,
      );
    }
  }
  problems.checkPattern(
    'domainName',
    props.domainName,
    NAME_PATTERN,
    'use 1-63 letters, digits and hyphens, starting with a letter or digit',
  );
  const names = props.userProfiles ?? [];
  names.forEach((n) => checkProfileName(problems, 'userProfiles', n));
  const duplicates = names.filter((n, i) => names.indexOf(n) !== i);
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

function checkProfileName(problems: ProblemCollector, prop: string, name: string): void {
  if (!Token.isUnresolved(name) && !NAME_PATTERN.test(name)) {
    problems.add(prop, name, 'use 1-63 letters, digits and hyphens, starting with a letter or digit');
  }
}
