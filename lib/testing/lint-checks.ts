import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Aspects, IAspect, IPolicyValidationPlugin, Stage, Validations } from 'aws-cdk-lib';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { MlopsAssertionError } from './errors';

/** One finding of cdk-nag or cfn-lint. */
export interface LintFinding {
  /** The rule, e.g. `AwsSolutions-IAM5[Action::s3:GetObject*]` or `W3005`. */
  readonly rule: string;
  /** `error`, `warning` or `informational`, as the tool reports it. */
  readonly level: string;
  /** Where: a construct path (cdk-nag) or `template file: resource path` (cfn-lint). */
  readonly location: string;
  readonly message: string;
}

/**
 * Synthesizes `app` with a cdk-nag 3 pack registered as a validation plugin
 * (`new AwsSolutionsChecks(app)` from your cdk-nag) and returns the unacknowledged findings. The
 * library's own acknowledgements apply (each with its reason), so what remains is about your choices.
 */
export function cdkNagFindings(app: Stage, pack: IPolicyValidationPlugin): LintFinding[] {
  Validations.of(app).addPlugins(pack);
  let failure: unknown;
  try {
    app.synth({ force: true });
  } catch (error) {
    failure = error;
  }
  const findings = validationReportFindings(app.outdir);
  if (failure && findings.length === 0) {
    throw failure;
  }
  return findings;
}

/**
 * Synthesizes `app` with a cdk-nag 2 pack added as an aspect (`new AwsSolutionsChecks()` from
 * cdk-nag 2) and returns the errors and warnings it annotated. The library writes cdk-nag 2's
 * suppression metadata for its acknowledgements, so they apply here too.
 *
 * cdk-nag 2 reports through Error and Warning annotations, read from the cloud assembly; when the
 * app also registers a validation plugin, CDK turns error annotations into a failed validation
 * instead, and they are read from its report.
 *
 * @param pack the pack to add; leave it out when the app added one itself
 */
export function cdkNagAspectFindings(app: Stage, pack?: IAspect): LintFinding[] {
  if (pack) {
    Aspects.of(app).add(pack);
  }
  let assembly: CloudAssembly;
  try {
    assembly = app.synth({ force: true });
  } catch (error) {
    const annotated = validationReportFindings(app.outdir).filter((f) => f.rule.startsWith('Annotation::'));
    if (annotated.length === 0) {
      throw error;
    }
    return annotated.map((f) => ({ ...f, rule: nagRuleOf(f.message) }));
  }
  return collectStacks(assembly).flatMap((stack) =>
    stack.messages
      .filter((m) => m.level === 'error' || m.level === 'warning')
      .map((m) => ({
        rule: nagRuleOf(String(m.entry.data)),
        level: m.level as string,
        location: m.id.replace(/^\//, ''),
        message: String(m.entry.data),
      })),
  );
}

/**
 * The findings of the validation report CDK writes into a cloud assembly directory when a
 * validation plugin (cdk-nag 3, aws-cdk-lib's CloudFormation validation) reports anything.
 */
export function validationReportFindings(outdir: string): LintFinding[] {
  const file = path.join(outdir, 'validation-report.json');
  return fs.existsSync(file) ? findingsOfReport(JSON.parse(fs.readFileSync(file, 'utf8'))) : [];
}

/** cdk-nag 2 messages start with the rule id and, for granular rules, the finding: `AwsSolutions-IAM5[Action::s3:*]: ...`. */
function nagRuleOf(message: string): string {
  return /^([\w.-]+(?:\[[^\]]*\])?):/.exec(message)?.[1] ?? message;
}

/** Options of `cfnLintFindings`. */
export interface CfnLintOptions {
  /**
   * The cfn-lint executable.
   *
   * @default 'cfn-lint' from the PATH
   */
  readonly executable?: string;
  /**
   * Rules to leave out, e.g. `['W3005']`.
   *
   * @default - none
   */
  readonly ignoreChecks?: string[];
}

/**
 * Runs cfn-lint (AWS's CloudFormation linter, a Python tool you install yourself:
 * `pip install cfn-lint`) over every template of a synthesized cloud assembly, nested stages
 * included, and returns its findings.
 *
 * @param assembly the output of `app.synth()`, or the path of a cloud assembly directory (`cdk.out`)
 */
export function cfnLintFindings(
  assembly: CloudAssembly | string,
  options: CfnLintOptions = {},
): LintFinding[] {
  const cloudAssembly = typeof assembly === 'string' ? new CloudAssembly(assembly) : assembly;
  const files = collectStacks(cloudAssembly).map((s) => s.templateFullPath);
  if (files.length === 0) {
    return [];
  }
  const executable = options.executable ?? 'cfn-lint';
  const ignore = options.ignoreChecks?.length ? ['--ignore-checks', ...options.ignoreChecks] : [];
  const result = spawnSync(executable, ['--format', 'json', ...ignore, '--', ...files], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error && (result.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new MlopsAssertionError(
      `cfn-lint is not installed (no '${executable}' found): install it with 'pip install cfn-lint' ` +
        `(for example into a virtualenv), or give its path as options.executable`,
    );
  }
  const stdout = (result.stdout ?? '').trim();
  if (!stdout.startsWith('[')) {
    throw new MlopsAssertionError(
      `cfn-lint failed (exit ${result.status}): ${(result.stderr || stdout).trim().slice(0, 2000)}`,
    );
  }
  const matches = JSON.parse(stdout) as Array<{
    Rule: { Id: string };
    Level: string;
    Message: string;
    Filename: string;
    Location: { Path?: Array<string | number> };
  }>;
  return matches.map((m) => ({
    rule: m.Rule.Id,
    level: m.Level.toLowerCase(),
    location: `${path.basename(m.Filename)}: ${(m.Location.Path ?? []).join('/')}`,
    message: m.Message,
  }));
}

/** Throws, listing every finding, unless `findings` is empty. */
export function assertNoFindings(findings: LintFinding[], what: string = 'lint'): void {
  if (findings.length > 0) {
    throw new MlopsAssertionError(
      `${what}: ${findings.length} finding(s):\n` +
        findings.map((f) => `  ${f.level} ${f.rule} at ${f.location}: ${f.message}`).join('\n'),
    );
  }
}

function collectStacks(assembly: CloudAssembly): CloudAssembly['stacks'][number][] {
  return [
    ...assembly.stacks,
    ...assembly.nestedAssemblies.flatMap((nested) => collectStacks(nested.nestedAssembly)),
  ];
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

function findingsOfReport(report: ValidationReport): LintFinding[] {
  return report.pluginReports.flatMap((plugin) =>
    plugin.violations.flatMap((v) =>
      v.violatingConstructs.map((c) => ({
        rule: v.ruleName,
        level: v.severity ?? 'error',
        location: c.constructPath,
        message: v.description,
      })),
    ),
  );
}
