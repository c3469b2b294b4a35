import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import {
  addCaptureLine,
  addCaptureObject,
  addGroundTruthLine,
  addGroundTruthObject,
  BinaryClassificationMetrics,
  emptyJoin,
  joinToJson,
  mergeAllJoins,
  mergeJoins,
  parseJoin,
  parseLabelLine,
  parsePredictionLine,
  QualityJoin,
  qualityReport,
  readLines,
} from '../../lambda/shared/quality';
import { captureLine, labelLine } from './fixtures';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('parsePredictionLine', () => {
  test.each([
    ['CSV', captureLine('i-1', '12.5')],
    ['CSV with a line break', captureLine('i-1', '12.5\n')],
    ['JSON number', captureLine('i-1', '12.5', { encoding: 'JSON', contentType: 'application/json' })],
    ['JSON string', captureLine('i-1', '"12.5"', { encoding: 'JSON', contentType: 'application/json' })],
    ['JSON array', captureLine('i-1', '[12.5]', { encoding: 'JSON', contentType: 'application/json' })],
    [
      'built-in algorithm JSON',
      captureLine('i-1', '{"predictions":[{"score":12.5}]}', {
        encoding: 'JSON',
        contentType: 'application/json',
      }),
    ],
    ['BASE64 of CSV', captureLine('i-1', b64('12.5'), { encoding: 'BASE64', contentType: 'text/csv' })],
    [
      'BASE64 of JSON',
      captureLine('i-1', b64('{"score":12.5}'), { encoding: 'BASE64', contentType: 'application/json' }),
    ],
  ])('%s', (_name, line) => {
    expect(parsePredictionLine(line, 'Regression')).toEqual({
      id: 'i-1',
      value: 12.5,
      inferenceTime: Date.UTC(2026, 11, 1, 9, 30),
    });
  });

  test("is keyed by the caller's inferenceId, else SageMaker's eventId", () => {
    expect(parsePredictionLine(captureLine('i-1', '1', { eventId: 'e-1' }), 'Regression')).toMatchObject({
      id: 'i-1',
    });
    expect(
      parsePredictionLine(captureLine(undefined, '1', { eventId: 'e-1', time: null }), 'Regression'),
    ).toEqual({ id: 'e-1', value: 1 });
  });

  test.each([
    ['malformedJson', '{"captureData": '],
    ['malformedJson', '[1, 2]'],
    ['missingId', captureLine(undefined, '1', { eventId: '' })],
    ['missingData', JSON.stringify({ captureData: {}, eventMetadata: { inferenceId: 'i' } })],
    ['unknownEncoding', captureLine('i', '1', { encoding: 'XML' })],
    ['unknownEncoding', captureLine('i', b64('1'), { encoding: 'BASE64', contentType: 'text/plain' })],
    ['malformedPayload', captureLine('i', '1,2')],
    ['malformedPayload', captureLine('i', '1\n2')],
    ['malformedPayload', captureLine('i', '[1,2]', { encoding: 'JSON' })],
    ['malformedPayload', captureLine('i', '{"probabilities":[1]}', { encoding: 'JSON' })],
    ['malformedPayload', captureLine('i', '{"score":', { encoding: 'JSON' })],
    ['malformedPayload', captureLine('i', '@@@', { encoding: 'BASE64', contentType: 'text/csv' })],
    ['nonNumericValue', captureLine('i', 'NaN')],
    ['nonNumericValue', captureLine('i', '1e999')],
    ['nonNumericValue', captureLine('i', 'null', { encoding: 'JSON' })],
    ['invalidTime', captureLine('i', '1', { time: 'yesterday' })],
  ])('%s: %s', (kind, line) => {
    expect(parsePredictionLine(line, 'Regression')).toBe(kind);
  });

  test('binary classification takes a score or a 0/1 label in [0, 1]', () => {
    expect(parsePredictionLine(captureLine('i', '0.73'), 'BinaryClassification')).toMatchObject({
      value: 0.73,
    });
    expect(parsePredictionLine(captureLine('i', '1'), 'BinaryClassification')).toMatchObject({ value: 1 });
    expect(parsePredictionLine(captureLine('i', '1.2'), 'BinaryClassification')).toBe('invalidClass');
    expect(parsePredictionLine(captureLine('i', '-0.1'), 'BinaryClassification')).toBe('invalidClass');
    expect(parsePredictionLine(captureLine('i', '1.2'), 'Regression')).toMatchObject({ value: 1.2 });
  });
});

describe('parseLabelLine', () => {
  test("SageMaker's ground-truth merge shape, with the optional labelTime", () => {
    expect(parseLabelLine(labelLine('i-1', '12.5'), 'Regression')).toEqual({ id: 'i-1', value: 12.5 });
    expect(
      parseLabelLine(labelLine('i-1', '12.5', { labelTime: '2026-12-02T08:00:00+01:00' }), 'Regression'),
    ).toEqual({ id: 'i-1', value: 12.5, labelTime: Date.UTC(2026, 11, 2, 7) });
    expect(parseLabelLine(labelLine('i-1', '12.5', { encoding: 'JSON' }), 'Regression')).toMatchObject({
      value: 12.5,
    });
    expect(parseLabelLine(labelLine('i-1', b64('12.5'), { encoding: 'BASE64' }), 'Regression')).toMatchObject(
      {
        value: 12.5,
      },
    );
  });

  test.each([
    ['malformedJson', 'not json'],
    ['missingId', JSON.stringify({ groundTruthData: { data: '1', encoding: 'CSV' }, eventMetadata: {} })],
    ['missingId', JSON.stringify({ groundTruthData: { data: '1', encoding: 'CSV' } })],
    ['missingData', JSON.stringify({ groundTruthData: { data: 1 }, eventMetadata: { eventId: 'i' } })],
    ['unknownEncoding', labelLine('i', '1', { encoding: 'PARQUET' })],
    ['malformedPayload', labelLine('i', '1,0')],
    ['nonNumericValue', labelLine('i', 'positive')],
    ['invalidTime', labelLine('i', '1', { labelTime: '2026-12-02' })],
  ])('%s: %s', (kind, line) => {
    expect(parseLabelLine(line, 'Regression')).toBe(kind);
  });

  test('binary classification labels are 0 or 1', () => {
    expect(parseLabelLine(labelLine('i', '1'), 'BinaryClassification')).toMatchObject({ value: 1 });
    expect(parseLabelLine(labelLine('i', '0.0'), 'BinaryClassification')).toMatchObject({ value: 0 });
    expect(parseLabelLine(labelLine('i', '0.5'), 'BinaryClassification')).toBe('invalidClass');
    expect(parseLabelLine(labelLine('i', '2'), 'BinaryClassification')).toBe('invalidClass');
  });
});

/** A join of lines: `c:` capture (id=value), `l:` label (id=value), `x:` a raw capture line. */
function joinOf(
  problemType: 'Regression' | 'BinaryClassification',
  lines: string[],
  objectTime?: Date,
): QualityJoin {
  const join = emptyJoin(problemType);
  for (const line of lines) {
    const [kind, rest] = [line.slice(0, 2), line.slice(2)];
    const [id, value] = rest.split('=');
    if (kind === 'c:') addCaptureLine(join, captureLine(id, value));
    else if (kind === 'l:') addGroundTruthLine(join, labelLine(id, value), objectTime);
    else addCaptureLine(join, rest);
  }
  return join;
}

describe('qualityReport: regression', () => {
  test('RMSE and MAE of the matched pairs (hand-computed)', () => {
    // Errors 1, -2, 3 (d gets no label, e no prediction): squares 1, 4, 9; RMSE = sqrt(14/3), MAE = 2.
    const report = qualityReport(
      joinOf('Regression', ['c:a=11', 'c:b=18', 'c:c=33', 'c:d=4', 'l:a=10', 'l:b=20', 'l:c=30', 'l:e=5']),
    );
    expect(report.metrics).toEqual({ rmse: Math.sqrt(14 / 3), mae: 2 });
    expect(report).toMatchObject({
      empty: false,
      predictions: 4,
      labels: 4,
      matchedLabels: 3,
      unmatchedLabels: 1,
      unmatchedPredictions: 1,
      lines: { capture: 4, groundTruth: 4 },
    });
  });

  test('duplicates: the first prediction and the first label of an id win, the others are counted', () => {
    // a: prediction 11 (then 99), label 10 (then 50): error 1. b: label before prediction, error -2.
    const report = qualityReport(
      joinOf('Regression', ['c:a=11', 'l:b=20', 'l:a=10', 'c:a=99', 'l:a=50', 'l:a=60', 'c:b=18']),
    );
    expect(report).toMatchObject({ duplicatePredictions: 1, duplicateLabels: 2, matchedLabels: 2 });
    expect(report.metrics).toEqual({ rmse: Math.sqrt(5 / 2), mae: 1.5 });
  });

  test('an empty window is a report with zero counts and no metrics, not an error', () => {
    const report = qualityReport(emptyJoin('Regression'));
    expect(report).toMatchObject({
      empty: true,
      matchedLabels: 0,
      unmatchedLabels: 0,
      unmatchedPredictions: 0,
      malformedLines: 0,
      metrics: { rmse: null, mae: null },
    });
    // Only predictions, or only labels: still empty.
    expect(qualityReport(joinOf('Regression', ['c:a=1'])).empty).toBe(true);
    expect(qualityReport(joinOf('Regression', ['l:a=1']))).toMatchObject({ empty: true, unmatchedLabels: 1 });
  });

  test('malformed lines are counted per source and in all, and left out', () => {
    const join = joinOf('Regression', ['x:{', 'x:{"eventMetadata":{"inferenceId":"a"}}', 'c:a=3']);
    addGroundTruthLine(join, 'nope');
    addGroundTruthLine(join, labelLine('a', 'n/a'));
    addGroundTruthLine(join, labelLine('a', '1'));
    const report = qualityReport(join);
    expect(report.malformed.capture).toMatchObject({ malformedJson: 1, missingData: 1 });
    expect(report.malformed.groundTruth).toMatchObject({ malformedJson: 1, nonNumericValue: 1 });
    expect(report).toMatchObject({ malformedLines: 4, matchedLabels: 1, duplicateLabels: 0 });
    expect(report.metrics).toEqual({ rmse: 2, mae: 2 });
  });
});

describe('qualityReport: late labels', () => {
  // The inference of captureLine is at 2026-12-01T09:30:00Z.
  const inference = Date.UTC(2026, 11, 1, 9, 30);
  const at = (seconds: number) => new Date(inference + seconds * 1000).toISOString();

  test("a label dated (labelTime, else its object's LastModified) after the allowance is late", () => {
    const join = emptyJoin('Regression');
    for (const id of ['a', 'b', 'c', 'd', 'e']) addCaptureLine(join, captureLine(id, '1'));
    addGroundTruthLine(join, labelLine('a', '1', { labelTime: at(86_400) })); // exactly the allowance
    addGroundTruthLine(join, labelLine('b', '1', { labelTime: at(86_401) })); // late
    addGroundTruthLine(join, labelLine('c', '1'), new Date(at(90_000))); // late by LastModified
    // labelTime wins over LastModified, both ways.
    addGroundTruthLine(join, labelLine('d', '1', { labelTime: at(60) }), new Date(at(90_000)));
    addGroundTruthLine(join, labelLine('e', '1', { labelTime: at(90_000) }), new Date(at(60)));
    expect(qualityReport(join).lateLabels).toBe(3);
    expect(qualityReport(join, { lateLabelAllowanceSeconds: 3600 }).lateLabels).toBe(4);
    expect(qualityReport(join, { lateLabelAllowanceSeconds: 100_000 }).lateLabels).toBe(0);
  });

  test('without a time on either side a label is not late; unmatched labels are never late', () => {
    const join = emptyJoin('Regression');
    addCaptureLine(join, captureLine('a', '1', { time: null }));
    addGroundTruthLine(join, labelLine('a', '1', { labelTime: at(10 * 86_400) }));
    addCaptureLine(join, captureLine('b', '1'));
    addGroundTruthLine(join, labelLine('b', '1'));
    addGroundTruthLine(join, labelLine('z', '1', { labelTime: at(10 * 86_400) }));
    expect(qualityReport(join)).toMatchObject({ lateLabels: 0, matchedLabels: 2, unmatchedLabels: 1 });
  });
});

describe('qualityReport: binary classification', () => {
  test('accuracy, F1, precision and recall at the 0.5 threshold (hand-computed)', () => {
    // scores → predicted: 0.9→1, 0.6→1, 0.5→0 (not above), 0.2→0, 1→1, 0→0
    // labels:              1      0      1              0      1     1
    // TP 2 (0.9, 1), FP 1 (0.6), FN 2 (0.5, 0), TN 1 (0.2)
    const join = joinOf('BinaryClassification', [
      'c:a=0.9', 'c:b=0.6', 'c:c=0.5', 'c:d=0.2', 'c:e=1', 'c:f=0',
      'l:a=1', 'l:b=0', 'l:c=1', 'l:d=0', 'l:e=1', 'l:f=1',
    ]); // prettier-ignore
    const metrics = qualityReport(join).metrics as BinaryClassificationMetrics;
    expect(metrics).toEqual({
      probabilityThreshold: 0.5,
      accuracy: 3 / 6,
      f1: 4 / 7,
      precision: 2 / 3,
      recall: 2 / 4,
      truePositives: 2,
      falsePositives: 1,
      trueNegatives: 1,
      falseNegatives: 2,
    });
    // A lower threshold moves 0.5 to the positive side: TP 3, FN 1.
    expect(qualityReport(join, { probabilityThreshold: 0.4 }).metrics).toMatchObject({
      accuracy: 4 / 6,
      f1: 6 / 8,
      truePositives: 3,
    });
  });

  test('F1 is null when there is no positive label or prediction; accuracy still counts', () => {
    const metrics = qualityReport(joinOf('BinaryClassification', ['c:a=0.1', 'c:b=0.2', 'l:a=0', 'l:b=0']))
      .metrics as BinaryClassificationMetrics;
    expect(metrics).toMatchObject({ accuracy: 1, f1: null, precision: null, recall: null, trueNegatives: 2 });
  });

  test('invalid options are refused naming the option', () => {
    const join = emptyJoin('BinaryClassification');
    expect(() => qualityReport(join, { probabilityThreshold: 1 })).toThrow(/probabilityThreshold.*not 1/);
    expect(() => qualityReport(join, { lateLabelAllowanceSeconds: -1 })).toThrow(/lateLabelAllowanceSeconds/);
    expect(() => qualityReport([])).toThrow(/at least one join/);
  });
});

describe('merging joins', () => {
  const lines = [
    'c:a=11', 'l:z=1', 'c:b=18', 'l:a=10', 'c:a=12', 'x:{', 'l:b=20', 'c:c=33', 'l:a=70',
    'l:c=30', 'c:d=4', 'l:b=21', 'c:z=2', 'c:c=34', 'l:e=5',
  ]; // prettier-ignore

  test.each([[1], [2], [3], [5], [7], [14]])(
    'the joins of consecutive parts (cut after line %i), merged, equal one pass',
    (cut) => {
      const whole = joinOf('Regression', lines);
      const merged = mergeJoins(
        joinOf('Regression', lines.slice(0, cut)),
        joinOf('Regression', lines.slice(cut)),
      );
      expect(joinToJson(merged)).toEqual(joinToJson(whole));
      expect(qualityReport(merged)).toEqual(qualityReport(whole));
    },
  );

  test('any grouping of the parts gives the same join (associative), one line per part', () => {
    const parts = lines.map((line) => joinOf('Regression', [line]));
    const left = parts.reduce((a, b) => mergeJoins(a, b));
    const right = parts.reduceRight((b, a) => mergeJoins(a, b));
    const whole = joinToJson(joinOf('Regression', lines));
    expect(joinToJson(left)).toEqual(whole);
    expect(joinToJson(right)).toEqual(whole);
    expect(joinToJson(mergeAllJoins('Regression', parts))).toEqual(whole);
    expect(qualityReport(parts)).toEqual(qualityReport(joinOf('Regression', lines)));
  });

  test('the counts of this fixture are what a reader expects', () => {
    // a, b, c, z matched (d: no label, e: no prediction); a and c predicted twice, a and b labelled twice.
    expect(qualityReport(joinOf('Regression', lines))).toMatchObject({
      matchedLabels: 4,
      unmatchedLabels: 1,
      unmatchedPredictions: 1,
      duplicatePredictions: 2,
      duplicateLabels: 2,
      malformedLines: 1,
    });
  });

  test('merging leaves its inputs as they were', () => {
    const a = joinOf('Regression', ['c:a=1']);
    const b = joinOf('Regression', ['l:a=2', 'c:a=3']);
    const before = [joinToJson(a), joinToJson(b)];
    mergeJoins(a, b);
    mergeAllJoins('Regression', [a, b]);
    expect([joinToJson(a), joinToJson(b)]).toEqual(before);
  });

  test('joins of different problem types are not merged', () => {
    expect(() => mergeJoins(emptyJoin('Regression'), emptyJoin('BinaryClassification'))).toThrow(
      /different problem types/,
    );
  });

  test('the JSON keeps the order ids were seen in, integer-like ids included', () => {
    const join = joinOf('Regression', ['c:10=1', 'c:2=1', 'c:b=1', 'c:1=1']);
    const json = JSON.parse(JSON.stringify(joinToJson(join)));
    expect(json.entries.map((e: unknown[]) => e[0])).toEqual(['10', '2', 'b', '1']);
    expect(joinToJson(parseJoin(json))).toEqual(joinToJson(join));
  });

  test.each([
    [(j: Json) => (j.version = 2), /version 1/],
    [(j: Json) => (j.problemType = 'Multiclass'), /problemType/],
    [(j: Json) => (j.entries[0] = ['a', 1]), /entries\[0\] must be/],
    [(j: Json) => j.entries.push(['a', 1, null, null, null]), /entries\[1\].*new id/],
    [(j: Json) => (j.entries[0][1] = 'x'), /entries\[0\]\[1\] must be a finite number/],
    [(j: Json) => (j.entries[0] = ['a', null, 5, null, null]), /neither a prediction nor a label/],
    [(j: Json) => (j.duplicateLabels = -1), /duplicateLabels must be a count/],
    [(j: Json) => (j.malformed.capture.malformedJson = 0.5), /malformed.capture.malformedJson/],
  ])('a broken join JSON is refused, naming the field (%#)', (breakIt, message) => {
    const json = JSON.parse(JSON.stringify(joinToJson(joinOf('Regression', ['c:a=1']))));
    breakIt(json);
    expect(() => parseJoin(json)).toThrow(message);
  });
});

describe('reading objects', () => {
  const text = [captureLine('a', '11'), '', captureLine('b', '18'), '{broken'].join('\r\n');

  test('plain and gzipped JSON Lines give the same join, whatever the chunking', async () => {
    const plain = emptyJoin('Regression');
    await addCaptureObject(plain, Readable.from([Buffer.from(text)]));
    const gzipped = emptyJoin('Regression');
    const bytes = zlib.gzipSync(text);
    // One byte per chunk: the gzip magic and the lines both span chunks.
    await addCaptureObject(gzipped, Readable.from([...bytes].map((b) => Buffer.from([b]))));
    expect(joinToJson(gzipped)).toEqual(joinToJson(plain));
    expect(plain).toMatchObject({ captureLines: 3 });
    expect(plain.malformed.capture.malformedJson).toBe(1);
  });

  test('lines and multi-byte characters that span chunks are read whole', async () => {
    const lines: string[] = [];
    const body = Buffer.from('{"a":"é"}\n\n{"b":"€"}');
    await readLines(Readable.from([...body].map((b) => Buffer.from([b]))), (line) => lines.push(line));
    expect(lines).toEqual(['{"a":"é"}', '{"b":"€"}']);
  });

  test('an empty object adds nothing', async () => {
    const join = emptyJoin('Regression');
    await addGroundTruthObject(join, Readable.from([]));
    expect(joinToJson(join)).toEqual(joinToJson(emptyJoin('Regression')));
  });

  test('a ground-truth object dates its labels with its LastModified', async () => {
    const join = emptyJoin('Regression');
    addCaptureLine(join, captureLine('a', '1'));
    await addGroundTruthObject(join, Readable.from([labelLine('a', '1')]), new Date('2026-12-03T00:00:00Z'));
    expect(qualityReport(join).lateLabels).toBe(1);
  });

  test('a corrupt gzip is counted as unreadable, its lines before the damage kept', async () => {
    const bytes = zlib.gzipSync([captureLine('a', '1'), captureLine('b', '2')].join('\n'));
    const truncated = bytes.subarray(0, bytes.length - 12);
    const join = emptyJoin('Regression');
    await addCaptureObject(join, Readable.from([truncated]));
    await addGroundTruthObject(join, Readable.from([Buffer.from([0x1f, 0x8b, 1, 2, 3, 4])]));
    expect(join.unreadableObjects).toBe(2);
    expect(qualityReport(join).unreadableObjects).toBe(2);
  });

  test('a failing stream (network, S3) rejects, so that the job can be retried', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('socket hang up'));
      },
    });
    await expect(addCaptureObject(emptyJoin('Regression'), failing)).rejects.toThrow(/socket hang up/);
  });
});
