import { ArnFormat, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ProblemCollector } from '../private/errors';
import { acknowledgeWildcards } from '../private/nag-acknowledgements';
import { checkEndpointNaming, endpointPatterns } from '../private/endpoint-names';
import { ACCOUNT, ENVIRONMENT_NAME } from '../private/patterns';
import { IModelRegistry } from '../registry/model-registry';

/**
 * The IAM path of the release workflow's own roles (its step and health functions), per source
 * environment: a release role trusts the roles under it, and no other role of that account.
 */
export function releaseOrchestratorPath(sourceEnvironmentName: string): string {
  return `/mlops-release-orchestrator/${sourceEnvironmentName}/`;
}

/** Props of a ReleaseRole. */
export interface ReleaseRoleProps {
  /** The environment the role releases to. */
  readonly environmentName: string;
  /**
   * The role's name. It is literal because the orchestrator, in another account, assumes it by ARN.
   *
   * @default `mlops-<environmentName>-release`
   */
  readonly roleName?: string;
  /** The account of the release workflow (the orchestrator) whose roles may assume this one. */
  readonly sourceAccount: string;
  /**
   * The environment the release workflow belongs to (its `sourceEnvironmentName`): only roles under
   * its orchestrator path may assume this role.
   */
  readonly sourceEnvironmentName: string;
  /**
   * The environment's serving-only CloudFormation role: the only role the release may pass, to
   * CloudFormation only, and the only one it may update the serving stack with.
   */
  readonly servingDeployRole: iam.IRole;
  /**
   * The environment's serving stack: the only stack the role may update.
   *
   * @default `<environmentName>-Serving`
   */
  readonly servingStackName?: string;
  /**
   * The registries whose model packages the environment serves (in the source account, imported with
   * `ModelRegistry.fromModelPackageGroupArn`): the release checks each package before it writes.
   */
  readonly modelRegistries: IModelRegistry[];
  /**
   * The endpoints the health gate checks and smoke-tests, by name; their alarms are those named
   * `<endpoint>-...`. Give this or `endpointNamePrefix`.
   *
   * @default - the endpoints named by `endpointNamePrefix`
   */
  readonly endpointNames?: string[];
  /**
   * What the names of the environment's endpoints, and of their alarms, start with, e.g.
   * `mlops-staging-`. Give this or `endpointNames`.
   *
   * @default - the endpoints in `endpointNames`
   */
  readonly endpointNamePrefix?: string;
}

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;

/**
 * The role a release workflow assumes to release to one environment (docs/adr/0006), in the
 * environment's account: it may write the environment's release pointers (its models' and their
 * variants') and its variants' weights, update its serving stack
 * only through the serving-only CloudFormation role, pass that role to CloudFormation and no other
 * role, read the source registry's packages, and read (and smoke-test) the environment's endpoints
 * and alarms. Misused, through the workflow's code, input or credentials, it can change serving and
 * nothing else.
 *
 * Only the orchestrator's roles may assume it: the source account is trusted on condition that the
 * caller's role lies under `/mlops-release-orchestrator/<sourceEnvironmentName>/`.
 */
export class ReleaseRole extends Construct implements iam.IGrantable {
  /** The role name that an environment's release role gets unless told otherwise. */
  public static roleNameFor(environmentName: string): string {
    return `mlops-${environmentName}-release`;
  }

  public readonly role: iam.Role;
  public readonly grantPrincipal: iam.IPrincipal;
  public readonly roleArn: string;
  public readonly roleName: string;

  constructor(scope: Construct, id: string, props: ReleaseRoleProps) {
    super(scope, id);
    validate(this, props);
    const stack = Stack.of(this);
    const env = props.environmentName;
    this.roleName = props.roleName ?? ReleaseRole.roleNameFor(env);

    // The trust names the orchestrator's roles by a condition on the account, not as role
    // principals: IAM refuses a trust policy naming a role that does not exist, and the workflow's
    // roles, in another account and stack, may be created after this one (or re-created).
    const orchestrators = `arn:${stack.partition}:iam::${props.sourceAccount}:role${releaseOrchestratorPath(props.sourceEnvironmentName)}*`;
    this.role = new iam.Role(this, 'Role', {
      roleName: this.roleName,
      description: `Releases models to ${env}, assumed by the release workflows of ${props.sourceEnvironmentName}`,
      assumedBy: new iam.AccountPrincipal(props.sourceAccount).withConditions({
        StringLike: { 'aws:PrincipalArn': orchestrators },
      }),
    });
    this.grantPrincipal = this.role;
    this.roleArn = this.role.roleArn;

    const stackName = props.servingStackName ?? `${env}-Serving`;
    const servingStack = stack.formatArn({
      service: 'cloudformation',
      resource: 'stack',
      resourceName: `${stackName}/*`,
    });
    const named = endpointPatterns(props);
    const endpointPatternList = named.endpoints;
    const alarmPatterns = named.alarms;

    const statements = [
      new iam.PolicyStatement({
        sid: 'WriteThePointers',
        actions: ['ssm:GetParameter', 'ssm:PutParameter'],
        // The champions' and the variants' pointers (IAM's `*` spans `/`:
        // `<model>/variants/<variant>/model-package-arn` matches the first), and the variants' weights.
        resources: [
          `mlops/${env}/serving/*/model-package-arn`,
          `mlops/${env}/serving/*/variants/*/weight`,
        ].map((resourceName) => stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName })),
      }),
      new iam.PolicyStatement({
        sid: 'UpdateTheServingStackThroughItsServingRole',
        actions: ['cloudformation:UpdateStack'],
        resources: [servingStack],
        conditions: { StringEquals: { 'cloudformation:RoleArn': props.servingDeployRole.roleArn } },
      }),
      new iam.PolicyStatement({
        sid: 'ReadTheServingStack',
        actions: [
          'cloudformation:DescribeStacks',
          'cloudformation:DescribeStackEvents',
          'cloudformation:CancelUpdateStack',
        ],
        resources: [servingStack],
      }),
      new iam.PolicyStatement({
        sid: 'PassTheServingRoleToCloudFormation',
        actions: ['iam:PassRole'],
        resources: [props.servingDeployRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'cloudformation.amazonaws.com' } },
      }),
      new iam.PolicyStatement({
        sid: 'ReadTheSourceModelPackages',
        actions: ['sagemaker:DescribeModelPackage'],
        resources: props.modelRegistries.map(modelPackagesArn),
      }),
      new iam.PolicyStatement({
        sid: 'CheckTheEndpoints',
        actions: ['sagemaker:DescribeEndpoint', 'sagemaker:InvokeEndpoint'],
        resources: endpointPatternList.map((p) =>
          stack.formatArn({ service: 'sagemaker', resource: 'endpoint', resourceName: p }),
        ),
      }),
      new iam.PolicyStatement({
        sid: 'ReadTheAlarms',
        actions: ['cloudwatch:DescribeAlarms'],
        resources: alarmPatterns.map((name) =>
          stack.formatArn({
            service: 'cloudwatch',
            resource: 'alarm',
            resourceName: name,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ),
      }),
    ];
    statements.forEach((s) => this.role.addToPolicy(s));
    acknowledgeWildcards(
      this.role,
      statements,
      "Each pattern names one kind of the environment's serving resources: its pointers (one per model), its " +
        'serving stack (the id CloudFormation assigns), the versions of the source groups, its endpoints and their alarms.',
    );
  }
}

/** `arn:<partition>:sagemaker:<region>:<account>:model-package/<group>/*`, from the group's ARN. */
function modelPackagesArn(registry: IModelRegistry): string {
  const arn = registry.modelPackageGroupArn;
  if (!Token.isUnresolved(arn)) {
    return `${arn.replace(':model-package-group/', ':model-package/')}/*`;
  }
  const parts = Stack.of(registry).splitArn(arn, ArnFormat.SLASH_RESOURCE_NAME);
  return Stack.of(registry).formatArn({
    ...parts,
    resource: 'model-package',
    resourceName: `${parts.resourceName}/*`,
  });
}

function validate(scope: Construct, props: ReleaseRoleProps): void {
  const problems = new ProblemCollector(`ReleaseRole '${scope.node.path}'`);
  for (const key of ['environmentName', 'sourceEnvironmentName'] as const) {
    problems.checkPattern(
      key,
      props[key] ?? '',
      ENVIRONMENT_NAME,
      'use 1-20 lower-case letters, digits and hyphens, starting with a letter',
    );
  }
  problems.checkPattern(
    'roleName',
    props.roleName,
    ROLE_NAME,
    "use 1-64 letters, digits and '+=,.@_-', e.g. 'mlops-staging-release'",
  );
  problems.checkPattern(
    'sourceAccount',
    props.sourceAccount ?? '',
    ACCOUNT,
    "use the 12-digit account of the release workflow, e.g. '111111111111'",
  );
  problems.checkPattern(
    'servingStackName',
    props.servingStackName,
    STACK_NAME,
    "use the serving stack's name, e.g. 'staging-Serving'",
  );
  if (!Array.isArray(props.modelRegistries) || props.modelRegistries.length === 0) {
    problems.add(
      'modelRegistries',
      props.modelRegistries,
      'give the registries whose packages the environment serves: the release checks each package',
    );
  }
  checkEndpointNaming(problems, props, "the environment's");
  problems.throwIfAny();
}
