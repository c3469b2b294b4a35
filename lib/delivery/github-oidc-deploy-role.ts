import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ProblemCollector } from '../private/errors';
import { ACCOUNT, BRANCH, REGION, REPOSITORY } from '../private/patterns';

/** GitHub Actions' OIDC issuer. */
export const GITHUB_OIDC_ISSUER = 'token.actions.githubusercontent.com';
/** The audience GitHub's `aws-actions/configure-aws-credentials` requests. */
export const GITHUB_OIDC_AUDIENCE = 'sts.amazonaws.com';
/** The qualifier `cdk bootstrap` uses unless told otherwise. */
export const DEFAULT_BOOTSTRAP_QUALIFIER = 'hnb659fds';

/** An environment the role may deploy to: its CDK bootstrap roles are what the role may assume. */
export interface DeployTarget {
  readonly account: string;
  readonly region: string;
}

/** Props of a GitHubOidcDeployRole. */
export interface GitHubOidcDeployRoleProps {
  /** The repository allowed to assume the role, as `owner/name`. */
  readonly repository: string;

  /**
   * The branch whose workflows may assume the role. Not allowed together with `gitHubEnvironment`.
   *
   * @default 'main' when `gitHubEnvironment` is not given
   */
  readonly branch?: string;

  /**
   * The GitHub environment whose jobs may assume the role. GitHub then puts the environment, not
   * the branch, in the token's subject, and its protection rules (reviewers, branch filters) apply.
   *
   * @default - trust is scoped to `branch`
   */
  readonly gitHubEnvironment?: string;

  /**
   * GitHub's OIDC provider in this account. IAM allows one provider per issuer and account, so
   * when several stacks in one account need a role, create it once and import it elsewhere with
   * `iam.OidcProviderNative.fromOidcProviderArn`.
   *
   * @default - a new provider for token.actions.githubusercontent.com, retained on removal
   */
  readonly provider?: iam.IOidcProvider;

  /**
   * The environments `cdk deploy` may target. The role may assume exactly their CDK bootstrap
   * roles (deploy, file publishing, image publishing, lookup) and nothing else; the targets must
   * have been bootstrapped with `--trust` for this role's account.
   *
   * @default - this stack's account and region
   */
  readonly targets?: DeployTarget[];

  /**
   * The qualifier the targets were bootstrapped with.
   *
   * @default 'hnb659fds' (the CDK default)
   */
  readonly bootstrapQualifier?: string;

  /**
   * How long a workflow's session lasts.
   *
   * @default Duration.hours(1)
   */
  readonly maxSessionDuration?: Duration;
}

const GITHUB_ENVIRONMENT = /^[^*?:"<>|\\/,]{1,255}$/;
const QUALIFIER = /^[A-Za-z0-9_-]{1,10}$/;

/**
 * An IAM role that GitHub Actions workflows of one repository and branch (or GitHub environment)
 * assume through OIDC to run `cdk deploy`: no long-lived keys, and no permission beyond assuming
 * the CDK bootstrap roles of the target environments.
 */
export class GitHubOidcDeployRole extends Construct implements iam.IGrantable {
  public readonly role: iam.Role;
  public readonly provider: iam.IOidcProvider;
  public readonly grantPrincipal: iam.IPrincipal;
  /** The `sub` claim the role trusts, e.g. `repo:octo/ml:ref:refs/heads/main`. */
  public readonly subject: string;

  constructor(scope: Construct, id: string, props: GitHubOidcDeployRoleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const qualifier = props.bootstrapQualifier ?? DEFAULT_BOOTSTRAP_QUALIFIER;
    validateProps(this, props, qualifier);

    this.subject = props.gitHubEnvironment
      ? `repo:${props.repository}:environment:${props.gitHubEnvironment}`
      : `repo:${props.repository}:ref:refs/heads/${props.branch ?? 'main'}`;

    this.provider =
      props.provider ??
      new iam.OidcProviderNative(this, 'Provider', {
        url: `https://${GITHUB_OIDC_ISSUER}`,
        clientIds: [GITHUB_OIDC_AUDIENCE],
        // Shared by every role that trusts GitHub in this account: deleting it with this stack
        // would break the others.
        removalPolicy: RemovalPolicy.RETAIN,
      });

    this.role = new iam.Role(this, 'Role', {
      description: `cdk deploy from GitHub Actions: ${this.subject}`,
      maxSessionDuration: props.maxSessionDuration ?? Duration.hours(1),
      assumedBy: new iam.OpenIdConnectPrincipal(this.provider, {
        // StringEquals, not StringLike: an exact subject cannot be matched by another repository,
        // fork, branch or pull request.
        StringEquals: {
          [`${GITHUB_OIDC_ISSUER}:aud`]: GITHUB_OIDC_AUDIENCE,
          [`${GITHUB_OIDC_ISSUER}:sub`]: this.subject,
        },
      }),
    });
    this.grantPrincipal = this.role;

    const targets = props.targets ?? [{ account: stack.account, region: stack.region }];
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'AssumeCdkBootstrapRoles',
        actions: ['sts:AssumeRole', 'sts:TagSession'],
        resources: targets.flatMap((t) =>
          ['deploy', 'file-publishing', 'image-publishing', 'lookup'].map(
            (kind) =>
              `arn:${stack.partition}:iam::${t.account}:role/cdk-${qualifier}-${kind}-role-${t.account}-${t.region}`,
          ),
        ),
      }),
    );
  }
}

function validateProps(scope: Construct, props: GitHubOidcDeployRoleProps, qualifier: string): void {
  const problems = new ProblemCollector(`GitHubOidcDeployRole '${scope.node.path}'`);
  const unresolved = (v: string | undefined) => v !== undefined && Token.isUnresolved(v);
  if (!unresolved(props.repository) && !REPOSITORY.test(props.repository ?? '')) {
    problems.add(
      'repository',
      props.repository,
      'use "owner/name" exactly as on GitHub, e.g. "octo-org/ml-platform", without wildcards or a URL',
    );
  }
  if (props.branch !== undefined && props.gitHubEnvironment !== undefined) {
    problems.add(
      'branch',
      props.branch,
      'give branch or gitHubEnvironment, not both: with an environment GitHub puts only the environment in the token',
    );
  }
  if (props.branch !== undefined && !unresolved(props.branch) && !BRANCH.test(props.branch)) {
    problems.add(
      'branch',
      props.branch,
      'use one branch name such as "main", without wildcards or "refs/heads/"',
    );
  } else if (props.branch?.startsWith('refs/')) {
    problems.add('branch', props.branch, 'give the branch name only, e.g. "main"; the role adds refs/heads/');
  }
  if (
    props.gitHubEnvironment !== undefined &&
    !unresolved(props.gitHubEnvironment) &&
    !GITHUB_ENVIRONMENT.test(props.gitHubEnvironment)
  ) {
    problems.add(
      'gitHubEnvironment',
      props.gitHubEnvironment,
      'use the environment name as in the repository settings, without wildcards',
    );
  }
  if (!QUALIFIER.test(qualifier)) {
    problems.add('bootstrapQualifier', qualifier, 'use the 1-10 character qualifier given to cdk bootstrap');
  }
  for (const [i, t] of (props.targets ?? []).entries()) {
    if (!unresolved(t.account) && !ACCOUNT.test(t.account)) {
      problems.add(`targets[${i}].account`, t.account, 'use a 12-digit AWS account id');
    }
    if (!unresolved(t.region) && !REGION.test(t.region)) {
      problems.add(`targets[${i}].region`, t.region, 'use a region code such as "eu-west-1"');
    }
  }
  if (props.targets !== undefined && props.targets.length === 0) {
    problems.add('targets', [], 'name at least one environment, or leave targets out to use this stack');
  }
  problems.throwIfAny();
}
