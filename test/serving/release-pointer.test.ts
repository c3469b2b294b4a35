import { App, CfnParameter, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ReleasePointer } from '../../lib/serving/release-pointer';
import { formatFindings, nagFindings } from '../support/nag';

function pointerStack(props: { removalPolicy?: RemovalPolicy; slotName?: string } = {}) {
  const app = new App();
  const stack = new Stack(app, 'Release');
  const pointer = new ReleasePointer(stack, 'Pointer', { environmentName: 'dev', ...props });
  return { app, stack, pointer };
}

describe('ReleasePointer', () => {
  test('an SSM String parameter that starts as none, named after the environment and slot', () => {
    const { stack, pointer } = pointerStack({ slotName: 'shadow' });
    expect(pointer.parameterName).toBe('/mlops/dev/serving/shadow/model-package-arn');
    Template.fromStack(stack).hasResource('AWS::SSM::Parameter', {
      Properties: {
        Name: '/mlops/dev/serving/shadow/model-package-arn',
        Type: 'String',
        Value: 'none',
        Description:
          'Model package ARN served by slot shadow of environment dev, or none. Written by the release command.',
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('app-wide tags never reach it, so no deployment updates it and overwrites a release', () => {
    const { app, stack } = pointerStack();
    Tags.of(app).add('team', 'ml-platform');
    const [parameter] = Object.values(Template.fromStack(stack).findResources('AWS::SSM::Parameter'));
    expect(Object.keys((parameter as { Properties: object }).Properties).sort()).toEqual([
      'Description',
      'Name',
      'Type',
      'Value',
    ]);
  });

  test('DESTROY deletes it with the stack', () => {
    const { stack } = pointerStack({ removalPolicy: RemovalPolicy.DESTROY });
    Template.fromStack(stack).hasResource('AWS::SSM::Parameter', { DeletionPolicy: 'Delete' });
  });

  test('grants name this parameter only', () => {
    const { stack, pointer } = pointerStack();
    const role = new iam.Role(stack, 'Releaser', { assumedBy: new iam.AccountRootPrincipal() });
    pointer.grantWrite(role);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: ['ssm:PutParameter', 'ssm:GetParameter'],
            Resource: {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':ssm:',
                  { Ref: 'AWS::Region' },
                  ':',
                  { Ref: 'AWS::AccountId' },
                  ':parameter/mlops/dev/serving/default/model-package-arn',
                ],
              ],
            },
          },
        ],
      },
    });
  });

  test('has no cdk-nag findings', () => {
    expect(formatFindings(nagFindings(pointerStack().app))).toBe('');
  });

  test.each([
    [{ environmentName: 'dev/x' }, /environmentName 'dev\/x' is invalid/],
    [{ environmentName: 'dev', slotName: '' }, /slotName '' is invalid/],
    [
      { environmentName: 'dev', removalPolicy: RemovalPolicy.SNAPSHOT },
      /removalPolicy 'snapshot' is invalid: use RemovalPolicy.RETAIN or RemovalPolicy.DESTROY/,
    ],
  ])('invalid props fail at synth: %p', (props, message) => {
    expect(() => new ReleasePointer(new Stack(new App(), 'S'), 'P', props)).toThrow(message);
  });
});

describe('ReleasePointer.fromParameterName', () => {
  const arnOf = (stack: Stack, grant: (role: iam.IGrantable) => void) => {
    const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    grant(role);
    const [policy] = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')) as Array<{
      Properties: { PolicyDocument: { Statement: Array<{ Resource: unknown }> } };
    }>;
    return policy.Properties.PolicyDocument.Statement[0].Resource;
  };

  test('names the parameter of this account and region, without doubling the leading slash', () => {
    // GIVEN a pointer created by another app
    const stack = new Stack(new App(), 'Consumer');
    const pointer = ReleasePointer.fromParameterName(
      stack,
      'Pointer',
      '/mlops/qa/serving/default/model-package-arn',
    );
    // THEN its name is as given and grants name its ARN
    expect(pointer.parameterName).toBe('/mlops/qa/serving/default/model-package-arn');
    expect(arnOf(stack, (role) => pointer.grantRead(role))).toEqual({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':ssm:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':parameter/mlops/qa/serving/default/model-package-arn',
        ],
      ],
    });
  });

  test('a token name is taken as it is, after ":parameter"', () => {
    // GIVEN a name that is only known at deploy time
    const stack = new Stack(new App(), 'Consumer');
    const name = new CfnParameter(stack, 'PointerName').valueAsString;
    const pointer = ReleasePointer.fromParameterName(stack, 'Pointer', name);
    // THEN the ARN joins the name to ':parameter' unchanged (it starts with '/')
    const arn = arnOf(stack, (role) => pointer.grantWrite(role)) as { 'Fn::Join': [string, unknown[]] };
    expect(arn['Fn::Join'][1].slice(-2)).toEqual([':parameter', { Ref: 'PointerName' }]);
  });

  test.each([
    ['mlops/dev/serving', /parameterName 'mlops\/dev\/serving' is invalid: use an SSM parameter name/],
    ['/mlops//dev', /parameterName '\/mlops\/\/dev' is invalid/],
    ['/aws/service/x', /parameterName '\/aws\/service\/x' is invalid/],
    ['/mlops/dev name', /parameterName '\/mlops\/dev name' is invalid/],
  ])('rejects the malformed name %p, naming the fix', (name, message) => {
    expect(() => ReleasePointer.fromParameterName(new Stack(), 'P', name)).toThrow(message);
  });

  test('accepts a plain name without hierarchy', () => {
    const stack = new Stack(new App(), 'Consumer');
    const pointer = ReleasePointer.fromParameterName(stack, 'Pointer', 'taxi-pointer');
    expect(JSON.stringify(arnOf(stack, (role) => pointer.grantRead(role)))).toContain(
      ':parameter/taxi-pointer"',
    );
  });
});
