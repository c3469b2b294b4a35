import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { GitHubOidcDeployRole, GitHubOidcDeployRoleProps } from '../../lib/delivery/github-oidc-deploy-role';
import { MlopsValidationError } from '../../lib/private/errors';
import { formatFindings, nagFindings } from '../support/nag';

const ENV = { account: '111122223333', region: 'eu-west-1' };

/** A policy's resources with Fn::Join flattened and pseudo-parameters written as <AWS::Name>. */
function policyResources(template: Template): string[] {
  const flatten = (v: unknown): string =>
    typeof v === 'string'
      ? v
      : 'Ref' in (v as object)
        ? `<${(v as { Ref: string }).Ref}>`
        : (v as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].map(flatten).join('');
  const [policy] = Object.values(template.findResources('AWS::IAM::Policy')) as Array<{
    Properties: { PolicyDocument: { Statement: Array<{ Resource: unknown[] }> } };
  }>;
  return policy.Properties.PolicyDocument.Statement.flatMap((st) => st.Resource.map(flatten));
}

function roleStack(props: GitHubOidcDeployRoleProps | ((s: Stack) => GitHubOidcDeployRoleProps)) {
  const app = new App();
  const stack = new Stack(app, 'Ci', { env: ENV });
  const deployRole = new GitHubOidcDeployRole(
    stack,
    'Deploy',
    typeof props === 'function' ? props(stack) : props,
  );
  return { app, stack, deployRole, template: Template.fromStack(stack) };
}

describe('GitHubOidcDeployRole', () => {
  describe('defaults', () => {
    // GIVEN a role for one repository
    const { template, deployRole } = roleStack({ repository: 'octo-org/ml-platform' });

    test('creates GitHub as OIDC provider for the STS audience, retained', () => {
      template.hasResource('AWS::IAM::OIDCProvider', {
        Properties: {
          Url: 'https://token.actions.githubusercontent.com',
          ClientIdList: ['sts.amazonaws.com'],
        },
        DeletionPolicy: 'Retain',
      });
    });

    test('trusts exactly the main branch of that repository, with the STS audience', () => {
      template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: {
          Statement: [
            {
              Action: 'sts:AssumeRoleWithWebIdentity',
              Effect: 'Allow',
              Principal: { Federated: { Ref: Match.stringLikeRegexp('^DeployProvider') } },
              Condition: {
                StringEquals: {
                  'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
                  'token.actions.githubusercontent.com:sub': 'repo:octo-org/ml-platform:ref:refs/heads/main',
                },
              },
            },
          ],
        },
        MaxSessionDuration: 3600,
      });
      expect(deployRole.subject).toBe('repo:octo-org/ml-platform:ref:refs/heads/main');
    });

    test("may only assume this environment's four CDK bootstrap roles", () => {
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: [
            Match.objectLike({
              Sid: 'AssumeCdkBootstrapRoles',
              Effect: 'Allow',
              Action: ['sts:AssumeRole', 'sts:TagSession'],
            }),
          ],
        },
      });
      expect(policyResources(template)).toEqual(
        ['deploy', 'file-publishing', 'image-publishing', 'lookup'].map(
          (k) => `arn:<AWS::Partition>:iam::111122223333:role/cdk-hnb659fds-${k}-role-111122223333-eu-west-1`,
        ),
      );
      template.resourceCountIs('AWS::IAM::Policy', 1);
      template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    });

    test('has zero unacknowledged cdk-nag findings', () => {
      expect(formatFindings(nagFindings(roleStack({ repository: 'octo-org/ml-platform' }).app))).toBe('');
    });
  });

  test('a GitHub environment replaces the branch in the trusted subject', () => {
    const { template } = roleStack({ repository: 'octo-org/ml-platform', gitHubEnvironment: 'prod' });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Condition: {
              StringEquals: Match.objectLike({
                'token.actions.githubusercontent.com:sub': 'repo:octo-org/ml-platform:environment:prod',
              }),
            },
          }),
        ],
      },
    });
  });

  test('another branch, several targets, a qualifier, a session length and an imported provider', () => {
    const { template } = roleStack((s) => ({
      repository: 'octo/ml',
      branch: 'release/v2',
      targets: [
        { account: '111122223333', region: 'eu-west-1' },
        { account: '444455556666', region: 'us-east-1' },
      ],
      bootstrapQualifier: 'mlops',
      maxSessionDuration: Duration.hours(2),
      provider: iam.OidcProviderNative.fromOidcProviderArn(
        s,
        'Gh',
        'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com',
      ),
    }));
    template.resourceCountIs('AWS::IAM::OIDCProvider', 0);
    template.hasResourceProperties('AWS::IAM::Role', {
      MaxSessionDuration: 7200,
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: {
              Federated: 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com',
            },
            Condition: {
              StringEquals: Match.objectLike({
                'token.actions.githubusercontent.com:sub': 'repo:octo/ml:ref:refs/heads/release/v2',
              }),
            },
          }),
        ],
      },
    });
    const resources = policyResources(template);
    expect(resources).toHaveLength(8);
    expect(resources).toEqual(
      expect.arrayContaining([
        'arn:<AWS::Partition>:iam::444455556666:role/cdk-mlops-deploy-role-444455556666-us-east-1',
        'arn:<AWS::Partition>:iam::111122223333:role/cdk-mlops-lookup-role-111122223333-eu-west-1',
      ]),
    );
  });

  describe('invalid props fail naming the prop, the value and the fix', () => {
    test.each<[string, GitHubOidcDeployRoleProps, RegExp]>([
      [
        'a URL as repository',
        { repository: 'https://github.com/octo/ml' },
        /repository 'https:\/\/github\.com\/octo\/ml' is invalid: use "owner\/name" exactly as on GitHub/,
      ],
      ['a wildcard repository', { repository: 'octo/*' }, /repository 'octo\/\*' is invalid/],
      ['an owner only', { repository: 'octo' }, /repository 'octo' is invalid/],
      [
        'a wildcard branch',
        { repository: 'octo/ml', branch: 'feature/*' },
        /branch 'feature\/\*' is invalid: use one branch name such as "main", without wildcards/,
      ],
      [
        'a full ref',
        { repository: 'octo/ml', branch: 'refs/heads/main' },
        /branch 'refs\/heads\/main' is invalid: give the branch name only/,
      ],
      [
        'branch and environment',
        { repository: 'octo/ml', branch: 'main', gitHubEnvironment: 'prod' },
        /branch 'main' is invalid: give branch or gitHubEnvironment, not both/,
      ],
      [
        'a wildcard environment',
        { repository: 'octo/ml', gitHubEnvironment: 'prod*' },
        /gitHubEnvironment 'prod\*' is invalid/,
      ],
      [
        'a bad qualifier',
        { repository: 'octo/ml', bootstrapQualifier: 'way-too-long-q' },
        /bootstrapQualifier 'way-too-long-q' is invalid/,
      ],
      [
        'a bad target account',
        { repository: 'octo/ml', targets: [{ account: '123', region: 'eu-west-1' }] },
        /targets\[0\]\.account '123' is invalid: use a 12-digit AWS account id/,
      ],
      [
        'no targets',
        { repository: 'octo/ml', targets: [] },
        /targets '\[\]' is invalid: name at least one environment/,
      ],
    ])('%s', (_name, props, message) => {
      expect(() => roleStack(props)).toThrow(MlopsValidationError);
      expect(() => roleStack(props)).toThrow(message);
    });
  });
});
