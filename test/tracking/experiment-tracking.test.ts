import { App, CfnParameter, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { findAlwaysOnResources } from '../../lib/maturity';
import { MlopsValidationError } from '../../lib/private/errors';
import { ArtifactStore } from '../../lib/storage/artifact-store';
import {
  ExperimentTracking,
  ExperimentTrackingProps,
  IExperimentTracking,
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

describe('ExperimentTracking importers', () => {
  const APP_ARN = 'arn:aws:sagemaker:eu-west-1:444455556666:mlflow-app/app-AB12CD34EF56';
  const SERVER_ARN = 'arn:aws:sagemaker:eu-west-1:444455556666:mlflow-tracking-server/shared-tracking';

  /** A role in a fresh stack, granted logging to the tracking `importer` returns. */
  function grantedRole(importer: (stack: Stack) => IExperimentTracking) {
    const stack = new Stack(new App(), 'Ml', { env: { account: '111122223333', region: 'eu-west-1' } });
    const tracking = importer(stack);
    const role = new iam.Role(stack, 'Step', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
    });
    const grant = tracking.grantLogging(role);
    return { stack, tracking, grant };
  }

  test.each<[string, string, (s: Stack, arn: string) => IExperimentTracking]>([
    ['fromMlflowAppArn', APP_ARN, (s, arn) => ExperimentTracking.fromMlflowAppArn(s, 'Shared', arn)],
    [
      'fromTrackingServerArn',
      SERVER_ARN,
      (s, arn) => ExperimentTracking.fromTrackingServerArn(s, 'Shared', arn),
    ],
  ])(
    '%s: grantLogging names the imported ARN, and the tracking lives in its account',
    (_name, arn, importer) => {
      // GIVEN a tracking of another account, imported by ARN
      // WHEN a role is granted logging to it
      const { stack, tracking, grant } = grantedRole((s) => importer(s, arn));
      // THEN the grant names that ARN and nothing is created for the tracking itself
      expect(grant.success).toBe(true);
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: { Statement: [{ Action: 'sagemaker-mlflow:*', Effect: 'Allow', Resource: arn }] },
      });
      template.resourceCountIs('AWS::SageMaker::MlflowApp', 0);
      template.resourceCountIs('AWS::SageMaker::MlflowTrackingServer', 0);
      expect(tracking.trackingArn).toBe(arn);
      expect(tracking.env).toEqual({ account: '444455556666', region: 'eu-west-1' });
    },
  );

  test('a token ARN, e.g. a stack parameter, is passed through unvalidated', () => {
    // GIVEN
    const { stack } = grantedRole((s) =>
      ExperimentTracking.fromMlflowAppArn(s, 'Shared', new CfnParameter(s, 'TrackingArn').valueAsString),
    );
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [Match.objectLike({ Resource: { Ref: 'TrackingArn' } })] },
    });
  });

  test.each<[string, (s: Stack) => IExperimentTracking, RegExp]>([
    [
      'a tracking server ARN given as an MLflow App',
      (s) => ExperimentTracking.fromMlflowAppArn(s, 'Shared', SERVER_ARN),
      /^ExperimentTracking 'Ml\/Shared': arn 'arn:aws:sagemaker:eu-west-1:444455556666:mlflow-tracking-server\/shared-tracking' is invalid: use the ARN of a mlflow-app, e\.g\. arn:aws:sagemaker:eu-west-1:123456789012:mlflow-app\//,
    ],
    [
      'an MLflow App ARN given as a tracking server',
      (s) => ExperimentTracking.fromTrackingServerArn(s, 'Shared', APP_ARN),
      /arn '.*:mlflow-app\/app-AB12CD34EF56' is invalid: use the ARN of a mlflow-tracking-server, e\.g\. .*:mlflow-tracking-server\/team-tracking/,
    ],
    [
      'a name instead of an ARN',
      (s) => ExperimentTracking.fromTrackingServerArn(s, 'Shared', 'shared-tracking'),
      /arn 'shared-tracking' is invalid: use the ARN of a mlflow-tracking-server/,
    ],
    [
      'an ARN without an account',
      (s) =>
        ExperimentTracking.fromMlflowAppArn(s, 'Shared', 'arn:aws:sagemaker:eu-west-1::mlflow-app/app-1'),
      /arn 'arn:aws:sagemaker:eu-west-1::mlflow-app\/app-1' is invalid/,
    ],
  ])('%s fails naming the value and the expected shape', (_name, importer, message) => {
    // WHEN / THEN
    expect(() => grantedRole(importer)).toThrow(MlopsValidationError);
    expect(() => grantedRole(importer)).toThrow(message);
  });
});
