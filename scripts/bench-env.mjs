#!/usr/bin/env node
// Creates the benchmark's own virtualenv (.venv-bench) with Evidently and its pinned closure
// (requirements-bench.txt) when it is missing or when the pins changed since it was built. Kept
// apart from .venv: Evidently is heavy (about 1 GB installed) and only `npm run bench` needs it.
// Prints the venv's python on stdout; idempotent and otherwise quiet when up to date.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const venv = join(root, '.venv-bench');
const python = join(venv, 'bin', 'python');
const requirements = join(root, 'requirements-bench.txt');
const stamp = join(venv, '.requirements.sha256');
const wanted = createHash('sha256').update(readFileSync(requirements)).digest('hex');

function run(command, args) {
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], cwd: root });
  if (result.status !== 0) {
    console.error(
      `bench-env: '${command} ${args.join(' ')}' failed (exit ${result.status ?? result.signal}).`,
    );
    if (result.error) console.error(result.error.message);
    process.exit(1);
  }
}

if (!(existsSync(python) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === wanted)) {
  const systemPython = process.env.PYTHON ?? 'python3';
  console.error(`bench-env: installing Evidently and its pinned closure into ${venv} (once; about 1 GB)`);
  // A fresh environment whenever the pins change, so that it holds exactly the pinned set.
  rmSync(venv, { recursive: true, force: true });
  run(systemPython, ['-m', 'venv', venv]);
  run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', requirements]);
  writeFileSync(stamp, wanted + '\n');
}
process.stdout.write(python + '\n');
