import { App, CfnCondition, CfnParameter, CfnResource, Fn, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ArtifactStore, Level2Tier, ReleasePointer, ServingMode, ServingSlot } from '../../lib';
import { alwaysOnResources, CostAssertions, MlopsAssertionError } from '../../lib/testing';

const PACKAGE = 'arn:aws:sagemaker:eu-west-1:111111111111:model-package/trips/3';

/** A real-time slot: its endpoint bills per hour, but exists only once a model is released. */
function servingStack(): { stack: Stack; pointer: ReleasePointer } {
  const app = new App();
  const pointer = new ReleasePointer(new Stack(app, 'Releases'), 'Pointer', { environmentName: 'team' });
  const stack = new Stack(app, 'Serving');
  new ServingSlot(stack, 'Slot', {
    pointer,
    artifactStore: ArtifactStore.fromBucketName(stack, 'Store', 'team-artifacts'),
    mode: ServingMode.realTime(),
  });
  return { stack, pointer };
}

describe('cost assertions', () => {
  test('alwaysOnResources lists the conditional real-time endpoint', () => {
    const { stack } = servingStack();
    expect(alwaysOnResources(stack)).toEqual([
      {
        type: 'AWS::SageMaker::Endpoint',
        path: 'Serving/Slot/Endpoint',
        reason: 'real-time endpoint instances bill per hour',
        conditional: true,
      },
    ]);
  });

  test('a slot with no model released bills nothing while idle', () => {
    const { stack } = servingStack();
    expect(CostAssertions.of(stack).idleBillableResources()).toEqual([]);
    expect(() => CostAssertions.of(stack).billsNothingWhileIdle()).not.toThrow();
  });

  test('once the pointer names a package, the endpoint bills: the assertion says which and why', () => {
    const { stack, pointer } = servingStack();
    const released = { ssmParameterValues: { [pointer.parameterName]: PACKAGE } };
    expect(
      CostAssertions.of(stack)
        .idleBillableResources(released)
        .map((r) => r.path),
    ).toEqual(['Serving/Slot/Endpoint']);
    expect(() => CostAssertions.of(stack).billsNothingWhileIdle(released)).toThrow(
      'Stack Serving bills while idle: Serving/Slot/Endpoint (AWS::SageMaker::Endpoint: real-time endpoint instances bill per hour)',
    );
  });

  test("a model's endpoint is named as that model's", () => {
    // GIVEN a Level2Tier model with a real-time slot, released
    const app = new App();
    const pointer = new ReleasePointer(new Stack(app, 'Releases'), 'Pointer', {
      environmentName: 'team',
      slotName: 'fares',
    });
    const stack = new Stack(app, 'Platform');
    new Level2Tier(stack, 'Level2', {
      artifactStore: ArtifactStore.fromBucketName(stack, 'Store', 'team-artifacts'),
      models: [
        { modelName: 'fares', releasePointer: pointer, servingOptions: { mode: ServingMode.realTime() } },
      ],
    });
    const released = { ssmParameterValues: { [pointer.parameterName]: PACKAGE } };
    // THEN the resource and the failure name the model
    expect(alwaysOnResources(stack)).toEqual([
      expect.objectContaining({ path: 'Platform/Level2/fares/Serving/Endpoint', model: 'fares' }),
    ]);
    expect(() => CostAssertions.of(stack).billsNothingWhileIdle(released)).toThrow(
      'Stack Platform bills while idle: Platform/Level2/fares/Serving/Endpoint (AWS::SageMaker::Endpoint, model fares: real-time endpoint instances bill per hour)',
    );
  });

  test('an unconditional NAT gateway fails the assertion', () => {
    const stack = new Stack(new App(), 'Network');
    new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 1 });
    expect(() => CostAssertions.of(stack).billsNothingWhileIdle()).toThrow(MlopsAssertionError);
    expect(() => CostAssertions.of(stack).billsNothingWhileIdle()).toThrow(
      /Network\/Vpc\/PublicSubnet1\/NATGateway \(AWS::EC2::NatGateway: NAT gateways bill per hour\)/,
    );
  });

  test('an SSM-typed parameter of unknown value is reported, not guessed', () => {
    // GIVEN a NAT gateway conditional on an SSM parameter the kit knows nothing about
    const stack = new Stack(new App(), 'Custom');
    const flag = new CfnParameter(stack, 'Flag', {
      type: 'AWS::SSM::Parameter::Value<String>',
      default: '/team/nat-enabled',
    });
    const enabled = new CfnCondition(stack, 'Enabled', {
      expression: Fn.conditionEquals(flag.valueAsString, 'yes'),
    });
    const nat = new CfnResource(stack, 'Nat', {
      type: 'AWS::EC2::NatGateway',
      properties: { SubnetId: 'subnet-1' },
    });
    nat.cfnOptions.condition = enabled;
    // THEN the assertion asks for the value instead of assuming one
    expect(() => CostAssertions.of(stack).billsNothingWhileIdle()).toThrow(
      'Cannot tell which resources of stack Custom a deployment creates: stack parameter Flag reads SSM parameter ' +
        '/team/nat-enabled, whose value is not known: give it (by SSM parameter name) (options ssmParameterValues / parameterValues)',
    );
    // AND with the value given, it decides
    expect(() =>
      CostAssertions.of(stack).billsNothingWhileIdle({ ssmParameterValues: { '/team/nat-enabled': 'no' } }),
    ).not.toThrow();
    expect(() =>
      CostAssertions.of(stack).billsNothingWhileIdle({ ssmParameterValues: { '/team/nat-enabled': 'yes' } }),
    ).toThrow(/Custom\/Nat \(AWS::EC2::NatGateway/);
  });
});
