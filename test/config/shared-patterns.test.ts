import { App, Stack } from 'aws-cdk-lib';
import { parsePlatformConfig } from '../../bin/config';
import { GitHubOidcDeployRole } from '../../lib/delivery/github-oidc-deploy-role';

/** Whether the config accepts `branch` as the delivery branch and as the GitHub deploy role's branch. */
function configAccepts(branch: string): { delivery: boolean; githubOidc: boolean } {
  const accepts = (mlops: Record<string, unknown>) => {
    try {
      parsePlatformConfig({ mlops });
      return true;
    } catch (error) {
      // Refused for its branch, not for something else in the fixture.
      expect(String(error)).toMatch(/\.branch '/);
      return false;
    }
  };
  return {
    delivery: accepts({ environments: { dev: { level: 0 } }, delivery: { branch } }),
    githubOidc: accepts({
      environments: { dev: { level: 1, githubOidc: { repository: 'octo/ml', branch } } },
      delivery: false,
    }),
  };
}

function roleAccepts(branch: string): boolean {
  const stack = new Stack(new App(), 'Ci', { env: { account: '111122223333', region: 'eu-west-1' } });
  try {
    new GitHubOidcDeployRole(stack, 'Deploy', { repository: 'octo/ml', branch });
    return true;
  } catch (error) {
    expect(String(error)).toMatch(/branch '/);
    return false;
  }
}

describe('one branch rule for the config and GitHubOidcDeployRole', () => {
  // Before, the config took any string as githubOidc.branch and a plain character class as
  // delivery.branch, while the role also refused '..', a leading '/' and a trailing '/': the first
  // five rows passed the config and then failed synth; the rest passed both though git refuses them.
  test.each([
    ['feature/', false],
    ['/main', false],
    ['release/../main', false],
    ['feature/*', false],
    ['feature/.x', false],
    ['.hidden', false],
    ['v1.lock/hotfix', false],
    ['a//b', false],
    ['-main', false],
    ['main.', false],
    ['HEAD', false],
    ['main', true],
    ['release/v2', true],
    ['feature/JIRA-12_fix.2', true],
    ['v1.2.3', true],
  ])("branch '%s': accepted %s by both", (branch, accepted) => {
    // WHEN the same branch name is given to the config and to the construct
    // THEN both accept it, or both refuse it
    expect({ config: configAccepts(branch), role: roleAccepts(branch) }).toEqual({
      config: { delivery: accepted, githubOidc: accepted },
      role: accepted,
    });
  });
});

describe('one repository rule for the config and GitHubOidcDeployRole', () => {
  const configAccepts = (repository: string) => {
    try {
      parsePlatformConfig({
        mlops: { environments: { dev: { level: 1, githubOidc: { repository } } }, delivery: false },
      });
      return true;
    } catch (error) {
      expect(String(error)).toMatch(/\.repository '/);
      return false;
    }
  };
  const roleAccepts = (repository: string) => {
    const stack = new Stack(new App(), 'Ci', { env: { account: '111122223333', region: 'eu-west-1' } });
    try {
      new GitHubOidcDeployRole(stack, 'Deploy', { repository });
      return true;
    } catch (error) {
      expect(String(error)).toMatch(/repository '/);
      return false;
    }
  };

  // GitHub reserves '.' and '..' as repository names; owners cannot start with a hyphen.
  test.each([
    ['octo/..', false],
    ['octo/.', false],
    ['-octo/ml', false],
    ['octo/*', false],
    ['octo/ml/extra', false],
    ['octo/.github', true],
    ['octo-org/ml.platform_2', true],
  ])("repository '%s': accepted %s by both", (repository, accepted) => {
    expect({ config: configAccepts(repository), role: roleAccepts(repository) }).toEqual({
      config: accepted,
      role: accepted,
    });
  });
});
