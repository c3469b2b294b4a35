import * as fs from 'fs';
import * as path from 'path';
import { App, Aspects, Validations } from 'aws-cdk-lib';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AwsSolutionsChecks as AwsSolutionsChecksV2 } from 'cdk-nag-v2';

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

/**
 * Synthesizes `app` with cdk-nag 2's AwsSolutions pack, added the way its README shows
 * (`Aspects.of(app).add(new AwsSolutionsChecks())`), and returns every error and warning it reported.
 *
 * cdk-nag 2 reports through Error/Warning annotations. They are read from the cloud assembly; when
 * the app also registers cdk-nag 3, CDK turns the error annotations into a failed validation instead,
 * and they are read from its report. Pass `addChecks: false` when the checks were added already.
 */
export function nagV2Findings(app: App, options: { addChecks?: boolean } = {}): NagFinding[] {
  if (options.addChecks ?? true) {
    Aspects.of(app).add(new AwsSolutionsChecksV2());
  }
  let assembly: CloudAssembly;
  try {
    assembly = app.synth();
  } catch (e) {
    const report = readValidationReport(app.outdir);
    const findings = report ? findingsOf(report).filter((f) => f.rule.startsWith('Annotation::')) : [];
    if (findings.length === 0) {
      throw e;
    }
    return findings.map((f) => ({ ...f, rule: nagV2RuleOf(f.description) }));
  }
  const assemblies = [assembly, ...assembly.nestedAssemblies.map((n) => n.nestedAssembly)];
  return assemblies.flatMap((a) =>
    a.stacks.flatMap((stack) =>
      stack.messages
        .filter((m) => m.level === 'error' || m.level === 'warning')
        .map((m) => ({
          rule: nagV2RuleOf(String(m.entry.data)),
          severity: m.level,
          path: m.id.replace(/^\//, ''),
          description: String(m.entry.data),
        })),
    ),
  );
}

/** cdk-nag 2 messages start with the rule id and, for granular rules, the finding: `AwsSolutions-IAM5[Action::s3:*]: ...`. */
function nagV2RuleOf(message: string): string {
  return /^([\w-]+(?:\[[^\]]*\])?):/.exec(message)?.[1] ?? message;
}

/** One cdk-nag 2 suppression as written into a template (`Metadata.cdk_nag.rules_to_suppress`). */
export interface NagV2Suppression {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
  readonly appliesTo?: string[];
}

/** Every cdk-nag 2 suppression in a synthesized template, reasons decoded, with the resource's construct path. */
export function nagV2SuppressionsOf(template: Record<string, unknown>): NagV2Suppression[] {
  const resources = (template.Resources ?? {}) as Record<string, { Metadata?: Record<string, unknown> }>;
  return Object.entries(resources).flatMap(([logicalId, resource]) => {
    const metadata = resource.Metadata ?? {};
    const rules = ((metadata.cdk_nag as { rules_to_suppress?: unknown[] } | undefined)?.rules_to_suppress ??
      []) as Array<{ id: string; reason: string; applies_to?: string[]; is_reason_encoded?: boolean }>;
    return rules.map((r) => ({
      path: String(metadata['aws:cdk:path'] ?? logicalId),
      id: r.id,
      reason: r.is_reason_encoded ? Buffer.from(r.reason, 'base64').toString() : r.reason,
      ...(r.applies_to ? { appliesTo: r.applies_to } : {}),
    }));
  });
}
