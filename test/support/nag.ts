import { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AwsSolutionsChecks as AwsSolutionsChecksV2 } from 'cdk-nag-v2';
import {
  cdkNagAspectFindings,
  cdkNagFindings,
  LintFinding,
  validationReportFindings,
} from '../../lib/testing';

/** One unacknowledged cdk-nag finding: the rule and the construct path it was found on. */
export interface NagFinding {
  readonly rule: string;
  readonly severity: string;
  readonly path: string;
  readonly description: string;
}

/** The kit's finding in the shape these tests name it. */
function toNagFinding(f: LintFinding): NagFinding {
  return { rule: f.rule, severity: f.level, path: f.location, description: f.message };
}

/**
 * Synthesizes `app` with the AwsSolutions pack and returns every unacknowledged finding, errors
 * and warnings alike, through the testing kit that users run on their own stacks.
 */
export function nagFindings(app: App): NagFinding[] {
  return cdkNagFindings(app, new AwsSolutionsChecks(app)).map(toNagFinding);
}

/** The findings of the validation report in a cloud assembly directory. */
export function reportFindings(outdir: string): NagFinding[] {
  return validationReportFindings(outdir).map(toNagFinding);
}

/** Formats findings one per line, for a failure message a reader can act on. */
export function formatFindings(findings: NagFinding[]): string {
  return findings.map((f) => `${f.severity} ${f.rule} at ${f.path}: ${f.description}`).join('\n');
}

/**
 * Synthesizes `app` with cdk-nag 2's AwsSolutions pack, added the way its README shows
 * (`Aspects.of(app).add(new AwsSolutionsChecks())`), and returns every error and warning it
 * reported. Pass `addChecks: false` when the checks were added already.
 */
export function nagV2Findings(app: App, options: { addChecks?: boolean } = {}): NagFinding[] {
  const pack = (options.addChecks ?? true) ? new AwsSolutionsChecksV2() : undefined;
  return cdkNagAspectFindings(app, pack).map(toNagFinding);
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
