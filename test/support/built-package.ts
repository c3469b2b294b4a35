import * as fs from 'fs';
import * as path from 'path';

export const ROOT = path.join(__dirname, '..', '..');
export const EXAMPLES_DIR = path.join(ROOT, 'examples');
const DIST_ENTRY = path.join(ROOT, 'dist', 'lib', 'index.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      newest = Math.max(newest, newestMtime(full));
    } else if (entry.name.endsWith('.ts')) {
      newest = Math.max(newest, fs.statSync(full).mtimeMs);
    }
  }
  return newest;
}

/** Throws when dist/ is missing or older than lib/: `npm test` builds it before jest runs. */
export function assertBuiltPackageIsFresh(): void {
  if (!fs.existsSync(DIST_ENTRY) || fs.statSync(DIST_ENTRY).mtimeMs < newestMtime(path.join(ROOT, 'lib'))) {
    throw new Error(`${DIST_ENTRY} is missing or older than lib/: run 'npm run build' (npm test does)`);
  }
}

/**
 * Makes `require('cdk-mlops-maturity')` from the examples resolve to the built package (dist/, as
 * a user's install has it), through examples/node_modules/cdk-mlops-maturity -> the repository.
 */
export function linkBuiltPackage(): void {
  assertBuiltPackageIsFresh();
  const modules = path.join(EXAMPLES_DIR, 'node_modules');
  const link = path.join(modules, 'cdk-mlops-maturity');
  fs.mkdirSync(modules, { recursive: true });
  if (!fs.existsSync(link)) {
    fs.symlinkSync(path.relative(modules, ROOT), link, 'dir');
  }
}
