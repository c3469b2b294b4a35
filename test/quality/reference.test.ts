import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  addCaptureObject,
  addGroundTruthObject,
  emptyJoin,
  joinToJson,
  MALFORMED_KINDS,
  parseJoin,
  ProblemType,
  QualityJoin,
  qualityReport,
} from '../../lambda/shared/quality';

const ROOT = path.join(__dirname, '..', '..');
const PYTHON = path.join(ROOT, '.venv', 'bin', 'python');
const TOLERANCE = 1e-9;

interface ExpectedWindow {
  objectTimes: Record<string, string>;
  captureFiles: string[];
  groundTruthFiles: string[];
  lines: { capture: number; groundTruth: number };
  matchedLabels: number;
  unmatchedLabels: number;
  unmatchedPredictions: number;
  duplicatePredictions: number;
  duplicateLabels: number;
  lateLabels: number;
  malformed: { capture: Record<string, number>; groundTruth: Record<string, number> };
  metrics: Record<string, number>;
}

let dir: string;
let expected: Record<string, ExpectedWindow>;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quality-reference-'));
  const result = spawnSync(PYTHON, [path.join(__dirname, 'reference.py'), dir], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`reference.py failed: ${result.stderr}`);
  expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8'));
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** One join per file, in the order a window is read: captures, then labels. */
async function joinsPerFile(window: string, problemType: ProblemType): Promise<QualityJoin[]> {
  const want = expected[window];
  const joins: QualityJoin[] = [];
  for (const file of want.captureFiles) {
    const join = emptyJoin(problemType);
    await addCaptureObject(join, fs.createReadStream(path.join(dir, window, 'capture', file)));
    joins.push(join);
  }
  for (const file of want.groundTruthFiles) {
    const join = emptyJoin(problemType);
    const lastModified = new Date(want.objectTimes[file]);
    await addGroundTruthObject(
      join,
      fs.createReadStream(path.join(dir, window, 'ground-truth', file)),
      lastModified,
    );
    joins.push(join);
  }
  return joins;
}

async function onePass(window: string, problemType: ProblemType): Promise<QualityJoin> {
  const want = expected[window];
  const join = emptyJoin(problemType);
  for (const file of want.captureFiles) {
    await addCaptureObject(join, fs.createReadStream(path.join(dir, window, 'capture', file)));
  }
  for (const file of want.groundTruthFiles) {
    await addGroundTruthObject(
      join,
      fs.createReadStream(path.join(dir, window, 'ground-truth', file)),
      new Date(want.objectTimes[file]),
    );
  }
  return join;
}

describe.each<[string, ProblemType]>([
  ['regression', 'Regression'],
  ['binary', 'BinaryClassification'],
])('the %s window', (window, problemType) => {
  test('agrees with numpy: metrics within 1e-9, every counter exactly', async () => {
    const report = qualityReport(await onePass(window, problemType));
    const want = expected[window];
    expect(report).toMatchObject({
      lines: want.lines,
      matchedLabels: want.matchedLabels,
      unmatchedLabels: want.unmatchedLabels,
      unmatchedPredictions: want.unmatchedPredictions,
      duplicatePredictions: want.duplicatePredictions,
      duplicateLabels: want.duplicateLabels,
      lateLabels: want.lateLabels,
      unreadableObjects: 0,
    });
    for (const source of ['capture', 'groundTruth'] as const) {
      expect(report.malformed[source]).toEqual(
        Object.fromEntries(MALFORMED_KINDS.map((kind) => [kind, want.malformed[source][kind] ?? 0])),
      );
    }
    const metrics = report.metrics as unknown as Record<string, number>;
    for (const [name, value] of Object.entries(want.metrics)) {
      if (Number.isInteger(value)) expect(metrics[name]).toBe(value);
      else expect(Math.abs(metrics[name] - value)).toBeLessThan(TOLERANCE);
    }
    // The fixture exercises what it claims to.
    expect(want.lateLabels).toBeGreaterThan(0);
    expect(want.lateLabels).toBeLessThan(want.matchedLabels);
  });

  test('merging the joins of its objects, through JSON, equals one pass', async () => {
    const single = qualityReport(await onePass(window, problemType));
    const parts = (await joinsPerFile(window, problemType)).map((j) =>
      parseJoin(JSON.parse(JSON.stringify(joinToJson(j)))),
    );
    expect(qualityReport(parts)).toEqual(single);
    // Captures and labels interleaved (a batch may hold both): only each side's own order matters.
    const [c0, c1, c2, g0, g1, g2] = parts;
    expect(qualityReport([g0, c0, c1, g1, c2, g2])).toEqual(single);
  });
});
