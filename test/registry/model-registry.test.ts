import { App, CfnParameter, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { MlopsValidationError } from '../../lib/private/errors';
import { ModelRegistry, ModelRegistryProps } from '../../lib/registry/model-registry';
import { formatFindings, nagFindings } from '../support/nag';

function registryStack(props?: ModelRegistryProps) {
  const app = new App();
  const stack = new Stack(app, 'Ml', { env: { account: '111122223333', region: 'eu-west-1' } });
  const registry = new ModelRegistry(stack, 'Registry', props);
  return { app, stack, registry };
}

type Statement = { Action: string | string[]; Resource: unknown };
const statementsOf = (template: Template) =>
  Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
        .Statement,
  );

describe('ModelRegistry', () => {
  test('defaults: a retained group with a stable, lower-case generated name', () => {
    const { stack, registry } = registryStack();
    const template = Template.fromStack(stack);
    template.hasResource('AWS::SageMaker::ModelPackageGroup', {
      Properties: { ModelPackageGroupName: Match.stringLikeRegexp('^ml-registry-[a-f0-9]{8}$') },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    expect(registry.modelPackageGroupName).toMatch(/^ml-registry-[a-f0-9]{8}$/);
    // Same path, same name: the group is not replaced between synths.
    expect(registryStack().registry.modelPackageGroupName).toBe(registry.modelPackageGroupName);
  });

  test('grants: read, register and approve on the group and its versions only', () => {
    const { stack, registry } = registryStack({ modelPackageGroupName: 'taxi-duration' });
    const role = (id: string) =>
      new iam.Role(stack, id, { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') });
    registry.grantRead(role('Reader'));
    registry.grantRegister(role('Pipeline'));
    registry.grantApprove(role('Gate'));
    const statements = statementsOf(Template.fromStack(stack));
    const actions = (s: Statement) => ([] as string[]).concat(s.Action);
    const resources = JSON.stringify(statements.map((s) => s.Resource));
    expect(statements.map(actions)).toEqual(
      expect.arrayContaining([
        [
          'sagemaker:DescribeModelPackageGroup',
          'sagemaker:DescribeModelPackage',
          'sagemaker:ListModelPackages',
        ],
        ['sagemaker:CreateModelPackage', 'sagemaker:DescribeModelPackageGroup'],
        ['sagemaker:UpdateModelPackage', 'sagemaker:DescribeModelPackage'],
      ]),
    );
    expect(resources).toContain(':model-package/taxi-duration/*');
    expect(resources).not.toContain('"*"');
  });

  test('onApproved matches Approved packages of this group with PascalCase detail fields', () => {
    const { stack, registry } = registryStack({ modelPackageGroupName: 'taxi-duration' });
    registry.onApproved('Release');
    registry.onStateChange('Audit');
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.sagemaker'],
        'detail-type': ['SageMaker Model Package State Change'],
        detail: { ModelPackageGroupName: ['taxi-duration'], ModelApprovalStatus: ['Approved'] },
      },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ detail: { ModelPackageGroupName: ['taxi-duration'] } }),
    });
  });

  test('cross-account read policy for other environments', () => {
    const { stack } = registryStack({
      modelPackageGroupName: 'taxi-duration',
      crossAccountReadAccounts: ['444455556666'],
    });
    const policy = JSON.stringify(
      Template.fromStack(stack).findResources('AWS::SageMaker::ModelPackageGroup'),
    );
    expect(policy).toContain(':iam::444455556666:root');
    expect(policy).toContain('sagemaker:ListModelPackages');
    expect(policy).toContain('model-package/taxi-duration/*');
  });

  test('DESTROY deletes the group', () => {
    Template.fromStack(registryStack({ removalPolicy: RemovalPolicy.DESTROY }).stack).hasResource(
      'AWS::SageMaker::ModelPackageGroup',
      { DeletionPolicy: 'Delete' },
    );
  });

  test('imported by name, grants use its ARNs', () => {
    const stack = new Stack(new App(), 'S', { env: { account: '111122223333', region: 'eu-west-1' } });
    const registry = ModelRegistry.fromModelPackageGroupName(stack, 'R', 'shared-group');
    expect(JSON.stringify(stack.resolve(registry.modelPackageGroupArn))).toContain(
      ':sagemaker:eu-west-1:111122223333:model-package-group/shared-group',
    );
    registry.grantRead(new iam.Role(stack, 'Role', { assumedBy: new iam.AccountRootPrincipal() }));
    expect(JSON.stringify(statementsOf(Template.fromStack(stack)))).toContain('model-package/shared-group/*');
  });

  test.each<[string, ModelRegistryProps, RegExp]>([
    [
      'bad name',
      { modelPackageGroupName: 'taxi_duration' },
      /modelPackageGroupName 'taxi_duration' is invalid: use 1-63 letters, digits and hyphens/,
    ],
    [
      'bad account',
      { crossAccountReadAccounts: ['4444'] },
      /crossAccountReadAccounts '4444' is invalid: use 12-digit AWS account ids/,
    ],
    ['snapshot', { removalPolicy: RemovalPolicy.SNAPSHOT }, /removalPolicy 'snapshot' is invalid/],
  ])('%s fails naming the prop, value and fix', (_name, props, message) => {
    expect(() => registryStack(props)).toThrow(MlopsValidationError);
    expect(() => registryStack(props)).toThrow(message);
  });

  test('has zero unacknowledged cdk-nag findings', () => {
    expect(
      formatFindings(nagFindings(registryStack({ crossAccountReadAccounts: ['444455556666'] }).app)),
    ).toBe('');
  });

  test('a mixed-case name is lower-cased in every ARN, and kept as created in event patterns', () => {
    // GIVEN a group created, and one imported, with capitals in its name
    const { stack, registry } = registryStack({ modelPackageGroupName: 'Taxi-Duration' });
    const imported = ModelRegistry.fromModelPackageGroupName(stack, 'Imported', 'Shared-Group');
    // WHEN
    for (const r of [registry, imported]) {
      r.grantRead(new iam.Role(stack, `Reader${r.node.id}`, { assumedBy: new iam.AccountRootPrincipal() }));
      r.onApproved(`Release${r.node.id}`);
    }
    // THEN ARNs name the packages the way SageMaker writes them
    const template = Template.fromStack(stack);
    const resources = JSON.stringify(statementsOf(template).map((st) => st.Resource));
    expect(resources).toContain(':model-package/taxi-duration/*');
    expect(resources).toContain(':model-package-group/shared-group"');
    expect(resources).toContain(':model-package/shared-group/*');
    expect(resources).not.toMatch(/Taxi-Duration|Shared-Group/);
    // AND the group and the events keep the name as created
    template.hasResourceProperties('AWS::SageMaker::ModelPackageGroup', {
      ModelPackageGroupName: 'Taxi-Duration',
    });
    for (const name of ['Taxi-Duration', 'Shared-Group']) {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: Match.objectLike({ detail: Match.objectLike({ ModelPackageGroupName: [name] }) }),
      });
    }
  });

  test("a group of another account, imported by ARN: grants name that account's packages", () => {
    // GIVEN a shared registry in account 444455556666, us-east-1
    const arn = 'arn:aws:sagemaker:us-east-1:444455556666:model-package-group/shared-group';
    const { stack } = registryStack();
    const shared = ModelRegistry.fromModelPackageGroupArn(stack, 'Shared', arn);
    // WHEN
    shared.grantRead(new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() }));
    shared.onApproved('Release');
    // THEN
    expect(shared.modelPackageGroupName).toBe('shared-group');
    expect(shared.modelPackageGroupArn).toBe(arn);
    expect(shared.env).toEqual({ account: '444455556666', region: 'us-east-1' });
    const template = Template.fromStack(stack);
    const resources = JSON.stringify(stack.resolve(statementsOf(template).map((st) => st.Resource)));
    expect(resources).toContain(`"${arn}"`);
    expect(resources).toContain(':sagemaker:us-east-1:444455556666:model-package/shared-group/*');
    expect(resources).not.toContain('111122223333');
    // AND the rule matches the name in the case it was created with, which the ARN does not keep
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        detail: {
          ModelPackageGroupName: [{ 'equals-ignore-case': 'shared-group' }],
          ModelApprovalStatus: ['Approved'],
        },
      }),
    });
  });

  test('a token ARN, e.g. a stack parameter, is split at deploy time', () => {
    // GIVEN
    const { stack } = registryStack();
    const arn = new CfnParameter(stack, 'RegistryArn').valueAsString;
    const shared = ModelRegistry.fromModelPackageGroupArn(stack, 'Shared', arn);
    // WHEN
    shared.grantRegister(new iam.Role(stack, 'Pipeline', { assumedBy: new iam.AccountRootPrincipal() }));
    // THEN the group ARN is the parameter, the packages' ARN is built from its parts
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Resource: Match.arrayWith([
              { Ref: 'RegistryArn' },
              Match.objectLike({ 'Fn::Join': Match.anyValue() }),
            ]),
          }),
        ],
      },
    });
  });

  test.each([
    ['a name', 'shared-group'],
    ['a model package ARN', 'arn:aws:sagemaker:us-east-1:444455556666:model-package/shared-group/1'],
    ['an ARN without an account', 'arn:aws:sagemaker:us-east-1::model-package-group/shared-group'],
    ['an invalid group name', 'arn:aws:sagemaker:us-east-1:444455556666:model-package-group/shared_group'],
  ])('importing %s as a group ARN fails naming the value and the expected shape', (_name, arn) => {
    // GIVEN
    const { stack } = registryStack();
    // WHEN / THEN
    const importIt = () => ModelRegistry.fromModelPackageGroupArn(stack, 'Shared', arn);
    expect(importIt).toThrow(MlopsValidationError);
    expect(importIt).toThrow(
      `ModelRegistry 'Ml/Shared': modelPackageGroupArn '${arn}' is invalid: use the ARN of a model package group, ` +
        'e.g. arn:aws:sagemaker:eu-west-1:123456789012:model-package-group/taxi-duration',
    );
  });
});
