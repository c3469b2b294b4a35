import * as zlib from 'node:zlib';
import { Readable } from 'node:stream';
import {
  addParse,
  Baseline,
  BaselineError,
  binnedKs,
  binOf,
  chiSquare,
  driftReport,
  emptyHistogram,
  histogramOfCapture,
  merge,
  mergeAll,
  noProblems,
  parseBaseline,
  parseCaptureLine,
  parseHistogram,
  psi,
  PSI_EPSILON,
} from '../../lambda/shared/drift';
import { baselineJson } from './fixtures';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const BASELINE: Baseline = parseBaseline(baselineJson());

function line(data: string, encoding = 'CSV', contentType = 'text/csv'): string {
  return JSON.stringify({
    captureData: {
      endpointInput: { observedContentType: contentType, mode: 'INPUT', data, encoding },
      endpointOutput: {
        observedContentType: 'text/csv; charset=utf-8',
        mode: 'OUTPUT',
        data: '14.7',
        encoding: 'CSV',
      },
    },
    eventMetadata: { eventId: 'e', inferenceId: 'i', inferenceTime: '2026-12-01T10:00:00Z' },
    eventVersion: '0',
  });
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('parseBaseline', () => {
  test('reads features in feature_order, with inner edges and categories', () => {
    expect(BASELINE.features.map((f) => [f.name, f.kind])).toEqual([
      ['distance', 'numeric'],
      ['zone', 'categorical'],
      ['hour', 'numeric'],
    ]);
    expect(BASELINE.features[0]).toMatchObject({
      innerEdges: [1, 2, 5],
      proportions: [0.25, 0.25, 0.25, 0.25],
    });
    expect(BASELINE.features[1]).toMatchObject({
      categories: ['7', '132'],
      proportions: [0.3, 0.5],
      other: 0.2,
    });
  });

  test.each([
    [
      (b: Json) => delete b.feature_order,
      /feature_order must list the model input columns.*current ml\/preprocess.py/,
    ],
    [(b: Json) => (b.schema_version = 2), /schema_version is 2, this engine reads version 1/],
    [
      (b: Json) => (b.features.distance.bin_edges = [0, 1, 2, 5, null]),
      /features.distance.bin_edges must start and end with null/,
    ],
    [
      (b: Json) => (b.features.distance.bin_edges = [null, 2, 1, 5, null]),
      /features.distance.bin_edges must increase strictly/,
    ],
    [
      (b: Json) => (b.features.distance.proportions = [0.5, 0.5]),
      /features.distance.proportions must be a list of 4 shares/,
    ],
    [(b: Json) => (b.features.hour.proportions = [0.5, 0.6]), /features.hour.proportions must sum to 1/],
    [(b: Json) => (b.features.zone.other = 'x'), /features.zone.other must be a finite number/],
    [(b: Json) => (b.features.zone.type = 'text'), /features.zone.type must be "numeric" or "categorical"/],
    [(b: Json) => b.feature_order.pop(), /feature_order does not list the features hour/],
    [(b: Json) => b.feature_order.push('fare'), /features.fare is missing, but feature_order lists it/],
  ])('rejects a broken baseline, naming the field and the fix (%#)', (breakIt, message) => {
    const body = baselineJson();
    breakIt(body);
    expect(() => parseBaseline(body)).toThrow(BaselineError);
    expect(() => parseBaseline(body)).toThrow(message);
    expect(() => parseBaseline(body)).toThrow(/regenerate/);
  });
});

describe('parseCaptureLine', () => {
  const row = [3.5, '132', 9];
  test.each([
    ['CSV', line('3.5,132,9')],
    ['CSV with a fractional category', line('3.5, 132.0 ,9')],
    ['JSON array', line('[3.5,132,9]', 'JSON', 'application/json')],
    ['JSON object', line('{"hour":9,"distance":3.5,"zone":"132","extra":1}', 'JSON', 'application/json')],
    ['BASE64 of CSV', line(b64('3.5,132,9'), 'BASE64', 'text/csv')],
    ['BASE64 of JSON', line(b64('[3.5,132,9]'), 'BASE64', 'application/json')],
  ])('%s', (_name, text) => {
    expect(parseCaptureLine(text, BASELINE)).toEqual({ rows: [row], problems: [], inferenceId: 'i' });
  });

  test('several records in one request', () => {
    expect(parseCaptureLine(line('1,7,1\n2,8,13\n'), BASELINE).rows).toEqual([
      [1, '7', 1],
      [2, '8', 13],
    ]);
    expect(parseCaptureLine(line('[[1,7,1],[2,8]]', 'JSON', 'application/json'), BASELINE)).toEqual({
      rows: [[1, '7', 1]],
      problems: ['wrongFieldCount'],
      inferenceId: 'i',
    });
  });

  test("the request's inferenceId comes with its parse, when it is a string", () => {
    expect(parseCaptureLine(line('1,2'), BASELINE)).toEqual({
      rows: [],
      problems: ['wrongFieldCount'],
      inferenceId: 'i',
    });
    const record = JSON.parse(line('1,7,1'));
    delete record.eventMetadata.inferenceId;
    expect(parseCaptureLine(JSON.stringify(record), BASELINE)).not.toHaveProperty('inferenceId');
    record.eventMetadata.inferenceId = 42;
    expect(parseCaptureLine(JSON.stringify(record), BASELINE)).not.toHaveProperty('inferenceId');
  });

  test.each([
    ['not JSON', '{"captureData":', 'malformedJson'],
    ['no captureData', JSON.stringify({ eventMetadata: {} }), 'missingCaptureData'],
    [
      'no data',
      JSON.stringify({ captureData: { endpointInput: { encoding: 'CSV' } } }),
      'missingCaptureData',
    ],
    ['unknown encoding', line('3.5,132,9', 'PROTOBUF'), 'unknownEncoding'],
    ['BASE64 of an unknown content type', line(b64('x'), 'BASE64', 'application/x-npy'), 'unknownEncoding'],
    ['invalid base64', line('@@@', 'BASE64', 'text/csv'), 'malformedPayload'],
    ['invalid JSON payload', line('[3.5,', 'JSON', 'application/json'), 'malformedPayload'],
    ['a JSON scalar', line('3.5', 'JSON', 'application/json'), 'malformedPayload'],
    ['too few fields', line('3.5,132'), 'wrongFieldCount'],
    ['too many fields', line('3.5,132,9,1'), 'wrongFieldCount'],
    ['an empty payload', line(''), 'wrongFieldCount'],
    [
      'an object missing a feature',
      line('{"distance":1,"zone":7}', 'JSON', 'application/json'),
      'wrongFieldCount',
    ],
    ['a non-numeric numeric value', line('abc,132,9'), 'nonNumericValue'],
    ['an empty numeric value', line(',132,9'), 'nonNumericValue'],
    ['a JSON null numeric value', line('[null,132,9]', 'JSON', 'application/json'), 'nonNumericValue'],
    ['an empty category', line('3.5,,9'), 'missingValue'],
  ])('%s is counted as %s', (_name, text, problem) => {
    expect(parseCaptureLine(text, BASELINE)).toMatchObject({ rows: [], problems: [problem] });
  });
});

describe('histograms', () => {
  test('numeric bins follow numpy.histogram: left-closed, right-open, open ends', () => {
    const edges = [1, 2, 5];
    expect([-1e300, 0.999, 1, 1.5, 2, 4.99, 5, 1e300].map((v) => binOf(edges, v))).toEqual([
      0, 0, 1, 1, 2, 2, 3, 3,
    ]);
  });

  const lines = [
    line('0.5,132,1'),
    line('1,7,12'),
    line('[2,99,23]', 'JSON', 'application/json'),
    line(b64('5,132,0'), 'BASE64', 'text/csv'),
    'not json',
    line('1,2'),
    line('x,7,1'),
    line('7,7,13\n8,132,14'),
  ];

  function histogramOf(part: string[]) {
    const histogram = emptyHistogram(BASELINE);
    for (const text of part) addParse(histogram, BASELINE, parseCaptureLine(text, BASELINE));
    return histogram;
  }

  test('counts rows per bin and category, and problems per class', () => {
    expect(histogramOf(lines)).toEqual({
      version: 1,
      lines: 8,
      rows: 6,
      problems: { ...noProblems(), malformedJson: 1, wrongFieldCount: 1, nonNumericValue: 1 },
      features: { distance: [1, 1, 1, 3], zone: [2, 3, 1], hour: [2, 4] },
    });
  });

  test('merging the histograms of a window split into parts equals the single pass exactly', () => {
    const whole = histogramOf(lines);
    const parts = [lines.slice(0, 1), lines.slice(1, 4), lines.slice(4, 5), lines.slice(5)].map(histogramOf);
    // Through JSON, as the distributed map hands them over.
    const readBack = parts.map((p) => parseHistogram(JSON.parse(JSON.stringify(p)), BASELINE));
    expect(mergeAll(BASELINE, readBack)).toEqual(whole);
    expect(merge(merge(readBack[3], readBack[0]), merge(readBack[2], readBack[1]))).toEqual(whole);
    expect(driftReport(BASELINE, readBack)).toEqual(driftReport(BASELINE, whole));
  });

  test('histograms of another baseline are not merged, nor read back', () => {
    const other = parseBaseline({
      ...baselineJson(),
      feature_order: ['distance', 'zone'],
      features: {
        distance: (baselineJson() as Json).features.distance,
        zone: (baselineJson() as Json).features.zone,
      },
    });
    expect(() => merge(emptyHistogram(BASELINE), emptyHistogram(other))).toThrow(/different baselines/);
    expect(() => parseHistogram(emptyHistogram(other), BASELINE)).toThrow(/features.hour must hold 2 counts/);
    expect(() => parseHistogram({ ...emptyHistogram(BASELINE), rows: 1.5 }, BASELINE)).toThrow(
      /rows must be a count/,
    );
  });

  test('reads plain and gzipped capture objects by their magic bytes', async () => {
    const text = lines.join('\n') + '\n\n';
    const plain = await histogramOfCapture(Readable.from([Buffer.from(text)]), BASELINE);
    const gzip = zlib.gzipSync(Buffer.from(text));
    // One byte at a time: the magic bytes span chunks.
    const gzipped = await histogramOfCapture(
      Readable.from([...gzip].map((byte) => Buffer.from([byte]))),
      BASELINE,
    );
    expect(plain).toEqual(histogramOf(lines));
    expect(gzipped).toEqual(plain);
    expect(await histogramOfCapture(Readable.from([]), BASELINE)).toEqual(emptyHistogram(BASELINE));
  });

  test('a corrupt gzip object rejects', async () => {
    const gzip = zlib.gzipSync(Buffer.from(lines.join('\n')));
    const corrupt = Buffer.concat([gzip.subarray(0, 12), Buffer.alloc(40, 7)]);
    await expect(histogramOfCapture(Readable.from([corrupt]), BASELINE)).rejects.toThrow();
  });

  test.each([
    ['plain', Buffer.from(lines.join('\n'))],
    ['gzipped', zlib.gzipSync(Buffer.from(lines.join('\n')))],
  ])('a %s object whose stream fails midway rejects with the stream error', async (_name, bytes) => {
    async function* failing() {
      yield bytes.subarray(0, 10);
      yield bytes.subarray(10, 20);
      throw new Error('connection reset');
    }
    await expect(histogramOfCapture(Readable.from(failing()), BASELINE)).rejects.toThrow('connection reset');
  });
});

describe('statistics', () => {
  test('PSI replaces zero shares by the epsilon on both sides', () => {
    expect(psi([0.5, 0.5], [0.5, 0.5])).toBe(0);
    const expected = (1 - 0.5) * Math.log(1 / 0.5) + (PSI_EPSILON - 0.5) * Math.log(PSI_EPSILON / 0.5);
    expect(psi([0.5, 0.5], [1, 0])).toBeCloseTo(expected, 12);
    expect(Number.isFinite(psi([0, 1], [1, 0]))).toBe(true);
  });

  test('binned KS is the largest gap between the cumulative shares at the inner edges', () => {
    expect(binnedKs([0.25, 0.25, 0.25, 0.25], [0, 0, 0.5, 0.5])).toBeCloseTo(0.5, 12);
  });

  test('chi-square skips cells empty on both sides', () => {
    // E = 5, 5, 0: (8-5)²/5 + (2-5)²/5
    expect(chiSquare([0.5, 0.5, 0], [8, 2, 0])).toBeCloseTo(3.6, 12);
  });

  test('a report per feature and the share of drifted features', () => {
    const histogram = emptyHistogram(BASELINE);
    for (let i = 0; i < 100; i++) {
      addParse(
        histogram,
        BASELINE,
        parseCaptureLine(line(`${i % 2 === 0 ? 10 : 0.5},${i % 2 ? 132 : 7},${i % 24}`), BASELINE),
      );
    }
    const report = driftReport(BASELINE, histogram, { psiThreshold: 0.2 });
    expect(report).toMatchObject({ rows: 100, empty: false, psiThreshold: 0.2, epsilon: 1e-4 });
    expect(Object.keys(report.features)).toEqual(['distance', 'zone', 'hour']);
    expect(report.features.distance).toMatchObject({ type: 'numeric', drifted: true });
    expect(report.features.zone).toMatchObject({ type: 'categorical', drifted: true });
    expect(report.features.hour).toMatchObject({ type: 'numeric', drifted: false });
    expect(report.features.zone).toHaveProperty('chiSquare');
    expect(report.features.distance).toHaveProperty('ks');
    expect(report.driftedShare).toBeCloseTo(2 / 3, 12);
  });

  test('an empty window has no statistics, and does not throw', () => {
    const histogram = emptyHistogram(BASELINE);
    addParse(histogram, BASELINE, parseCaptureLine('garbage', BASELINE));
    expect(driftReport(BASELINE, histogram)).toEqual({
      rows: 0,
      lines: 1,
      empty: true,
      problems: { ...noProblems(), malformedJson: 1 },
      psiThreshold: 0.2,
      epsilon: 1e-4,
      features: {},
      driftedShare: null,
    });
    expect(driftReport(BASELINE, []).empty).toBe(true);
  });
});
