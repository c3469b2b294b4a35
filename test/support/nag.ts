import * as fs from 'fs';
import * as path from 'path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

/** One unacknowledged cdk-nag finding: the rule and the construct path it was found on. */
export interface NagFinding {
  readonly rule: string;
  readonly severity: string;
  readonly path: string;
  readonly description: string;
}

/**
 * Synthesizes `app` with the AwsSolutions pack and returns every unacknowledged finding, errors
 * and warnings alike. Add the plugin before adding constructs is not required: plugins run at synth.
 */
export function nagFindings(app: App): NagFinding[] {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  let failure: unknown;
  try {
    app.synth();
  } catch (e) {
    failure = e;
  }
  const report = readValidationReport(app.outdir);
  const findings = report ? findingsOf(report) : [];
  if (failure && findings.length === 0) {
    throw failure;
  }
  return findings;
}

interface ValidationReport {
  pluginReports: Array<{
    violations: Array<{
      ruleName: string;
      description: string;
      severity?: string;
      violatingConstructs: Array<{ constructPath: string }>;
    }>;
  }>;
}

/** Reads the validation report CDK writes into the cloud assembly when a plugin reports anything. */
export function readValidationReport(outdir: string): ValidationReport | undefined {
  const file = path.join(outdir, 'validation-report.json');
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as ValidationReport) : undefined;
}

export function findingsOf(report: ValidationReport): NagFinding[] {
  return report.pluginReports.flatMap((plugin) =>
    plugin.violations.flatMap((v) =>
      v.violatingConstructs.map((c) => ({
        rule: v.ruleName,
        severity: v.severity ?? 'error',
        path: c.constructPath,
        description: v.description,
      })),
    ),
  );
}

/** Formats findings one per line, for a failure message a reader can act on. */
export function formatFindings(findings: NagFinding[]): string {
  return findings.map((f) => `${f.severity} ${f.rule} at ${f.path}: ${f.description}`).join('\n');
}
