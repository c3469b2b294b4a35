import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** The pinned cfn-lint that `npm test` installs into the project's virtualenv. */
export const CFN_LINT = path.join(__dirname, '..', '..', '.venv', 'bin', 'cfn-lint');

export interface CfnLintMatch {
  Rule: { Id: string };
  Level: string;
  Message: string;
  Filename: string;
  Location: { Path?: Array<string | number> };
}

/** Runs cfn-lint with JSON output; throws with the install command when it is missing. */
export function cfnLint(args: string[]): { matches: CfnLintMatch[]; status: number | null; stderr: string } {
  if (!fs.existsSync(CFN_LINT)) {
    throw new Error(`cfn-lint is not installed at ${CFN_LINT}: run 'npm test', which installs it into .venv`);
  }
  const result = spawnSync(CFN_LINT, ['--format', 'json', ...args], { encoding: 'utf8' });
  const stdout = result.stdout.trim();
  return {
    matches: stdout ? (JSON.parse(stdout) as CfnLintMatch[]) : [],
    status: result.status,
    stderr: result.stderr,
  };
}

/** One line per finding, for failure messages: level, rule, file, path in the template, message. */
export function formatCfnLint(matches: CfnLintMatch[]): string[] {
  return matches.map(
    (m) =>
      `${m.Level} ${m.Rule.Id} ${path.basename(m.Filename)} ${(m.Location.Path ?? []).join('/')}: ${m.Message}`,
  );
}
