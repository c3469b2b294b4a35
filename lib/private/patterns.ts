/**
 * The forms of identifiers that the platform's config and its constructs both check. One table, so
 * that a value the config accepts is never rejected later by a construct (or the reverse).
 */

/** An AWS account id: 12 digits. */
export const ACCOUNT = /^\d{12}$/;

/** An AWS region code, partition-aware: us-east-1, eu-central-2, us-gov-west-1, cn-northwest-1, us-isob-east-1. */
export const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/**
 * A repository as `owner/name`: GitHub's owner rule (1-39 letters, digits and hyphens, not starting
 * with a hyphen) and its repository rule (1-100 letters, digits, `.`, `_`, `-`, but not `.` or `..`).
 */
export const REPOSITORY = /^[A-Za-z0-9][A-Za-z0-9-]{0,38}\/(?!\.\.?$)[A-Za-z0-9._-]{1,100}$/;

/**
 * A branch name that git (`git check-ref-format --branch`) and so GitHub accept, limited to the
 * characters that need no quoting and cannot act as wildcards: no leading `-` or `/`, no trailing
 * `/` or `.`, no `//` or `..`, no path component starting with `.` or ending with `.lock`, not `HEAD`.
 */
export const BRANCH =
  /^(?!-|\/|HEAD$|.*\/\/|.*\.\.|(?:.*\/)?\.|.*\.lock(?:\/|$)|.*[/.]$)[A-Za-z0-9._/-]{1,255}$/;

/** An AWS CodeConnections (or CodeStar Connections) connection ARN. */
export const CONNECTION_ARN =
  /^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection\/[0-9a-f-]+$/;

/** The ARN of GitHub Actions' IAM OIDC provider in an account. */
export const GITHUB_OIDC_PROVIDER_ARN =
  /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/;

/** An EC2 VPC id. */
export const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;

/** An EC2 subnet id. */
export const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;

/**
 * An environment name: also a Stage id, a stack name prefix and part of resource and parameter
 * names, hence short and lower-case.
 */
export const ENVIRONMENT_NAME = /^[a-z][a-z0-9-]{0,19}$/;

/**
 * SageMaker's pattern for the names of most of its resources (domains, user profiles, model package
 * groups, endpoints): 1-63 letters, digits and hyphens, starting and ending with a letter or digit.
 */
export const SAGEMAKER_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

/** The same pattern with SageMaker's longer limit of 256 characters (pipelines, MLflow). */
export const SAGEMAKER_LONG_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$/;

/** The form of a SageMaker instance type, e.g. `ml.m5.large`. */
export const SAGEMAKER_INSTANCE_TYPE = /^ml\.[a-z0-9]+\.[a-z0-9]+$/;

/**
 * A model's name within an environment: part of construct ids (and so logical ids), endpoint,
 * pipeline, model package group and SSM parameter names, and artifact-store folders. 1-32
 * lower-case letters, digits and single hyphens, starting with a letter and not ending with a
 * hyphen, so that `mlops-<environment>-<model>` fits SageMaker's 63 characters.
 */
export const MODEL_NAME = /^[a-z](?:-?[a-z0-9]){0,31}$/;

/**
 * What a model's name becomes in CloudFormation logical ids, which drop hyphens: two models whose
 * names differ only in hyphens (`ab-c`, `a-bc`) would collide.
 */
export function modelNameKey(name: string): string {
  return name.replace(/-/g, '');
}

/** One path segment of an S3 key, as a folder of the artifact store's prefixes (e.g. a model's name). */
export const ARTIFACT_FOLDER = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$/;

/**
 * A CloudWatch alarm name as SageMaker's rollback configuration takes it: 1-255 characters, not
 * only white space (SageMaker's AlarmName), without ASCII control characters (CloudWatch's).
 */
export const CLOUDWATCH_ALARM_NAME = /^(?!\s*$)[^\u0000-\u001f\u007f]{1,255}$/u;
