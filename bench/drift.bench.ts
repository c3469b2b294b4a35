// Drift benchmark: our drift job's engine against the Evidently user path, on the same capture data,
// each in a child process pinned to one core, at two window sizes.
//
//   - the data: one capture file of `--drift-lines` lines (default 1,000,000; SageMaker capture
//     records of five taxi-trip features, fixed seed) and the baseline.json that ml/preprocess.py
//     writes for the training data the window is compared with, in a temporary folder;
//   - the windows: that file once, and four times (four capture objects of a window);
//   - ours: lambda/shared/drift, bundled as the Lambda is, reading the objects one after another;
//   - Evidently's user path: json + pandas to read the capture, Evidently 0.7.23's PSI per column
//     (bench/evidently_drift.py, in .venv-bench, created on first use by scripts/bench-env.mjs).
//
// Prints rows/s, their ratio and the peak RSS of each, per window, and the PSI each computes.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import { writeCapture, writeTraining } from './drift-data';

const ROOT = path.join(__dirname, '..');
const DEFAULT_LINES = 1_000_000;
const TRAINING_ROWS = 100_000;
const WINDOW_OBJECTS = [1, 4];
const TARGET_RATIO = 10;

interface Run {
  readonly rows: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly peakMiB: number;
  readonly psi: Record<string, number>;
}

function fail(message: string): never {
  console.error(`drift bench: ${message}`);
  process.exit(1);
}

function linesOption(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: { 'drift-lines': { type: 'string' } },
    strict: false,
    allowPositionals: true,
  });
  const text = (values['drift-lines'] as string | undefined) ?? process.env.DRIFT_BENCH_LINES;
  if (text === undefined) return DEFAULT_LINES;
  const lines = Number(text);
  if (!Number.isSafeInteger(lines) || lines < 1000) {
    fail(`--drift-lines must be a whole number of at least 1000, not '${text}'`);
  }
  return lines;
}

/** taskset pins each child to one core, when the machine has it. */
function pinned(command: string, args: string[]): [string, string[]] {
  const taskset = spawnSync('taskset', ['--version'], { encoding: 'utf8' });
  if (taskset.status !== 0) return [command, args];
  const core = String(os.cpus().length - 1);
  return ['taskset', ['-c', core, command, ...args]];
}

function runChild(label: string, command: string, args: string[]): Run {
  const [program, programArgs] = pinned(command, args);
  const result = spawnSync(program, programArgs, {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
    // One thread for the numeric libraries too: the comparison is per core.
    env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
  });
  if (result.status !== 0)
    fail(`${label} failed (exit ${result.status ?? result.signal}):\n${result.stderr}`);
  const last = result.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as Run;
  } catch {
    return fail(`${label} printed no result:\n${result.stdout}\n${result.stderr}`);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const rate = (run: Run) => run.rows / run.seconds;
const cpuRate = (run: Run) => run.rows / run.cpuSeconds;

function human(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(0)}k`;
  return value.toFixed(0);
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map(
      (r) =>
        '  ' +
        r
          .map((cell, i) => cell.padEnd(widths[i]))
          .join('  ')
          .trimEnd(),
    )
    .join('\n');
}

export function driftBench(argv: string[]): void {
  const lines = linesOption(argv);
  const runs = Number(process.env.DRIFT_BENCH_RUNS ?? 3);
  const venv = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'bench-env.mjs')], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (venv.status !== 0) fail('could not create .venv-bench (scripts/bench-env.mjs)');
  const python = venv.stdout.trim();

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-drift-'));
  try {
    const train = path.join(dir, 'train.csv');
    const capture = path.join(dir, 'capture.jsonl');
    const baseline = path.join(dir, 'baseline.json');
    writeTraining(train, TRAINING_ROWS);
    writeCapture(capture, lines);
    const made = spawnSync(python, [path.join(__dirname, 'drift_baseline.py'), train, baseline], {
      encoding: 'utf8',
    });
    if (made.status !== 0) fail(`drift_baseline.py failed:\n${made.stderr}`);
    const engine = path.join(dir, 'drift-engine.js');
    esbuild.buildSync({
      entryPoints: [path.join(__dirname, 'drift-engine.child.ts')],
      bundle: true,
      platform: 'node',
      target: 'node20',
      outfile: engine,
      logLevel: 'error',
    });
    const bytesPerLine = fs.statSync(capture).size / lines;
    const pinnedTo =
      pinned('x', [])[0] === 'taskset' ? `core ${os.cpus().length - 1} (taskset)` : 'no taskset: unpinned';
    console.log(
      `\ndrift benchmark: one capture file of ${lines.toLocaleString('en-US')} lines (${bytesPerLine.toFixed(0)} bytes a line), ` +
        `windows of ${WINDOW_OBJECTS.join(' and ')} such objects; each side a child process on one core, ${pinnedTo}; ` +
        `${runs} interleaved runs, medians`,
    );

    const results = WINDOW_OBJECTS.map((objects) => {
      const files = new Array<string>(objects).fill(capture);
      const ours: Run[] = [];
      const evidently: Run[] = [];
      for (let i = 0; i < runs; i++) {
        ours.push(runChild('our engine', process.execPath, [engine, baseline, ...files]));
        evidently.push(
          runChild('Evidently', python, [
            path.join(__dirname, 'evidently_drift.py'),
            baseline,
            train,
            ...files,
          ]),
        );
      }
      for (const run of [...ours, ...evidently]) {
        if (run.rows !== lines * objects) fail(`a run counted ${run.rows} rows of ${lines * objects}`);
      }
      return { objects, ours, evidently };
    });

    const header = [
      'window (rows)',
      'ours rows/s',
      'Evidently rows/s',
      'ours/Evidently',
      'per CPU-second: ours',
      'Evidently',
      'ratio',
      'peak MiB: ours',
      'Evidently',
    ];
    const ratioOf = (ours: Run[], evidently: Run[], of: (run: Run) => number) =>
      median(ours.map(of)) / median(evidently.map(of));
    const body = results.map(({ objects, ours, evidently }) => [
      (lines * objects).toLocaleString('en-US'),
      human(median(ours.map(rate))),
      human(median(evidently.map(rate))),
      `${ratioOf(ours, evidently, rate).toFixed(1)}x`,
      human(median(ours.map(cpuRate))),
      human(median(evidently.map(cpuRate))),
      `${ratioOf(ours, evidently, cpuRate).toFixed(1)}x`,
      median(ours.map((r) => r.peakMiB)).toFixed(0),
      median(evidently.map((r) => r.peakMiB)).toFixed(0),
    ]);
    console.log(table([header, ...body]));
    for (const { objects, ours, evidently } of results) {
      const fmt = (xs: Run[]) => xs.map((r) => human(rate(r))).join(' ');
      console.log(`  runs, ${objects} object(s): ours [${fmt(ours)}], Evidently [${fmt(evidently)}] rows/s`);
    }
    const met = (of: (run: Run) => number) =>
      results.every(({ ours, evidently }) => ratioOf(ours, evidently, of) >= TARGET_RATIO)
        ? 'met'
        : 'NOT met';
    const [small, large] = results.map(({ ours }) => median(ours.map((r) => r.peakMiB)));
    console.log(
      `  target >= ${TARGET_RATIO}x Evidently's rows/s on one core: ${met(rate)} (wall clock), ` +
        `${met(cpuRate)} (per CPU-second); our peak memory from the 1x to the 4x window: ` +
        `${small.toFixed(0)} -> ${large.toFixed(0)} MiB`,
    );

    // The PSI each computes: ours over the baseline's deciles, the same for the same distribution;
    // Evidently's over equal-width bins of the combined reference and window (Sturges' rule), which
    // move with the window's size and range. The 4x window is the 1x window four times over.
    const names = Object.keys(results[0].ours[0].psi);
    const psiRows = names.map((name) => [
      name,
      ...results.flatMap(({ ours }) => [ours[0].psi[name].toFixed(5)]),
      ...results.flatMap(({ evidently }) => [evidently[0].psi[name].toFixed(5)]),
    ]);
    console.log('\n  PSI per feature (the 4x window holds the 1x window four times: the same distribution)');
    console.log(
      table([
        [
          'feature',
          ...WINDOW_OBJECTS.map((n) => `ours ${n}x`),
          ...WINDOW_OBJECTS.map((n) => `Evidently ${n}x`),
        ],
        ...psiRows,
      ]),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) driftBench(process.argv.slice(2));
