import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cfnLint, formatCfnLint } from '../support/cfn-lint';
import { loadSynthesizedApp } from '../support/synthesized-app';

describe('cfn-lint over every synthesized template', () => {
  test('zero errors and zero warnings', () => {
    // GIVEN every template of every environment
    const files = loadSynthesizedApp().stacks.map((s) => s.templateFile);
    expect(files.length).toBeGreaterThanOrEqual(3);
    // WHEN linted with the pinned cfn-lint and AWS's own resource schemas
    const { matches, stderr } = cfnLint(['--', ...files]);
    // THEN nothing is reported
    const lines = formatCfnLint(matches);
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
