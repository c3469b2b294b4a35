// npm run bench [-- --drift-lines <lines>] [--only synth|drift]
// The synth benchmark (bench/synth.bench.ts) and the drift benchmark (bench/drift.bench.ts), one
// after the other in one run, so that they report on the same machine under the same load.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { driftBench } from './drift.bench';

const argv = process.argv.slice(2);
const { values } = parseArgs({
  args: argv,
  options: { only: { type: 'string' }, 'drift-lines': { type: 'string' } },
  strict: true,
  allowPositionals: false,
});
const only = values.only;
if (only !== undefined && only !== 'synth' && only !== 'drift') {
  console.error(`--only must be synth or drift, not '${only}'`);
  process.exit(2);
}
if (only !== 'drift') {
  const synth = spawnSync(
    process.execPath,
    ['-r', 'esbuild-register', path.join(__dirname, 'synth.bench.ts')],
    { stdio: 'inherit', cwd: path.join(__dirname, '..') },
  );
  if (synth.status !== 0) process.exit(synth.status ?? 1);
}
if (only !== 'synth') driftBench(argv);
