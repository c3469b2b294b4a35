// Synth benchmark, timed the way users run synth: through the CDK CLI (`npx cdk synth`), with this
// repository's cdk.json. Three apps are synthesized, interleaved so that machine load hits each alike:
//   - the bare app: one bucket in one stack (bench/bare-app.ts), the cost every CDK app pays;
//   - the platform app, every environment (what `npm run synth` does);
//   - the platform app, one environment (`-c mlops:env=dev`).
// Each platform series is compared with the bare series of the same round, and the whole set runs
// twice: with aws-cdk-lib's built-in CloudFormation validation on (CDK's default, paid by both apps)
// and with CDK_VALIDATION=false in both, so that the platform's own share is visible.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TARGET_RATIO = 1.5;
const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx';

interface Series {
  readonly label: string;
  readonly args: string[];
}

const BARE: Series = {
  label: 'bare one-bucket app',
  args: ['--app', 'node -r esbuild-register bench/bare-app.ts'],
};
const PLATFORM: Series = { label: 'platform, every environment', args: [] };
const PLATFORM_DEV: Series = { label: 'platform, -c mlops:env=dev', args: ['-c', 'mlops:env=dev'] };

/** One `npx cdk synth` into a fresh output folder; returns the wall-clock seconds. */
function synthOnce(series: Series, validation: boolean): number {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-synth-'));
  const env = { ...process.env };
  if (validation) {
    delete env.CDK_VALIDATION;
  } else {
    env.CDK_VALIDATION = 'false';
  }
  const started = process.hrtime.bigint();
  // --no-notices on both sides: the notices lookup needs the network, which a benchmark must not time.
  const result = spawnSync(
    NPX,
    ['--no-install', 'cdk', 'synth', '--quiet', '--no-notices', '--output', outdir, ...series.args],
    { cwd: ROOT, encoding: 'utf8', env },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  fs.rmSync(outdir, { recursive: true, force: true });
  if (result.status !== 0) {
    throw new Error(`cdk synth of ${series.label} failed (exit ${result.status}):\n${result.stderr}`);
  }
  return seconds;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function measure(validation: boolean): Map<Series, number[]> {
  const all = [BARE, PLATFORM, PLATFORM_DEV];
  const times = new Map<Series, number[]>(all.map((s) => [s, []]));
  // One warm-up of each fills the OS file cache, which real users have too.
  all.forEach((s) => synthOnce(s, validation));
  for (let i = 0; i < RUNS; i++) {
    for (const s of all) {
      times.get(s)!.push(synthOnce(s, validation));
    }
  }
  return times;
}

const fmt = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');
console.log(`synth benchmark through the CDK CLI (npx cdk synth), ${RUNS} interleaved runs each, seconds`);
for (const validation of [true, false]) {
  const times = measure(validation);
  const bare = median(times.get(BARE)!);
  console.log(
    validation
      ? '\nbuilt-in CloudFormation validation on (CDK default)'
      : '\nCDK_VALIDATION=false in both (the platform share)',
  );
  for (const [series, xs] of times) {
    console.log(`  ${series.label.padEnd(30)}: median ${median(xs).toFixed(2)}  [${fmt(xs)}]`);
  }
  for (const series of [PLATFORM, PLATFORM_DEV]) {
    const ratio = median(times.get(series)!) / bare;
    const verdict = validation
      ? ` (target <= ${TARGET_RATIO}x: ${ratio <= TARGET_RATIO ? 'met' : 'NOT met'})`
      : '';
    console.log(`  ratio, ${series.label.padEnd(28)}: ${ratio.toFixed(2)}x${verdict}`);
  }
}
