import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  driftReport,
  DriftHistogram,
  histogramOfCapture,
  parseBaselineText,
  PROBLEM_KINDS,
} from '../../lambda/shared/drift';

const ROOT = path.join(__dirname, '..', '..');
const PYTHON = path.join(ROOT, '.venv', 'bin', 'python');
const TOLERANCE = 1e-9;

interface ExpectedFeature {
  type: string;
  psi: number;
  ks?: number;
  chiSquare?: number;
  counts: number[];
}
interface ExpectedWindow {
  rows: number;
  problems: Record<string, number>;
  features: Record<string, ExpectedFeature>;
}

let dir: string;
let expected: Record<string, ExpectedWindow>;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drift-reference-'));
  const result = spawnSync(PYTHON, [path.join(__dirname, 'reference.py'), dir], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`reference.py failed: ${result.stderr}`);
  expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8'));
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function files(folder: string): string[] {
  return fs
    .readdirSync(folder, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(path.join(folder, e.name)) : [path.join(folder, e.name)]));
}

describe.each(['no-drift', 'drift', 'empty-bins'])('the %s window', (window) => {
  test('agrees with numpy within 1e-9, merged from its capture objects', async () => {
    const baseline = parseBaselineText(fs.readFileSync(path.join(dir, 'baseline.json'), 'utf8'));
    const histograms: DriftHistogram[] = [];
    for (const file of files(path.join(dir, 'windows', window))) {
      histograms.push(await histogramOfCapture(fs.createReadStream(file), baseline));
    }
    expect(histograms.length).toBe(3);
    const report = driftReport(baseline, histograms);
    const want = expected[window];
    expect(report.rows).toBe(want.rows);
    expect(report.problems).toEqual(
      Object.fromEntries(PROBLEM_KINDS.map((kind) => [kind, want.problems[kind] ?? 0])),
    );
    expect(Object.keys(report.features).sort()).toEqual(Object.keys(want.features).sort());
    for (const [name, feature] of Object.entries(want.features)) {
      const got = report.features[name];
      expect(got.type).toBe(feature.type);
      expect(Math.abs(got.psi - feature.psi)).toBeLessThan(TOLERANCE);
      if (got.type === 'numeric') expect(Math.abs(got.ks - feature.ks!)).toBeLessThan(TOLERANCE);
      else expect(Math.abs(got.chiSquare - feature.chiSquare!)).toBeLessThan(TOLERANCE);
    }
    if (window === 'empty-bins') {
      expect(expected[window].features.trip_distance.counts.filter((c) => c === 0).length).toBeGreaterThan(5);
    }
    if (window === 'drift') {
      expect(report.features.trip_distance.drifted).toBe(true);
      expect(report.features.PULocationID.drifted).toBe(true);
    }
    if (window === 'no-drift') expect(report.driftedShare).toBe(0);
  });
});
