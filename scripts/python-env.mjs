#!/usr/bin/env node
// Creates the project-local virtualenv (.venv) with the pinned Python tools when it is missing or
// when requirements-dev.txt changed since it was built. Idempotent and quiet when up to date.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const venv = join(root, '.venv');
const python = join(venv, 'bin', 'python');
const requirements = join(root, 'requirements-dev.txt');
const stamp = join(venv, '.requirements.sha256');
// requirements-dev.txt and every file it includes with `-r` (the step code's pins in
// ml/requirements.txt, the emulator's in requirements-emulator.txt) count.
function requirementFiles(file, seen = new Set()) {
  if (seen.has(file)) return [];
  seen.add(file);
  const includes = readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => /^\s*-r\s+(\S+)/.exec(line)?.[1])
    .filter(Boolean)
    .map((rel) => join(dirname(file), rel));
  return [file, ...includes.flatMap((f) => requirementFiles(f, seen))];
}
const hash = createHash('sha256');
for (const file of requirementFiles(requirements)) hash.update(readFileSync(file));
const wanted = hash.digest('hex');

if (existsSync(python) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === wanted) {
  process.exit(0);
}

function run(command, args) {
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], cwd: root });
  if (result.status !== 0) {
    console.error(
      `python-env: '${command} ${args.join(' ')}' failed (exit ${result.status ?? result.signal}).`,
    );
    if (result.error) console.error(result.error.message);
    process.exit(1);
  }
}

const systemPython = process.env.PYTHON ?? 'python3';
console.error(`python-env: installing the pinned Python tools into ${venv}`);
// A fresh environment every time the pins change: pip would leave packages that are no longer
// pinned installed, and the tests must run against exactly the pinned set.
rmSync(venv, { recursive: true, force: true });
run(systemPython, ['-m', 'venv', venv]);
run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', requirements]);
writeFileSync(stamp, wanted + '\n');
