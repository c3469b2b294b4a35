import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { MlopsValidationError } from '../../lib/private/errors';
import { ModelRegistry } from '../../lib/registry/model-registry';
import { ReleaseRole, ReleaseRoleProps } from '../../lib/release/release-role';
import { ReleaseWorkflow } from '../../lib/release/release-workflow';
import { ServingDeployRole, ServingDeployRoleProps } from '../../lib/release/serving-deploy-role';
import { ReleasePointer } from '../../lib/serving/release-pointer';
import { RedundantDependsOnLintAcknowledgement } from '../../lib/verification/redundant-depends-on';
import { cfnLint, formatCfnLint } from '../support/cfn-lint';
import { formatFindings, nagFindings } from '../support/nag';
import { CLI_CONTEXT, cdkJsonContext } from '../support/synthesized-app';

const ORCHESTRATOR = { account: '111111111111', region: 'eu-west-1' };
const TARGET = { account: '222222222222', region: 'eu-west-1' };
const GROUP_ARN = 'arn:aws:sagemaker:eu-west-1:111111111111:model-package-group/trips-fare';

type Json = Record<string, unknown>;

/** An app with the repository's feature flags, as `cdk synth` builds it; bundling skipped. */
const appLikeCdkSynth = () => {
  const app = new App({ context: { ...cdkJsonContext(), ...CLI_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  // As the platform app does: aws-cdk-lib's own DependsOn that a GetAtt already implies (W3005).
  Aspects.of(app).add(new RedundantDependsOnLintAcknowledgement());
  return app;
};
interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Json;
}

const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);
const actionsOf = (s: Statement) => list(s.Action);
const resourcesOf = (s: Statement) => list(s.Resource);

/** Every statement of the policies attached to the role whose logical id starts with `rolePrefix`. */
function statementsOf(template: Template, rolePrefix: string): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref.startsWith(rolePrefix)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

function roleOf(template: Template, rolePrefix: string): Json {
  const [role] = Object.entries(template.findResources('AWS::IAM::Role'))
    .filter(([id]) => id.startsWith(rolePrefix))
    .map(([, r]) => r.Properties as Json);
  return role;
}

/** The environment's account: its serving deploy role and release role, as the lead's app will build them. */
function targetEnvironment(
  serving: Partial<ServingDeployRoleProps> = {},
  release: Partial<ReleaseRoleProps> = {},
) {
  const app = appLikeCdkSynth();
  const stack = new Stack(app, 'prod-Platform', { env: TARGET });
  const modelRole = new iam.Role(stack, 'FareModelRole', {
    assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
  });
  const servingDeploy = new ServingDeployRole(stack, 'ServingDeploy', {
    environmentName: 'prod',
    endpointNamePrefix: 'mlops-prod-',
    modelRoles: [modelRole],
    ...serving,
  });
  const releaseRole = new ReleaseRole(stack, 'Release', {
    environmentName: 'prod',
    sourceAccount: ORCHESTRATOR.account,
    sourceEnvironmentName: 'dev',
    servingDeployRole: servingDeploy.role,
    modelRegistries: [ModelRegistry.fromModelPackageGroupArn(stack, 'FareRegistry', GROUP_ARN)],
    endpointNamePrefix: 'mlops-prod-',
    ...release,
  });
  return { app, stack, modelRole, servingDeploy, releaseRole, template: Template.fromStack(stack) };
}

describe('ReleaseRole', () => {
  const env = targetEnvironment();
  const statements = statementsOf(env.template, 'ReleaseRole');
  const servingRoleArn = env.stack.resolve(env.servingDeploy.roleArn);

  test('a literal name, trusted only by the orchestrator roles of the source environment, through the account', () => {
    const role = roleOf(env.template, 'ReleaseRole');
    expect(role.RoleName).toBe('mlops-prod-release');
    expect(role.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::111111111111:root' },
          Condition: {
            StringLike: {
              'aws:PrincipalArn': 'arn:aws:iam::111111111111:role/mlops-release-orchestrator/dev/*',
            },
          },
        },
      ],
    });
  });

  test('it may pass no role but the serving deploy role, and that one to CloudFormation only', () => {
    const passes = statements.filter((s) => actionsOf(s).some((a) => /^iam:(PassRole|\*)|^\*$/.test(a)));
    expect(passes).toEqual([
      expect.objectContaining({
        Action: 'iam:PassRole',
        Resource: servingRoleArn,
        Condition: { StringEquals: { 'iam:PassedToService': 'cloudformation.amazonaws.com' } },
      }),
    ]);
  });

  test('it may update no stack but the serving stack, and that one only through the serving deploy role', () => {
    const onStacks = statements.filter((s) => actionsOf(s).some((a) => /^cloudformation:|^\*$/.test(a)));
    expect(onStacks.length).toBeGreaterThan(0);
    for (const s of onStacks) {
      expect(resourcesOf(s)).toEqual(['arn:aws:cloudformation:eu-west-1:222222222222:stack/prod-Serving/*']);
    }
    const updates = onStacks.filter((s) => actionsOf(s).includes('cloudformation:UpdateStack'));
    expect(updates).toEqual([
      expect.objectContaining({
        Action: 'cloudformation:UpdateStack',
        Condition: { StringEquals: { 'cloudformation:RoleArn': servingRoleArn } },
      }),
    ]);
    // Besides the update, it reads the stack and may cancel its update (which rolls back with the update's role).
    expect(onStacks.flatMap(actionsOf).sort()).toEqual([
      'cloudformation:CancelUpdateStack',
      'cloudformation:DescribeStackEvents',
      'cloudformation:DescribeStacks',
      'cloudformation:UpdateStack',
    ]);
  });

  test("it may write no parameter but the environment's pointers and variant weights", () => {
    const writes = statements.filter((s) =>
      actionsOf(s).some((a) => /^ssm:(Put|Delete|Label|\*)|^\*$/.test(a)),
    );
    expect(writes).toHaveLength(1);
    // IAM's `*` matches across `/`: the first covers the variants' pointers too.
    expect(resourcesOf(writes[0])).toEqual([
      'arn:aws:ssm:eu-west-1:222222222222:parameter/mlops/prod/serving/*/model-package-arn',
      'arn:aws:ssm:eu-west-1:222222222222:parameter/mlops/prod/serving/*/variants/*/weight',
    ]);
  });

  test('nothing else: reading the source packages, the endpoints and their alarms, no wildcard action', () => {
    expect(statements.flatMap(actionsOf).sort()).toEqual([
      'cloudformation:CancelUpdateStack',
      'cloudformation:DescribeStackEvents',
      'cloudformation:DescribeStacks',
      'cloudformation:UpdateStack',
      'cloudwatch:DescribeAlarms',
      'iam:PassRole',
      'sagemaker:DescribeEndpoint',
      'sagemaker:DescribeModelPackage',
      'sagemaker:InvokeEndpoint',
      'ssm:GetParameter',
      'ssm:PutParameter',
    ]);
    const packages = statements.find((s) => actionsOf(s).includes('sagemaker:DescribeModelPackage'))!;
    expect(packages.Resource).toBe('arn:aws:sagemaker:eu-west-1:111111111111:model-package/trips-fare/*');
    expect(JSON.stringify(statements)).not.toMatch(/"Resource":"\*"/);
  });

  test('no cdk-nag findings', () => {
    expect(formatFindings(nagFindings(env.app))).toBe('');
  });

  test.each<[string, Partial<ReleaseRoleProps>, RegExp]>([
    [
      'a bad source account',
      { sourceAccount: '1111' },
      /sourceAccount '1111' is invalid: use the 12-digit account/,
    ],
    [
      'endpoint names and a prefix',
      { endpointNames: ['mlops-prod-fare-amount'] },
      /endpointNames '\["mlops-prod-fare-amount"\]' is invalid: give the environment's endpoint names, or endpointNamePrefix/,
    ],
    ['no registry', { modelRegistries: [] }, /modelRegistries '\[\]' is invalid: give the registries/],
    [
      'a wildcard prefix',
      { endpointNamePrefix: 'mlops-*' },
      /endpointNamePrefix 'mlops-\*' is invalid: .*no wildcard/,
    ],
  ])('%s fails naming the prop', (_case, props, message) => {
    expect(() => targetEnvironment({}, props)).toThrow(MlopsValidationError);
    expect(() => targetEnvironment({}, props)).toThrow(message);
  });
});

describe('ServingDeployRole', () => {
  const key = (stack: Stack) => new kms.Key(stack, 'CaptureKey', { enableKeyRotation: true });
  const app = appLikeCdkSynth();
  const stack = new Stack(app, 'prod-Platform', { env: TARGET });
  const modelRole = new iam.Role(stack, 'FareModelRole', {
    assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
  });
  const captureKey = key(stack);
  new ServingDeployRole(stack, 'ServingDeploy', {
    environmentName: 'prod',
    endpointNames: ['mlops-prod-fare-amount', 'mlops-prod-trip-duration'],
    modelRoles: [modelRole],
    dataCaptureKey: captureKey,
  });
  const template = Template.fromStack(stack);
  const statements = statementsOf(template, 'ServingDeployRole');
  const modelRoleArn = stack.resolve(modelRole.roleArn);

  test('a literal name, assumed by CloudFormation alone', () => {
    const role = roleOf(template, 'ServingDeployRole');
    expect(role.RoleName).toBe('mlops-prod-serving-deploy');
    expect(role.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'cloudformation.amazonaws.com' } },
      ],
    });
  });

  test('it may pass only the model role, to SageMaker only', () => {
    const passes = statements.filter((s) => actionsOf(s).some((a) => /^iam:(PassRole|\*)|^\*$/.test(a)));
    expect(passes).toEqual([
      expect.objectContaining({
        Action: 'iam:PassRole',
        Resource: modelRoleArn,
        Condition: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      }),
    ]);
  });

  test('no IAM write but the Application Auto Scaling service-linked role of SageMaker endpoints', () => {
    const iamActions = statements.flatMap(actionsOf).filter((a) => a.startsWith('iam:') || a === '*');
    expect(iamActions.sort()).toEqual(['iam:CreateServiceLinkedRole', 'iam:PassRole']);
    const slr = statements.find((s) => actionsOf(s).includes('iam:CreateServiceLinkedRole'))!;
    expect(slr.Condition).toEqual({
      StringEquals: { 'iam:AWSServiceName': 'sagemaker.application-autoscaling.amazonaws.com' },
    });
    expect(JSON.stringify(slr.Resource)).toContain(
      ':iam::222222222222:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint',
    );
  });

  test('no service but SageMaker, Application Auto Scaling, CloudWatch, SSM reads, the two IAM actions and the key', () => {
    const services = new Set(statements.flatMap(actionsOf).map((a) => a.split(':')[0]));
    expect([...services].sort()).toEqual([
      'application-autoscaling',
      'cloudwatch',
      'iam',
      'kms',
      'sagemaker',
      'ssm',
    ]);
    expect(statements.flatMap(actionsOf).filter((a) => a.includes('*'))).toEqual([]);
    const ssm = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('ssm:')));
    expect(ssm.flatMap(actionsOf)).toEqual(['ssm:GetParameters']);
    expect(ssm.flatMap(resourcesOf).sort()).toEqual([
      'arn:aws:ssm:eu-west-1:222222222222:parameter/cdk-bootstrap/hnb659fds/version',
      'arn:aws:ssm:eu-west-1:222222222222:parameter/mlops/prod/serving/*',
    ]);
  });

  test('endpoints by name, and their alarms by the endpoint names, including target tracking ones', () => {
    const endpoints = statements.find((s) => actionsOf(s).includes('sagemaker:CreateEndpoint'))!;
    expect(endpoints.Resource).toEqual([
      'arn:aws:sagemaker:eu-west-1:222222222222:endpoint/mlops-prod-fare-amount',
      'arn:aws:sagemaker:eu-west-1:222222222222:endpoint/mlops-prod-trip-duration',
    ]);
    const alarms = statements.find((s) => actionsOf(s).includes('cloudwatch:PutMetricAlarm'))!;
    const alarmArns = JSON.stringify(alarms.Resource);
    for (const name of [
      'alarm:mlops-prod-fare-amount-*',
      'alarm:TargetTracking-endpoint/mlops-prod-fare-amount/*',
      'alarm:mlops-prod-trip-duration-*',
    ]) {
      expect(alarmArns).toContain(name);
    }
  });

  test("the capture key: described, and granted only to an AWS resource (the endpoint) on the role's behalf", () => {
    const keyArn = stack.resolve(captureKey.keyArn);
    const uses = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
    expect(uses).toEqual([
      expect.objectContaining({ Action: 'kms:DescribeKey', Resource: keyArn }),
      expect.objectContaining({
        Action: 'kms:CreateGrant',
        Resource: keyArn,
        Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      }),
    ]);
  });

  test('no cdk-nag findings', () => {
    expect(formatFindings(nagFindings(app))).toBe('');
  });

  test('model roles by ARN pattern: passed by the pattern, to SageMaker only', () => {
    const { template: byPattern } = targetEnvironment({
      modelRoles: undefined,
      modelRoleArnPattern: 'arn:aws:iam::222222222222:role/mlops-prod-*',
    });
    const passes = statementsOf(byPattern, 'ServingDeployRole').filter((s) =>
      actionsOf(s).includes('iam:PassRole'),
    );
    expect(passes).toEqual([
      expect.objectContaining({
        Resource: 'arn:aws:iam::222222222222:role/mlops-prod-*',
        Condition: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      }),
    ]);
  });

  test.each<[string, Partial<ServingDeployRoleProps>, RegExp]>([
    [
      'a model role pattern matching any role',
      { modelRoles: undefined, modelRoleArnPattern: 'arn:aws:iam::222222222222:role/*' },
      /modelRoleArnPattern 'arn:aws:iam::222222222222:role\/\*' is invalid: .*would let the stack pass any role/,
    ],
    [
      'both model roles and a pattern',
      { modelRoleArnPattern: 'arn:aws:iam::222222222222:role/mlops-prod-*' },
      /modelRoles .* is invalid: give the model roles, or modelRoleArnPattern, not both/,
    ],
    [
      'neither endpoint names nor a prefix',
      { endpointNamePrefix: undefined },
      /endpointNames \(undefined\) is invalid: give the serving stack's endpoint names, or endpointNamePrefix/,
    ],
    ['a bad qualifier', { bootstrapQualifier: 'no/slash' }, /bootstrapQualifier 'no\/slash' is invalid/],
  ])('%s fails naming the prop', (_case, props, message) => {
    expect(() => targetEnvironment(props)).toThrow(MlopsValidationError);
    expect(() => targetEnvironment(props)).toThrow(message);
  });
});

describe('a release workflow in account 111111111111 releasing to prod in 222222222222', () => {
  // GIVEN the orchestrator's stack, and prod's roles in prod's account, in one app
  const app = appLikeCdkSynth();
  const target = new Stack(app, 'prod-Platform', { env: TARGET });
  const modelRole = new iam.Role(target, 'FareModelRole', {
    assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
  });
  const servingDeploy = new ServingDeployRole(target, 'ServingDeploy', {
    environmentName: 'prod',
    endpointNamePrefix: 'mlops-prod-',
    modelRoles: [modelRole],
  });
  new ReleaseRole(target, 'Release', {
    environmentName: 'prod',
    sourceAccount: ORCHESTRATOR.account,
    sourceEnvironmentName: 'dev',
    servingDeployRole: servingDeploy.role,
    modelRegistries: [ModelRegistry.fromModelPackageGroupArn(target, 'FareRegistry', GROUP_ARN)],
    endpointNamePrefix: 'mlops-prod-',
  });
  const orchestrator = new Stack(app, 'dev-Automation', { env: ORCHESTRATOR });
  const PROD_RELEASE = 'arn:aws:iam::222222222222:role/mlops-prod-release';
  const PROD_SERVING = 'arn:aws:iam::222222222222:role/mlops-prod-serving-deploy';
  new ReleaseWorkflow(orchestrator, 'FareRelease', {
    modelName: 'fare-amount',
    sourceEnvironmentName: 'dev',
    modelRegistry: ModelRegistry.fromModelPackageGroupArn(orchestrator, 'Registry', GROUP_ARN),
    targets: [
      {
        environmentName: 'prod',
        stackName: 'prod-Serving',
        account: TARGET.account,
        pointer: ReleasePointer.fromParameterName(
          orchestrator,
          'ProdPointer',
          '/mlops/prod/serving/fare-amount/model-package-arn',
        ),
        cloudFormationRoleArn: PROD_SERVING,
        releaseRole: iam.Role.fromRoleArn(orchestrator, 'ProdReleaseRole', PROD_RELEASE),
        healthCheck: {
          endpointName: 'mlops-prod-fare-amount',
          alarmNames: ['mlops-prod-fare-amount-rollback-errors'],
          smokeTest: { contentType: 'text/csv', body: '3.1,14,2' },
        },
      },
    ],
  });
  const workflow = Template.fromStack(orchestrator);
  const prod = Template.fromStack(target);

  test("the step and health roles lie under the source environment's orchestrator path", () => {
    for (const prefix of ['FareReleaseStepRole', 'FareReleaseHealthRole']) {
      expect(roleOf(workflow, prefix).Path).toBe('/mlops-release-orchestrator/dev/');
    }
  });

  test('which is what prod trusts: its release role synthesizes with the trust condition', () => {
    prod.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'mlops-prod-release',
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Condition: {
              StringLike: {
                'aws:PrincipalArn': 'arn:aws:iam::111111111111:role/mlops-release-orchestrator/dev/*',
              },
            },
          }),
        ],
      },
    });
  });

  test("the workflow's roles hold nothing in prod: only sts:AssumeRole on prod's release role, and their logs", () => {
    for (const prefix of ['FareReleaseStepRole', 'FareReleaseHealthRole']) {
      const actions = statementsOf(workflow, prefix).flatMap(actionsOf);
      expect(actions.filter((a) => !a.startsWith('logs:'))).toEqual(['sts:AssumeRole']);
      const assume = statementsOf(workflow, prefix).find((s) => actionsOf(s).includes('sts:AssumeRole'))!;
      expect(assume.Resource).toBe(PROD_RELEASE);
    }
  });

  test('the role ARN travels in the definition, with the serving role the stack is updated through', () => {
    const [machine] = Object.values(workflow.findResources('AWS::StepFunctions::StateMachine'));
    // The definition's only intrinsics are function and partition references, none in a payload.
    const [, parts] = machine.Properties.DefinitionString['Fn::Join'] as [string, unknown[]];
    const definition = JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'TOKEN')).join(''));
    const payload = (state: string) => definition.States[state].Parameters.Payload;
    for (const state of ['StartProd', 'CheckProd', 'HealthProd', 'RestoreProd', 'CheckRestoreProd']) {
      expect({ state, releaseRoleArn: payload(state).releaseRoleArn }).toEqual({
        state,
        releaseRoleArn: PROD_RELEASE,
      });
    }
    for (const state of ['StartProd', 'RestoreProd']) {
      expect({ state, role: payload(state).target.cloudFormationRoleArn }).toEqual({
        state,
        role: PROD_SERVING,
      });
    }
  });

  test('the functions name the model in their role sessions', () => {
    workflow.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          MODEL_NAME: 'fare-amount',
          POWERTOOLS_SERVICE_NAME: 'release-fare-amount',
        }),
      },
    });
  });

  test('no cdk-nag findings in either account', () => {
    expect(formatFindings(nagFindings(app))).toBe('');
  });

  test("cfn-lint, with AWS's resource schemas, finds nothing in either template", () => {
    const assembly = app.synth();
    const files = ['prod-Platform', 'dev-Automation'].map(
      (name) => assembly.getStackByName(name).templateFullPath,
    );
    const { matches, stderr } = cfnLint(['--', ...files]);
    expect(stderr).toBe('');
    expect(formatCfnLint(matches)).toEqual([]);
  });

  test('no warning: the target in another account has its release role', () => {
    Annotations.fromStack(orchestrator).hasNoWarning(
      '*',
      Match.stringLikeRegexp('releaseWithoutReleaseRole'),
    );
  });
});
