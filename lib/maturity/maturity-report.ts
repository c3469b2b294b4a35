import * as fs from 'fs';
import * as path from 'path';
import { IConstruct } from 'constructs';
import { AlwaysOnResource } from './always-on';
import { EnvironmentMaturity, MaturityContract } from './maturity-contract';
import { MaturityLevel, maturityLevelName } from './maturity-level';

/** File names of the report inside the cloud assembly directory. */
export const MATURITY_REPORT_JSON = 'maturity-report.json';
export const MATURITY_REPORT_MARKDOWN = 'maturity-report.md';

/** The maturity report of an app: one entry per environment contract. */
export interface MaturityReportDocument {
  /**
   * Bumped when a field changes meaning or disappears (added fields keep it). 2:
   * `alwaysOnResources` no longer holds conditional resources; they moved to
   * `conditionalAlwaysOnResources`. Since 2: `models`, `notes`, and `model` on resources.
   */
  readonly schemaVersion: 2;
  readonly environments: EnvironmentMaturity[];
}

/**
 * The maturity report: per environment, the declared and achieved level, the models it runs, the
 * capabilities present, what is missing for the next level and the resources that bill while idle
 * (each with the model it belongs to).
 */
export class MaturityReport {
  /** The report of every contract declared under `root`, usually the App. */
  public static of(root: IConstruct): MaturityReport {
    return new MaturityReport(MaturityContract.findAll(root).map((c) => c.toReport()));
  }

  private constructor(public readonly environments: EnvironmentMaturity[]) {}

  public toJson(): MaturityReportDocument {
    return { schemaVersion: 2, environments: this.environments };
  }

  /** A Markdown document: a summary table, then one section per environment. */
  public toMarkdown(): string {
    const lines = [
      '# MLOps maturity report',
      '',
      '| environment | declared | achieved | models | missing for next level | always-on resources | conditional always-on |',
      '|---|---|---|---|---|---|---|',
      ...this.environments.map(
        (e) =>
          `| ${e.name} | ${levelText(e.declaredLevel)} | ${levelText(e.achievedLevel)} | ` +
          `${modelNames(e)} | ${e.missingForNextLevel.join(', ') || '-'} | ${e.alwaysOnResources.length} | ` +
          `${e.conditionalAlwaysOnResources.length} |`,
      ),
    ];
    for (const e of this.environments) {
      lines.push('', `## ${e.name}`, '');
      if (e.models.length > 0) {
        lines.push(
          'Models:',
          '',
          '| model | pipeline | model package group | endpoint | serving |',
          '|---|---|---|---|---|',
          ...e.models.map(
            (m) =>
              `| ${m.name} | \`${m.pipelineName}\` | \`${m.modelPackageGroupName}\` | \`${m.endpointName}\` | ${m.servingMode} |`,
          ),
          '',
        );
      }
      for (const note of e.notes) {
        lines.push(`Note: ${note}.`, '');
      }
      lines.push('Capabilities:', '');
      for (const c of e.capabilities) {
        const from = e.sharedCapabilities[c];
        lines.push(`- ${c}${from ? ` (provided by ${from})` : ''}`);
      }
      lines.push('', 'Always-on resources:', '');
      if (e.alwaysOnResources.length === 0) {
        lines.push('- none: this environment costs nothing per hour while idle');
      }
      for (const r of e.alwaysOnResources) {
        lines.push(resourceLine(r));
      }
      if (e.conditionalAlwaysOnResources.length > 0) {
        lines.push('', 'Always-on only while their condition holds (e.g. once a model is released):', '');
        for (const r of e.conditionalAlwaysOnResources) {
          lines.push(resourceLine(r));
        }
      }
    }
    return lines.join('\n') + '\n';
  }

  /** A short fixed-width table for the terminal. */
  public toTable(): string {
    const header = [
      'environment',
      'declared',
      'achieved',
      'models',
      'always-on',
      'conditional',
      'missing for next level',
    ];
    const rows = this.environments.map((e) => [
      e.name,
      String(e.declaredLevel),
      String(e.achievedLevel),
      modelNames(e),
      String(e.alwaysOnResources.length),
      String(e.conditionalAlwaysOnResources.length),
      e.missingForNextLevel.join(', ') || '-',
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const format = (cells: string[]) =>
      cells
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd();
    return [format(header), format(widths.map((w) => '-'.repeat(w))), ...rows.map(format)].join('\n');
  }

  /** Writes the JSON and Markdown versions into `directory` and returns their paths. */
  public writeTo(directory: string): { json: string; markdown: string } {
    fs.mkdirSync(directory, { recursive: true });
    const json = path.join(directory, MATURITY_REPORT_JSON);
    const markdown = path.join(directory, MATURITY_REPORT_MARKDOWN);
    fs.writeFileSync(json, JSON.stringify(this.toJson(), null, 2) + '\n');
    fs.writeFileSync(markdown, this.toMarkdown());
    return { json, markdown };
  }
}

function modelNames(e: EnvironmentMaturity): string {
  return e.models.map((m) => m.name).join(', ') || '-';
}

function resourceLine(r: AlwaysOnResource): string {
  return `- \`${r.type}\` at \`${r.path}\`${r.model ? ` (model ${r.model})` : ''}: ${r.reason}`;
}

function levelText(level: number): string {
  return level < 0 ? 'below 0' : `${level} ${maturityLevelName(level as MaturityLevel)}`;
}
