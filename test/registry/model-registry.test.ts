import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
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
});
