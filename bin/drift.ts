#!/usr/bin/env node
// npm run drift -- --baseline <baseline.json> --capture <file or folder> [--json] [--psi-threshold 0.2]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import {
  BaselineError,
  DEFAULT_PSI_THRESHOLD,
  DriftHistogram,
  DriftReport,
  driftReport,
  histogramOfCapture,
  openCaptureFile,
  parseBaselineText,
  PROBLEM_KINDS,
} from '../lambda/shared/drift';

const USAGE = `Usage: npm run drift -- --baseline <baseline.json> --capture <file or folder> [--json] [--psi-threshold <psi>]

Compares SageMaker data capture (JSON Lines, plain or gzipped) with the training baseline written by
ml/preprocess.py, and prints per feature the PSI, the binned KS distance (numeric) or the chi-square
statistic (categorical), and whether the feature drifted.

  --baseline        the baseline.json of the model's training data
  --capture         a capture file, or a folder: every .jsonl, .json, .jsonl.gz and .json.gz file in it
                    and its subfolders
  --json            print the report as JSON instead of a table
  --psi-threshold   PSI at or above this marks a feature drifted (default ${DEFAULT_PSI_THRESHOLD})
  --help            this text

Details: docs/drift.md`;

const CAPTURE_FILE = /\.jsonl?(\.gz)?$/;

function usageError(message: string): number {
  console.error(`${message}\n\n${USAGE}`);
  return 2;
}

function captureFiles(location: string): string[] {
  if (!fs.statSync(location).isDirectory()) return [location];
  return fs
    .readdirSync(location, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const child = path.join(location, entry.name);
      if (entry.isDirectory()) return captureFiles(child);
      return entry.isFile() && CAPTURE_FILE.test(entry.name) ? [child] : [];
    });
}

function format(value: number): string {
  return value.toFixed(4);
}

function table(report: DriftReport): string {
  const lines = [`rows ${report.rows} of ${report.lines} capture lines`];
  const problems = PROBLEM_KINDS.filter((kind) => report.problems[kind] > 0);
  lines.push(
    problems.length === 0
      ? 'problems: none'
      : `problems: ${problems.map((kind) => `${kind} ${report.problems[kind]}`).join(', ')}`,
  );
  if (report.empty) {
    lines.push('empty window: no statistics');
    return lines.join('\n');
  }
  const rows = Object.entries(report.features).map(([name, f]) => [
    name,
    f.type,
    format(f.psi),
    f.type === 'numeric' ? `ks ${format(f.ks)}` : `chi-square ${format(f.chiSquare)}`,
    f.drifted ? 'drifted' : '',
  ]);
  const header = ['feature', 'type', 'psi', 'statistic', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const row of [header, ...rows]) {
    lines.push(
      row
        .map((cell, i) => cell.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    );
  }
  lines.push(
    `drifted: ${Object.values(report.features).filter((f) => f.drifted).length} of ${rows.length} features ` +
      `(share ${format(report.driftedShare ?? 0)}, PSI threshold ${report.psiThreshold})`,
  );
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        baseline: { type: 'string' },
        capture: { type: 'string' },
        json: { type: 'boolean' },
        'psi-threshold': { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return usageError((error as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.baseline) return usageError('Missing --baseline.');
  if (!values.capture) return usageError('Missing --capture.');
  let psiThreshold = DEFAULT_PSI_THRESHOLD;
  if (values['psi-threshold'] !== undefined) {
    psiThreshold = Number(values['psi-threshold']);
    if (!Number.isFinite(psiThreshold) || psiThreshold <= 0 || values['psi-threshold'].trim() === '') {
      return usageError(`--psi-threshold must be a positive number, not '${values['psi-threshold']}'.`);
    }
  }

  let baseline;
  try {
    baseline = parseBaselineText(fs.readFileSync(values.baseline, 'utf8'));
  } catch (error) {
    const reason = error instanceof BaselineError ? error.message : (error as Error).message;
    console.error(`Cannot use the baseline ${values.baseline}: ${reason}`);
    return 1;
  }

  let files: string[];
  try {
    files = captureFiles(values.capture);
  } catch (error) {
    console.error(`Cannot read the capture ${values.capture}: ${(error as Error).message}`);
    return 1;
  }
  const histograms: DriftHistogram[] = [];
  for (const file of files) {
    try {
      histograms.push(await histogramOfCapture(openCaptureFile(file), baseline));
    } catch (error) {
      console.error(`Cannot read the capture file ${file}: ${(error as Error).message}`);
      return 1;
    }
  }
  const report = driftReport(baseline, histograms, { psiThreshold });
  console.log(values.json ? JSON.stringify(report, null, 2) : table(report));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  },
);
