import { App, Aspects, CfnResource, Stack, Stage } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { DeliveryPipeline, DeliverySource } from '../../lib/delivery/delivery-pipeline';
import { RedundantDependsOnLintAcknowledgement } from '../../lib/verification/redundant-depends-on';
import { MlopsValidationError } from '../../lib/private/errors';

function stageWithStack(app: App, name: string): Stage {
  const stage = new Stage(app, name);
  new s3.Bucket(new Stack(stage, 'S'), 'B');
  return stage;
}

describe('DeliveryPipeline validation', () => {
  const build =
    (source: (s: Stack) => DeliverySource, names = ['dev']) =>
    () => {
      const app = new App();
      const stages = names.map((n) => stageWithStack(app, n));
      const stack = new Stack(app, 'Delivery');
      new DeliveryPipeline(stack, 'P', {
        source: source(stack),
        environments: stages.map((stage) => ({ stage })),
      });
    };
  const arn =
    'arn:aws:codeconnections:eu-west-1:111122223333:connection/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab';

  test.each<[string, ReturnType<typeof build>, RegExp]>([
    [
      'a URL as repository',
      build(() => DeliverySource.connection('https://github.com/o/r', arn)),
      /source repository 'https:\/\/github\.com\/o\/r' is invalid: use "owner\/name"/,
    ],
    [
      'a wrong connection ARN',
      build(() => DeliverySource.connection('o/r', 'arn:aws:iam::111122223333:role/x')),
      /source connectionArn 'arn:aws:iam::111122223333:role\/x' is invalid: use the ARN of an AWS CodeConnections connection/,
    ],
    [
      'no environments',
      build((s) => DeliverySource.s3(new s3.Bucket(s, 'Src', { versioned: true })), []),
      /environments '\[\]' is invalid: name at least one environment stage/,
    ],
  ])('%s fails naming the prop, value and fix', (_name, fn, message) => {
    expect(fn).toThrow(MlopsValidationError);
    expect(fn).toThrow(message);
  });

  test('the legacy codestar-connections ARN form is accepted', () => {
    expect(
      build(() =>
        DeliverySource.connection(
          'o/r',
          'arn:aws:codestar-connections:eu-west-1:111122223333:connection/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab',
        ),
      ),
    ).not.toThrow();
  });
});

describe('RedundantDependsOnLintAcknowledgement', () => {
  test('acknowledges W3005 only where a DependsOn target is also referenced', () => {
    // GIVEN one resource that depends on and references a role, one that only depends on it
    // (skeleton resources: the subject is DependsOn, so CDK's own template validator is off here)
    const app = new App({ builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'S');
    const role = new CfnResource(stack, 'Role', {
      type: 'AWS::IAM::Role',
      properties: { AssumeRolePolicyDocument: {} },
    });
    const referencing = new CfnResource(stack, 'Fn', {
      type: 'AWS::Lambda::Function',
      properties: { Role: role.getAtt('Arn') },
    });
    referencing.addResourceDependency(role);
    const ordering = new CfnResource(stack, 'Other', { type: 'AWS::SNS::Topic' });
    ordering.addResourceDependency(role);
    // WHEN the aspect runs at synth
    Aspects.of(stack).add(new RedundantDependsOnLintAcknowledgement());
    const resources = app.synth().getStackByName('S').template.Resources;
    // THEN only the redundant one carries the cfn-lint acknowledgement
    expect(resources.Fn.Metadata).toEqual({ 'cfn-lint': { config: { ignore_checks: ['W3005'] } } });
    expect(resources.Other.Metadata).toBeUndefined();
    expect(resources.Other.DependsOn).toEqual(['Role']);
  });
});
