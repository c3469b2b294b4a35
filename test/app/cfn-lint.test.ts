import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadSynthesizedApp } from '../support/synthesized-app';

const CFN_LINT = path.join(__dirname, '..', '..', '.venv', 'bin', 'cfn-lint');

interface CfnLintMatch {
  Rule: { Id: string };
  Level: string;
  Message: string;
  Filename: string;
  Location: { Path?: Array<string | number> };
}

function cfnLint(args: string[]): { matches: CfnLintMatch[]; status: number | null; stderr: string } {
  const result = spawnSync(CFN_LINT, ['--format', 'json', ...args], { encoding: 'utf8' });
  const stdout = result.stdout.trim();
  return {
    matches: stdout ? (JSON.parse(stdout) as CfnLintMatch[]) : [],
    status: result.status,
    stderr: result.stderr,
  };
}

describe('cfn-lint over every synthesized template', () => {
  beforeAll(() => {
    if (!fs.existsSync(CFN_LINT)) {
      throw new Error(
        `cfn-lint is not installed at ${CFN_LINT}: run 'npm test', which installs it into .venv`,
      );
    }
  });

  test('zero errors and zero warnings', () => {
    // GIVEN every template of every environment
    const files = loadSynthesizedApp().stacks.map((s) => s.templateFile);
    expect(files.length).toBeGreaterThanOrEqual(3);
    // WHEN linted with the pinned cfn-lint and AWS's own resource schemas
    const { matches, stderr } = cfnLint(['--', ...files]);
    // THEN nothing is reported
    const lines = matches.map(
      (m) =>
        `${m.Level} ${m.Rule.Id} ${path.basename(m.Filename)} ${(m.Location.Path ?? []).join('/')}: ${m.Message}`,
    );
    expect(stderr).toBe('');
    expect(lines).toEqual([]);
  });

  test('the linter reports a broken template (it is not vacuous)', () => {
    // GIVEN a template with an unknown property on a bucket
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cfn-lint-')), 'bad.json');
    fs.writeFileSync(
      file,
      JSON.stringify({ Resources: { B: { Type: 'AWS::S3::Bucket', Properties: { NotAProperty: true } } } }),
    );
    // THEN cfn-lint reports it as an error
    const { matches } = cfnLint([file]);
    expect(matches.map((m) => m.Level)).toContain('Error');
  });
});
