import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { DEFAULT_BOOTSTRAP_QUALIFIER } from '../delivery/github-oidc-deploy-role';
import { ProblemCollector } from '../private/errors';
import { acknowledgeWildcards } from '../private/nag-acknowledgements';
import { checkEndpointNaming, endpointPatterns } from '../private/endpoint-names';
import { ENVIRONMENT_NAME } from '../private/patterns';

/** Props of a ServingDeployRole. */
export interface ServingDeployRoleProps {
  /** The environment whose serving stack the role deploys: its pointers are `/mlops/<env>/serving/...`. */
  readonly environmentName: string;
  /**
   * The role's name. It is literal because release roles, possibly in another account, name it.
   *
   * @default `mlops-<environmentName>-serving-deploy`
   */
  readonly roleName?: string;
  /**
   * The endpoints the serving stack holds, by name. Their alarms are those named `<endpoint>-...`.
   * Give this or `endpointNamePrefix`.
   *
   * @default - the endpoints named by `endpointNamePrefix`
   */
  readonly endpointNames?: string[];
  /**
   * What the names of the serving stack's endpoints, and of their alarms, start with, e.g.
   * `mlops-staging-`: for an environment whose models come and go. Give this or `endpointNames`.
   *
   * @default - the endpoints in `endpointNames`
   */
  readonly endpointNamePrefix?: string;
  /**
   * The roles the stack's SageMaker models run with: the only roles it may pass, and only to
   * SageMaker. Give this or `modelRoleArnPattern`.
   *
   * @default - the roles matching `modelRoleArnPattern`
   */
  readonly modelRoles?: iam.IRole[];
  /**
   * An ARN pattern of the model roles, e.g. `arn:aws:iam::222222222222:role/mlops-staging-*-model`,
   * for roles created after this one. The role name must start with a literal part: a pattern that
   * matches any role is refused. Give this or `modelRoles`.
   *
   * @default - the roles in `modelRoles`
   */
  readonly modelRoleArnPattern?: string;
  /**
   * The key that the endpoints' data capture is encrypted with (`DataCaptureConfig.KmsKeyId`).
   *
   * @default - no key: endpoint configs that name one fail to deploy
   */
  readonly dataCaptureKey?: kms.IKey;
  /**
   * The qualifier the environment was bootstrapped with: the stack reads its bootstrap version.
   *
   * @default 'hnb659fds' (the CDK default)
   */
  readonly bootstrapQualifier?: string;
}

/** The service principal whose service-linked role scales SageMaker endpoint variants. */
const AUTOSCALING_SERVICE = 'sagemaker.application-autoscaling.amazonaws.com';
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const QUALIFIER = /^[A-Za-z0-9_-]{1,10}$/;
/** An IAM role ARN pattern whose role name (after any path) starts with at least one literal character. */
const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-][\w+=,.@*-]*$/;

/**
 * The serving-only CloudFormation service role of one environment (docs/adr/0006): the role its
 * `<env>-Serving` stack is updated with by a release. Assumed by CloudFormation, it can manage the
 * serving slots and nothing else: SageMaker models, endpoint configs and the named endpoints, their
 * autoscaling and alarms, reading the environment's pointers and CDK's bootstrap version, passing the
 * model roles to SageMaker, and using the data capture key. It has no IAM write beyond creating
 * Application Auto Scaling's SageMaker service-linked role, and no other service, so a template
 * passed with it, whatever it holds, can change serving and nothing else.
 *
 * The permissions follow the handler permissions of CloudFormation's registry schemas for the
 * resource types the serving stack holds (AWS::SageMaker::Model, EndpointConfig, Endpoint,
 * AWS::ApplicationAutoScaling::ScalableTarget, ScalingPolicy, AWS::CloudWatch::Alarm), and what
 * Application Auto Scaling checks that the caller may do on the endpoint and in CloudWatch before
 * it registers a variant.
 */
export class ServingDeployRole extends Construct implements iam.IGrantable {
  /** The role name that an environment's serving deploy role gets unless told otherwise. */
  public static roleNameFor(environmentName: string): string {
    return `mlops-${environmentName}-serving-deploy`;
  }

  public readonly role: iam.Role;
  public readonly grantPrincipal: iam.IPrincipal;
  /** The role's ARN, to pass as CloudFormation's RoleARN. */
  public readonly roleArn: string;
  public readonly roleName: string;

  constructor(scope: Construct, id: string, props: ServingDeployRoleProps) {
    super(scope, id);
    const qualifier = props.bootstrapQualifier ?? DEFAULT_BOOTSTRAP_QUALIFIER;
    validate(this, props, qualifier);
    const stack = Stack.of(this);
    const env = props.environmentName;
    this.roleName = props.roleName ?? ServingDeployRole.roleNameFor(env);

    this.role = new iam.Role(this, 'Role', {
      roleName: this.roleName,
      description: `Deploys the serving slots of ${env}, and nothing else (CloudFormation service role)`,
      assumedBy: new iam.ServicePrincipal('cloudformation.amazonaws.com'),
    });
    this.grantPrincipal = this.role;
    this.roleArn = this.role.roleArn;

    const sagemakerArn = (resource: string, name: string) =>
      stack.formatArn({ service: 'sagemaker', resource, resourceName: name });
    const named = endpointPatterns(props);
    const endpointPatternList = named.endpoints;
    // Besides the slots' own alarms, the target-tracking alarms Application Auto Scaling creates.
    const alarmPatterns = [
      ...named.alarms,
      ...(props.endpointNames
        ? props.endpointNames.map((n) => `TargetTracking-endpoint/${n}/*`)
        : [`TargetTracking-endpoint/${props.endpointNamePrefix}*`]),
    ];

    const generated = [
      new iam.PolicyStatement({
        sid: 'ManageServingModelsAndEndpointConfigs',
        actions: [
          'sagemaker:CreateModel',
          'sagemaker:DescribeModel',
          'sagemaker:DeleteModel',
          'sagemaker:CreateEndpointConfig',
          'sagemaker:DescribeEndpointConfig',
          'sagemaker:DeleteEndpointConfig',
          'sagemaker:AddTags',
          'sagemaker:DeleteTags',
          'sagemaker:ListTags',
        ],
        // CloudFormation generates these names (a property change replaces the resource), so they
        // cannot be named ahead; the role can reach only the ones its stacks create.
        resources: [sagemakerArn('model', '*'), sagemakerArn('endpoint-config', '*')],
      }),
    ];
    const endpoints = [
      new iam.PolicyStatement({
        sid: 'ManageServingEndpoints',
        actions: [
          'sagemaker:CreateEndpoint',
          'sagemaker:UpdateEndpoint',
          'sagemaker:DescribeEndpoint',
          'sagemaker:DeleteEndpoint',
          // Application Auto Scaling checks that the caller could scale the variant itself.
          'sagemaker:UpdateEndpointWeightsAndCapacities',
          'sagemaker:AddTags',
          'sagemaker:DeleteTags',
          'sagemaker:ListTags',
        ],
        resources: endpointPatternList.map((p) => sagemakerArn('endpoint', p)),
      }),
      new iam.PolicyStatement({
        sid: 'ManageServingAlarms',
        actions: [
          'cloudwatch:PutMetricAlarm',
          'cloudwatch:DescribeAlarms',
          'cloudwatch:DeleteAlarms',
          'cloudwatch:TagResource',
          'cloudwatch:UntagResource',
          'cloudwatch:ListTagsForResource',
        ],
        // The slots' own alarms, and the ones target tracking creates for their variants, which
        // Application Auto Scaling names `TargetTracking-<resource id>-AlarmHigh-<uuid>`.
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
    const unscoped = [
      new iam.PolicyStatement({
        sid: 'ScaleServingEndpoints',
        actions: [
          'application-autoscaling:RegisterScalableTarget',
          'application-autoscaling:DeregisterScalableTarget',
          'application-autoscaling:DescribeScalableTargets',
          'application-autoscaling:PutScalingPolicy',
          'application-autoscaling:DeleteScalingPolicy',
          'application-autoscaling:DescribeScalingPolicies',
          'application-autoscaling:DescribeScalingActivities',
          'application-autoscaling:DescribeScheduledActions',
          'application-autoscaling:TagResource',
          'application-autoscaling:UntagResource',
          'application-autoscaling:ListTagsForResource',
          // Target tracking policies read their metric when they are created or updated.
          'cloudwatch:GetMetricData',
        ],
        // Scalable targets are known by ids Application Auto Scaling assigns, not by the endpoint's
        // name, and GetMetricData has no resource-level permissions: neither can be narrowed.
        resources: ['*'],
      }),
    ];
    const statements = [
      ...generated,
      ...endpoints,
      ...unscoped,
      new iam.PolicyStatement({
        sid: 'CreateTheAutoScalingServiceLinkedRole',
        actions: ['iam:CreateServiceLinkedRole'],
        resources: [
          `arn:${stack.partition}:iam::${stack.account}:role/aws-service-role/${AUTOSCALING_SERVICE}/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint`,
        ],
        conditions: { StringEquals: { 'iam:AWSServiceName': AUTOSCALING_SERVICE } },
      }),
      new iam.PolicyStatement({
        sid: 'ReadThePointersAndBootstrapVersion',
        // CloudFormation resolves SSM-typed parameters with the stack's role.
        actions: ['ssm:GetParameters'],
        resources: [
          stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `mlops/${env}/serving/*` }),
          stack.formatArn({
            service: 'ssm',
            resource: 'parameter',
            resourceName: `cdk-bootstrap/${qualifier}/version`,
          }),
        ],
      }),
      new iam.PolicyStatement({
        sid: 'PassTheModelRolesToSageMaker',
        actions: ['iam:PassRole'],
        resources: props.modelRoles ? props.modelRoles.map((r) => r.roleArn) : [props.modelRoleArnPattern!],
        conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      }),
    ];
    if (props.dataCaptureKey) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'DescribeTheCaptureKey',
          // CreateEndpointConfig checks a DataCaptureConfig's key.
          actions: ['kms:DescribeKey'],
          resources: [props.dataCaptureKey.keyArn],
        }),
        new iam.PolicyStatement({
          sid: 'GrantTheCaptureKeyToSageMaker',
          // CreateEndpoint grants the endpoint the use of its config's key; only a grant that an AWS
          // service creates on the role's behalf is allowed, never one the role asks for itself.
          actions: ['kms:CreateGrant'],
          resources: [props.dataCaptureKey.keyArn],
          conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
        }),
      );
    }
    statements.forEach((s) => this.role.addToPolicy(s));

    acknowledgeWildcards(
      this.role,
      generated,
      'CloudFormation generates the names of SageMaker models and endpoint configs (any property change ' +
        "replaces them), so the role names them by type in its own account and region; it reaches only its stacks' resources.",
    );
    acknowledgeWildcards(
      this.role,
      endpoints,
      "The endpoints and their alarms are named by the environment's endpoint names or prefix; alarms end in " +
        'a suffix per alarm, target-tracking alarms in one Application Auto Scaling generates.',
    );
    acknowledgeWildcards(
      this.role,
      unscoped,
      'Application Auto Scaling names scalable targets by ids it assigns, not by endpoint, and cloudwatch:GetMetricData ' +
        'has no resource-level permissions.',
    );
    acknowledgeWildcards(
      this.role,
      statements.filter(
        (s) => s.sid === 'ReadThePointersAndBootstrapVersion' || s.sid === 'PassTheModelRolesToSageMaker',
      ),
      "Read-only on the environment's pointer parameters, one per model; the model roles by the given pattern, to SageMaker only.",
    );
  }
}

function validate(scope: Construct, props: ServingDeployRoleProps, qualifier: string): void {
  const problems = new ProblemCollector(`ServingDeployRole '${scope.node.path}'`);
  problems.checkPattern(
    'environmentName',
    props.environmentName ?? '',
    ENVIRONMENT_NAME,
    'use 1-20 lower-case letters, digits and hyphens, starting with a letter',
  );
  problems.checkPattern(
    'roleName',
    props.roleName,
    ROLE_NAME,
    "use 1-64 letters, digits and '+=,.@_-', e.g. 'mlops-staging-serving-deploy'",
  );
  checkEndpointNaming(problems, props, "the serving stack's");
  if ((props.modelRoles === undefined) === (props.modelRoleArnPattern === undefined)) {
    problems.add(
      'modelRoles',
      props.modelRoles?.map((r) => r.node.path),
      'give the model roles, or modelRoleArnPattern, not both: the role may pass only those to SageMaker',
    );
  }
  if (props.modelRoles !== undefined && props.modelRoles.length === 0) {
    problems.add('modelRoles', [], 'give at least one model role, or modelRoleArnPattern');
  }
  problems.checkPattern(
    'modelRoleArnPattern',
    props.modelRoleArnPattern,
    ROLE_ARN_PATTERN,
    "use a role ARN whose name starts with a literal part, e.g. 'arn:aws:iam::222222222222:role/mlops-staging-*': " +
      'a pattern matching any role would let the stack pass any role to SageMaker',
  );
  if (!QUALIFIER.test(qualifier)) {
    problems.add('bootstrapQualifier', qualifier, 'use the 1-10 character qualifier given to cdk bootstrap');
  }
  problems.throwIfAny();
}
