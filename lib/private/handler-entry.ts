import * as fs from 'fs';
import * as path from 'path';

/**
 * The TypeScript entry of a handler in `lambda/<name>/`, from source (`lib/...`) or from the built
 * package (`dist/lib/...`): the folder is found by walking up from this file.
 */
export function handlerEntry(name: string): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, 'lambda', name, 'index.ts');
    if (fs.existsSync(candidate)) {
      return candidate;
    }
    dir = path.dirname(dir);
  }
  return path.resolve(__dirname, '..', '..', 'lambda', name, 'index.ts');
}
