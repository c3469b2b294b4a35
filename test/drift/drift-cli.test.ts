import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { baselineJson } from './fixtures';

const ROOT = path.join(__dirname, '..', '..');

function cli(args: string[]) {
  const result = spawnSync(
    process.execPath,
    ['-r', require.resolve('esbuild-register'), path.join(ROOT, 'bin', 'drift.ts'), ...args],
    { cwd: ROOT, encoding: 'utf8' },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function line(data: string): string {
  return JSON.stringify({
    captureData: { endpointInput: { observedContentType: 'text/csv', mode: 'INPUT', data, encoding: 'CSV' } },
  });
}

let dir: string;
let baseline: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drift-cli-'));
  baseline = path.join(dir, 'baseline.json');
  fs.writeFileSync(baseline, JSON.stringify(baselineJson()));
  const capture = path.join(dir, 'capture', '2026', '12');
  fs.mkdirSync(capture, { recursive: true });
  fs.writeFileSync(path.join(capture, 'a.jsonl'), [line('0.5,132,1'), line('1,7,12'), 'oops'].join('\n'));
  fs.writeFileSync(
    path.join(capture, 'b.jsonl.gz'),
    zlib.gzipSync([line('10,5,20'), line('3,132,3')].join('\n')),
  );
  fs.writeFileSync(path.join(capture, 'notes.txt'), 'not capture');
  fs.mkdirSync(path.join(dir, 'empty'));
  fs.writeFileSync(path.join(dir, 'broken.json'), '{"schema_version": 1');
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('npm run drift (bin/drift.ts)', () => {
  test('--help prints the usage and exits 0', () => {
    const { status, stdout } = cli(['--help']);
    expect(status).toBe(0);
    expect(stdout).toMatch(/^Usage: npm run drift -- --baseline <baseline.json> --capture <file or folder>/);
  });

  test('bad usage exits 2 with the usage', () => {
    for (const [args, message] of [
      [['--capture', dir], /^Missing --baseline\./],
      [['--baseline', baseline], /^Missing --capture\./],
      [['--baseline', baseline, '--capture', dir, '--window', '1'], /Unknown option '--window'/],
      [
        ['--baseline', baseline, '--capture', dir, '--psi-threshold', 'high'],
        /--psi-threshold must be a positive/,
      ],
    ] as const) {
      const { status, stderr } = cli([...args]);
      expect(status).toBe(2);
      expect(stderr).toMatch(message);
      expect(stderr).toContain('Usage: npm run drift');
    }
  });

  test('an unreadable or invalid baseline exits 1 with a clear message', () => {
    expect(cli(['--baseline', path.join(dir, 'missing.json'), '--capture', dir])).toMatchObject({
      status: 1,
      stderr: expect.stringMatching(/^Cannot use the baseline .*missing\.json: ENOENT/),
    });
    expect(cli(['--baseline', path.join(dir, 'broken.json'), '--capture', dir])).toMatchObject({
      status: 1,
      stderr: expect.stringMatching(
        /baseline.json is not valid JSON .*; regenerate it with ml\/preprocess.py/,
      ),
    });
  });

  test('a missing capture exits 1', () => {
    expect(cli(['--baseline', baseline, '--capture', path.join(dir, 'nowhere')])).toMatchObject({
      status: 1,
      stderr: expect.stringMatching(/^Cannot read the capture .*nowhere/),
    });
  });

  test('reads plain and gzipped files of a folder and its subfolders; prints a table or JSON', () => {
    const table = cli(['--baseline', baseline, '--capture', path.join(dir, 'capture')]);
    expect(table.status).toBe(0);
    expect(table.stdout).toContain('rows 4 of 5 capture lines');
    expect(table.stdout).toContain('problems: malformedJson 1');
    expect(table.stdout).toMatch(/distance +numeric +\d+\.\d{4} +ks \d\.\d{4}/);
    expect(table.stdout).toMatch(/zone +categorical +\d+\.\d{4} +chi-square \d+\.\d{4}/);

    const json = cli([
      '--baseline',
      baseline,
      '--capture',
      path.join(dir, 'capture'),
      '--json',
      '--psi-threshold',
      '5',
    ]);
    expect(json.status).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ rows: 4, lines: 5, empty: false, psiThreshold: 5 });
    expect(report.problems.malformedJson).toBe(1);
    expect(Object.keys(report.features)).toEqual(['distance', 'zone', 'hour']);
  });

  test('an empty window is reported as such, exit 0', () => {
    const { status, stdout } = cli(['--baseline', baseline, '--capture', path.join(dir, 'empty')]);
    expect(status).toBe(0);
    expect(stdout).toContain('empty window: no statistics');
    const json = JSON.parse(
      cli(['--baseline', baseline, '--capture', path.join(dir, 'empty'), '--json']).stdout,
    );
    expect(json).toMatchObject({ rows: 0, empty: true, features: {}, driftedShare: null });
  });
});
