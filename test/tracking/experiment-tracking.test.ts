import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { findAlwaysOnResources } from '../../lib/maturity';
import { MlopsValidationError } from '../../lib/private/errors';
import { ArtifactStore } from '../../lib/storage/artifact-store';
import {
  ExperimentTracking,
  ExperimentTrackingProps,
  TrackingBackend,
} from '../../lib/tracking/experiment-tracking';
import { formatFindings, nagFindings } from '../support/nag';

function trackingStack(props: Partial<ExperimentTrackingProps> = {}) {
  const app = new App();
  const stack = new Stack(app, 'Ml');
  const store = new ArtifactStore(stack, 'Store');
  const tracking = new ExperimentTracking(stack, 'Tracking', { artifactStore: store, ...props });
  return { app, stack, store, tracking };
}

describe('ExperimentTracking', () => {
  test('defaults to a serverless MLflow App with artifacts under experiments/, retained', () => {
    const { stack, tracking } = trackingStack();
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SageMaker::MlflowTrackingServer', 0);
    template.hasResource('AWS::SageMaker::MlflowApp', {
      Properties: {
        Name: Match.stringLikeRegexp('^Ml-Tracking-[A-F0-9]{8}$'),
        ArtifactStoreUri: {
          'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('^StoreBucket') }, '/experiments/']],
        },
        RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TrackingRole'), 'Arn'] },
        ModelRegistrationMode: 'AutoModelRegistrationDisabled',
      },
      DeletionPolicy: 'Retain',
      DependsOn: Match.arrayWith([Match.stringLikeRegexp('^TrackingRoleDefaultPolicy')]),
    });
    expect(stack.resolve(tracking.trackingArn)).toEqual({
      'Fn::GetAtt': [stack.getLogicalId(tracking.resource), 'Arn'],
    });
  });

  test("the role reaches only the store's experiments prefix", () => {
    const { stack } = trackingStack();
    const policy = JSON.stringify(Template.fromStack(stack).findResources('AWS::IAM::Policy'));
    expect(policy).toContain('/experiments/*');
    expect(policy).not.toMatch(/"Arn"\]\},"\/\*"/);
  });

  test('nothing bills per hour with the MLflow App; a tracking server is reported as always-on', () => {
    const app = trackingStack();
    expect(findAlwaysOnResources(app.stack)).toEqual([]);

    const server = trackingStack({
      backend: TrackingBackend.trackingServer('Medium'),
      automaticModelRegistration: true,
    });
    expect(findAlwaysOnResources(server.stack).map((r) => r.type)).toEqual([
      'AWS::SageMaker::MlflowTrackingServer',
    ]);
    Template.fromStack(server.stack).hasResourceProperties('AWS::SageMaker::MlflowTrackingServer', {
      TrackingServerSize: 'Medium',
      AutomaticModelRegistration: true,
    });
    expect(server.stack.resolve(server.tracking.trackingArn)).toEqual({
      'Fn::GetAtt': [server.stack.getLogicalId(server.tracking.resource), 'TrackingServerArn'],
    });
  });

  test('grantLogging gives sagemaker-mlflow actions on this tracking only', () => {
    const { stack, tracking } = trackingStack({ automaticModelRegistration: true });
    const role = new iam.Role(stack, 'Step', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
    });
    tracking.grantLogging(role);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Step') }],
      PolicyDocument: {
        Statement: [
          {
            Action: 'sagemaker-mlflow:*',
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [stack.getLogicalId(tracking.resource), 'Arn'] },
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::SageMaker::MlflowApp', {
      ModelRegistrationMode: 'AutoModelRegistrationEnabled',
    });
  });

  test('has zero unacknowledged cdk-nag findings, with a logging grant', () => {
    const { app, stack, tracking } = trackingStack();
    tracking.grantLogging(
      new iam.Role(stack, 'Step', { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') }),
    );
    expect(formatFindings(nagFindings(app))).toBe('');
  });

  test.each<[string, Partial<ExperimentTrackingProps>, RegExp]>([
    ['bad name', { name: 'my_tracking' }, /name 'my_tracking' is invalid: use letters, digits and hyphens/],
    ['snapshot', { removalPolicy: RemovalPolicy.SNAPSHOT }, /removalPolicy 'snapshot' is invalid/],
  ])('%s fails naming the prop, value and fix', (_name, props, message) => {
    expect(() => trackingStack(props)).toThrow(MlopsValidationError);
    expect(() => trackingStack(props)).toThrow(message);
  });
});
