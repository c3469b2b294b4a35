// Synth benchmark: the full platform app (every environment, cdk-nag, maturity report) against a
// bare one-bucket app, each started as its own process with the same runner (the one cdk.json uses)
// and CDK's default App settings (aws-cdk-lib's built-in CloudFormation validator on in both), runs interleaved so
// that machine load hits both alike. Prints the medians and their ratio; the target is <= 1.5x.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const TARGET_RATIO = 1.5;
const context = (JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { context: object })
  .context;

function synthOnce(entry: string): number {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-synth-'));
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, ['-r', 'esbuild-register', entry], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(context) },
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  fs.rmSync(outdir, { recursive: true, force: true });
  if (result.status !== 0) {
    throw new Error(`${entry} failed (exit ${result.status}):\n${result.stderr}`);
  }
  return seconds;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const platform: number[] = [];
const bare: number[] = [];
// One warm-up of each fills the OS file cache, which real users have too.
synthOnce('bench/bare-app.ts');
synthOnce('bin/app.ts');
for (let i = 0; i < RUNS; i++) {
  bare.push(synthOnce('bench/bare-app.ts'));
  platform.push(synthOnce('bin/app.ts'));
}

const ratio = median(platform) / median(bare);
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');
console.log(`synth benchmark (${RUNS} interleaved runs each, seconds)`);
console.log(`  bare one-bucket app : median ${median(bare).toFixed(2)}  [${fmt(bare)}]`);
console.log(`  platform app        : median ${median(platform).toFixed(2)}  [${fmt(platform)}]`);
console.log(
  `  synth ratio         : ${ratio.toFixed(2)}x (target <= ${TARGET_RATIO}x: ${ratio <= TARGET_RATIO ? 'met' : 'NOT met'})`,
);
