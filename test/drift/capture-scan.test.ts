import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { Readable } from 'node:stream';
import { isDeepStrictEqual } from 'node:util';
import * as zlib from 'node:zlib';
import {
  addParse,
  Baseline,
  CaptureParse,
  emptyHistogram,
  CAPTURE_FILE_READ_BYTES,
  histogramOfCapture,
  openCaptureFile,
  parseBaseline,
  parseCaptureBytes,
  parseCaptureLine,
  readCapture,
  readCaptureLines,
  scanCaptureLine,
} from '../../lambda/shared/drift';
import { baselineJson } from './fixtures';

// The fixture baseline's model input order: distance (numeric), zone (categorical), hour (numeric).
const BASELINE: Baseline = parseBaseline(baselineJson());

/** A record as a real-time endpoint writes it, byte for byte: no whitespace, keys in this order. */
function sagemaker(data: string, options: { inferenceId?: string | null; output?: boolean } = {}): string {
  const input = `{"observedContentType":"text/csv","mode":"INPUT","data":"${data}","encoding":"CSV"}`;
  const output =
    options.output === false
      ? ''
      : ',"endpointOutput":{"observedContentType":"text/csv; charset=utf-8","mode":"OUTPUT","data":"14.7","encoding":"CSV"}';
  const id = options.inferenceId === null ? '' : `,"inferenceId":"${options.inferenceId ?? 'trip-0001'}"`;
  return (
    `{"captureData":{"endpointInput":${input}${output}},` +
    `"eventMetadata":{"eventId":"b495d864-ef9c-45c3-a3ff-36f05c64e98d"${id},"inferenceTime":"2026-12-01T10:00:00Z"},` +
    `"eventVersion":"0"}`
  );
}

/** The same line with one byte range replaced. */
function edit(text: string, from: string, to: string): string {
  expect(text).toContain(from);
  return text.replace(from, to);
}

/** The reference for a line: JSON.parse. The fast path's combined parse must equal it exactly. */
function agreesWithReference(line: string): CaptureParse {
  const reference = parseCaptureLine(line, BASELINE);
  expect(parseCaptureBytes(line, BASELINE)).toEqual(reference);
  return reference;
}

describe('the fast path', () => {
  test.each([
    ['with an inference id', sagemaker('3.5,132,9'), [3.5, '132', 9], 'trip-0001'],
    [
      'without endpointOutput (input-only capture)',
      sagemaker('3.5,132,9', { output: false }),
      [3.5, '132', 9],
      'trip-0001',
    ],
    ['without an inference id', sagemaker('3.5,132,9', { inferenceId: null }), [3.5, '132', 9], undefined],
    ['negative and signed-zero values', sagemaker('-2.25,7,-0'), [-2.25, '7', -0], 'trip-0001'],
    ['leading zeros and a trailing dot', sagemaker('007.50,0132,5.'), [7.5, '132', 5], 'trip-0001'],
    [
      'fifteen digits',
      sagemaker('12345.6789012345,999999999999999,0.00000000000001'),
      [12345.6789012345, '999999999999999', 1e-14],
      'trip-0001',
    ],
    [
      'escapes and non-ASCII text in the strings it does not read',
      edit(
        sagemaker('1,7,1'),
        '"data":"14.7"',
        '"data":"{\\"score\\": 14.7, \\"note\\": \\"caf\\u00e9 – ok\\"}"',
      ).replace('"eventId":"b495', '"eventId":"é-b495'),
      [1, '7', 1],
      'trip-0001',
    ],
  ])('reads a SageMaker record %s, as JSON.parse does', (_name, line, row, inferenceId) => {
    const fast = scanCaptureLine(line, BASELINE);
    expect(fast).toBeDefined();
    expect(fast).toEqual(agreesWithReference(line));
    expect(fast).toEqual({ rows: [row], problems: [], ...(inferenceId ? { inferenceId } : {}) });
  });

  // Each line here is left to JSON.parse, whose parse the combined path must return unchanged.
  const plain = sagemaker('3.5,132,9');
  test.each([
    ['an escaped quote in data', edit(plain, '"data":"3.5,132,9"', '"data":"3.5,\\"132\\",9"')],
    ['unicode escapes in data', edit(plain, '"data":"3.5,132,9"', '"data":"3.5,\\u0031\\u0033\\u0032,9"')],
    ['an escaped key', edit(plain, '"data":', '"d\\u0061ta":')],
    ['an escaped inference id', edit(plain, '"trip-0001"', '"trip\\u002d0001"')],
    ['a non-ASCII inference id', edit(plain, '"trip-0001"', '"trip-é"')],
    [
      'encoding before data',
      edit(plain, '"data":"3.5,132,9","encoding":"CSV"', '"encoding":"CSV","data":"3.5,132,9"'),
    ],
    [
      'eventMetadata before captureData',
      `{"eventMetadata":{"inferenceId":"x"},${plain.slice(1, plain.indexOf(',"eventMetadata"'))},"eventVersion":"0"}`,
    ],
    ['whitespace after a colon', edit(plain, '"captureData":{', '"captureData": {')],
    ['whitespace around the line', ` ${plain}\t`],
    ['a tab inside a string', edit(plain, '"INPUT"', '"IN\tPUT"')],
    [
      'an extra field in endpointInput',
      edit(plain, '"mode":"INPUT",', '"mode":"INPUT","extra":{"nested":[1,{"a":null}]},'),
    ],
    ['a nested data value', edit(plain, '"data":"3.5,132,9"', '"data":{"values":"3.5,132,9"}')],
    [
      'data twice (JSON.parse keeps the last)',
      edit(plain, '"encoding":"CSV"}', '"encoding":"CSV","data":"1,7,1"}'),
    ],
    [
      'captureData twice',
      edit(
        plain,
        ',"eventVersion":"0"}',
        ',"captureData":{"endpointInput":{"data":"1,7,1","encoding":"CSV"}},"eventVersion":"0"}',
      ),
    ],
    ['lower-case csv', edit(plain, '"encoding":"CSV"}', '"encoding":"csv"}')],
    [
      'a JSON payload',
      edit(plain, '"data":"3.5,132,9","encoding":"CSV"', '"data":"[3.5,132,9]","encoding":"JSON"'),
    ],
    [
      'a BASE64 payload',
      edit(
        plain,
        '"data":"3.5,132,9","encoding":"CSV"',
        `"data":"${Buffer.from('3.5,132,9').toString('base64')}","encoding":"BASE64"`,
      ),
    ],
    ['several records', edit(plain, '"data":"3.5,132,9"', '"data":"3.5,132,9\\n1,7,1"')],
    ['too few fields', sagemaker('3.5,132')],
    ['too many fields', sagemaker('3.5,132,9,1')],
    ['an empty payload', sagemaker('')],
    ['an empty field', sagemaker('3.5,,9')],
    ['spaces around a value', sagemaker('3.5, 132 ,9')],
    ['an exponent', sagemaker('1e2,132,9')],
    ['a leading dot', sagemaker('.5,132,9')],
    ['a plus sign', sagemaker('+1,132,9')],
    ['sixteen digits', sagemaker('1.000000000000001,132,9')],
    ['a fractional category', sagemaker('3.5,132.0,9')],
    ['a negative category', sagemaker('3.5,-7,9')],
    ['a text category', sagemaker('3.5,JFK,9')],
    ['a non-numeric value', sagemaker('abc,132,9')],
    ['no eventMetadata', plain.replace(/,"eventMetadata":\{[^}]*\}/, '')],
    ['an inferenceId that is not a string', edit(plain, '"trip-0001"', '42')],
    ['trailing text after the record', `${plain}x`],
    ['two records on one line', `${plain}${plain}`],
    ['a byte-order mark', `\ufeff${plain}`],
    ['no captureData', '{"eventMetadata":{"eventId":"e"},"eventVersion":"0"}'],
    ['a control character in a string', edit(plain, '"INPUT"', '"IN\u0001PUT"')],
    ['an invalid escape in a string it does not read', edit(plain, '"14.7"', '"14\\x7"')],
  ])('leaves %s to JSON.parse, with the same result', (_name, line) => {
    expect(scanCaptureLine(line, BASELINE)).toBeUndefined();
    agreesWithReference(line);
  });

  test('problem counters are those of JSON.parse for lines it leaves', () => {
    const counted = (lines: string[]) =>
      lines.map((line) => parseCaptureBytes(line, BASELINE).problems).flat();
    expect(
      counted([
        sagemaker('3.5,132'),
        sagemaker('abc,132,9'),
        sagemaker('3.5,,9'),
        edit(plain, '"encoding":"CSV"}', '"encoding":"PROTOBUF"}'),
        plain.slice(0, 120),
        edit(plain, '"data":"3.5,132,9","encoding":"CSV"', '"data":"@@@","encoding":"BASE64"'),
        '{"eventVersion":"0"}',
      ]),
    ).toEqual([
      'wrongFieldCount',
      'nonNumericValue',
      'missingValue',
      'unknownEncoding',
      'malformedJson',
      'malformedPayload',
      'missingCaptureData',
    ]);
  });

  test('every truncation of a record agrees with JSON.parse', () => {
    for (let length = 0; length < plain.length; length++) {
      const cut = plain.slice(0, length);
      expect(scanCaptureLine(cut, BASELINE)).toBeUndefined();
      expect(parseCaptureBytes(cut, BASELINE)).toEqual(parseCaptureLine(cut, BASELINE));
    }
  });

  test('single-byte mutations of records agree with JSON.parse', () => {
    // A fixed-seed walk over deletions, insertions and replacements by bytes that matter to JSON.
    let seed = 12345;
    const next = (below: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % below;
    };
    const bytes = [
      '"',
      '\\',
      ',',
      ':',
      '{',
      '}',
      '[',
      ']',
      ' ',
      '\t',
      '0',
      '9',
      '.',
      '-',
      'e',
      'x',
      '\u0001',
      'é',
    ];
    const lines = [
      plain,
      sagemaker('-0.5,07,23', { output: false }),
      sagemaker('2,132,0', { inferenceId: null }),
    ];
    let fast = 0;
    for (let i = 0; i < 3000; i++) {
      const line = lines[i % lines.length];
      const at = next(line.length);
      const kind = next(3);
      const byte = bytes[next(bytes.length)];
      const mutated =
        kind === 0
          ? line.slice(0, at) + line.slice(at + 1)
          : kind === 1
            ? line.slice(0, at) + byte + line.slice(at)
            : line.slice(0, at) + byte + line.slice(at + 1);
      if (scanCaptureLine(mutated, BASELINE) !== undefined) fast++;
      expect(parseCaptureBytes(mutated, BASELINE)).toEqual(parseCaptureLine(mutated, BASELINE));
    }
    // Some mutations keep the common shape (a digit for a digit, a character inside an id): the
    // fast path took those, and agreed.
    expect(fast).toBeGreaterThan(100);
    expect(fast).toBeLessThan(3000);
  });

  test('decimals are read to the same double as Number() gives', () => {
    let seed = 99;
    const digit = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return String(seed % 10);
    };
    for (let i = 0; i < 5000; i++) {
      const integerDigits = 1 + (i % 8);
      const fractionDigits = (i * 7) % (16 - integerDigits);
      let text = Array.from({ length: integerDigits }, digit).join('');
      if (fractionDigits > 0) text += '.' + Array.from({ length: fractionDigits }, digit).join('');
      if (i % 3 === 0) text = '-' + text;
      const fast = scanCaptureLine(sagemaker(`${text},7,1`), BASELINE);
      expect(fast?.rows[0][0]).toBe(Number(text));
    }
  });
});

/**
 * An independent statement of what the fast path accepts, as regular expressions over the line's
 * bytes read as latin1 (one character per byte): the common shape with `data` a run of plain
 * characters, then that run read as CSV for the fixture baseline (numeric, categorical, numeric),
 * at most fifteen digits a value.
 */
const PLAIN = '[^"\\\\\\x00-\\x1f]*';
const ESCAPED = `${PLAIN}(?:\\\\(?:["\\\\/bfnrt]|u[0-9a-fA-F]{4})${PLAIN})*`;
const ANY = `"${ESCAPED}"`;
const COMMON_SHAPE = new RegExp(
  `^\\{"captureData":\\{"endpointInput":\\{"observedContentType":${ANY},"mode":${ANY},"data":"(${PLAIN})"` +
    `,"encoding":"CSV"\\}` +
    `(?:,"endpointOutput":\\{"observedContentType":${ANY},"mode":${ANY},"data":${ANY},"encoding":${ANY}\\})?` +
    `\\},"eventMetadata":\\{"eventId":${ANY}(?:,"inferenceId":"([\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]*)")?` +
    `,"inferenceTime":${ANY}\\},"eventVersion":${ANY}\\}\\r?$`,
);
const NUMBER = /^-?\d+(\.\d*)?$/;
const INTEGER = /^\d+$/;

function shapeParse(bytes: Buffer): CaptureParse | undefined {
  const match = COMMON_SHAPE.exec(bytes.toString('latin1'));
  if (!match) return undefined;
  const values = match[1].split(',');
  if (values.length !== 3) return undefined;
  const patterns = [NUMBER, INTEGER, NUMBER];
  if (values.some((value, i) => !patterns[i].test(value) || value.replace(/\D/g, '').length > 15)) {
    return undefined;
  }
  const row = [Number(values[0]), String(Number(values[1])), Number(values[2])];
  return match[2] === undefined
    ? { rows: [row], problems: [] }
    : { rows: [row], problems: [], inferenceId: match[2] };
}

describe('the fast path against the shape written as regular expressions', () => {
  const templates = [
    sagemaker('3.5,132,9'),
    sagemaker('-0.5,07,23', { output: false }),
    sagemaker('2,132,0', { inferenceId: null }),
    `${sagemaker('10.25,7,1')}\r`,
  ].map((line) => Buffer.from(line));
  // Bytes at the edges of what JSON strings, the bit tricks and the CSV reader tell apart, and
  // bytes that are not UTF-8 on their own.
  const bytes = [
    0x00, 0x0a, 0x0d, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x39, 0x3a, 0x5b, 0x5c,
    0x5d, 0x61, 0x62, 0x66, 0x6e, 0x72, 0x74, 0x75, 0x7b, 0x7d, 0x7e, 0x7f, 0x80, 0xa2, 0xdc, 0xe9, 0xff,
  ];

  // Lines where the paths disagree, as the tests' one expectation: tens of thousands of lines are
  // compared, each with isDeepStrictEqual (which tells -0 from 0, as toEqual does).
  let disagreements: string[] = [];
  beforeEach(() => {
    disagreements = [];
  });
  afterEach(() => {
    expect(disagreements).toEqual([]);
  });

  function agree(line: Buffer): boolean {
    const expected = shapeParse(line);
    const fast = scanCaptureLine(line, BASELINE);
    const reference = parseCaptureLine(line.toString('utf8'), BASELINE);
    if (
      !isDeepStrictEqual(fast, expected) ||
      !isDeepStrictEqual(parseCaptureBytes(line, BASELINE), reference)
    ) {
      disagreements.push(line.toString('latin1'));
    }
    return expected !== undefined;
  }

  test('every byte of a record deleted, replaced or preceded by each edge byte', () => {
    let accepted = 0;
    let lines = 0;
    for (const template of templates) {
      for (let at = 0; at < template.length; at++) {
        const variants = [Buffer.concat([template.subarray(0, at), template.subarray(at + 1)])];
        for (const byte of bytes) {
          const replaced = Buffer.from(template);
          replaced[at] = byte;
          variants.push(
            replaced,
            Buffer.concat([template.subarray(0, at), Buffer.from([byte]), template.subarray(at)]),
          );
        }
        for (const variant of variants) {
          if (agree(variant)) accepted++;
          lines++;
        }
      }
    }
    // Edits inside the strings it does not read keep the shape; edits to keys and brackets do not.
    expect(accepted).toBeGreaterThan(lines / 10);
    expect(accepted).toBeLessThan(lines / 2);
  });

  test('escapes, and what is not one, in each string value', () => {
    const values = [
      '\\"',
      '\\\\',
      '\\/',
      '\\b',
      '\\f',
      '\\n',
      '\\r',
      '\\t',
      '\\u00e9',
      '\\uD83D\\uDE00',
      '\\u00E9x',
      '\\uabcd',
      '\\u',
      '\\u1',
      '\\u12',
      '\\u123',
      '\\u12g4',
      '\\x',
      '\\a',
      '\\0',
      '\\',
      '\\\\\\',
      'a\\"b\\\\c',
      '',
      ' ',
      '!',
      '#',
      '~',
      '\x7f',
      'é',
      '€',
      '\t',
      '\x1f',
      'abcdefgh',
      'abcdefg"',
      'abc"',
      '"',
      '""',
    ];
    let accepted = 0;
    for (const template of templates.map((line) => line.toString('latin1'))) {
      const strings = [...template.matchAll(/"(?:[^"\\]|\\.)*"/g)].filter((m) => !m[0].endsWith('":'));
      // Every string value, and inside it at its start, middle and end.
      for (const string of template.matchAll(/:"([^"]*)"/g)) {
        const start = (string.index ?? 0) + 2;
        const end = start + string[1].length;
        for (const value of values) {
          for (const at of [start, Math.floor((start + end) / 2), end]) {
            for (const cut of [at, end]) {
              const line = template.slice(0, at) + value + template.slice(cut);
              if (agree(Buffer.from(line, 'utf8'))) accepted++;
            }
          }
        }
      }
      expect(strings.length).toBeGreaterThan(0);
    }
    expect(accepted).toBeGreaterThan(500);
  });

  test('several random edits at once', () => {
    let seed = 4242;
    const next = (below: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % below;
    };
    let accepted = 0;
    for (let i = 0; i < 4000; i++) {
      let line = Buffer.from(templates[i % templates.length]);
      for (let edits = 1 + next(3); edits > 0; edits--) {
        const at = next(line.length);
        const byte = Buffer.from([next(4) === 0 ? next(256) : bytes[next(bytes.length)]]);
        const kind = next(3);
        line =
          kind === 0
            ? Buffer.concat([line.subarray(0, at), line.subarray(at + 1)])
            : kind === 1
              ? Buffer.concat([line.subarray(0, at), byte, line.subarray(at)])
              : Buffer.concat([line.subarray(0, at), byte, line.subarray(at + 1)]);
      }
      if (agree(line)) accepted++;
    }
    expect(accepted).toBeGreaterThan(200);
  });
});

describe('categories on the fast path', () => {
  // Small integers, one past the lookup table (2^16), a large id, a non-canonical integer and text.
  const body = baselineJson() as { features: Record<string, Record<string, unknown>> };
  body.features.zone = {
    type: 'categorical',
    proportions: { '7': 0.2, '132': 0.2, '65537': 0.1, '987654321012': 0.1, '0132': 0.1, JFK: 0.1 },
    other: 0.2,
  };
  const zones = parseBaseline(body);

  test('count each value as JSON.parse and addParse count it', async () => {
    const values = [
      '7',
      '132',
      '00132',
      '65537',
      '65536',
      '987654321012',
      '987654321013',
      '0',
      '8',
      '132',
      '7',
    ];
    const lines = values.map((zone, i) => sagemaker(`${i}.5,${zone},${i % 24}`));
    for (const line of lines) expect(scanCaptureLine(line, zones)).toBeDefined();
    const want = emptyHistogram(zones);
    for (const line of lines) addParse(want, zones, parseCaptureLine(line, zones));
    // 7 and 132 twice each (00132 is 132), 65537 and 987654321012 once; the rest other.
    expect(want.features.zone).toEqual([2, 3, 1, 1, 0, 0, 4]);
    expect(await histogramOfCapture(Readable.from([Buffer.from(lines.join('\n'))]), zones)).toEqual(want);
  });
});

describe('numeric bins on the fast path', () => {
  test('count values on and around the edges, with any number of fraction digits, as addParse counts them', async () => {
    // The fixture's distance edges are 1, 2 and 5; hour's is 12. Values on an edge belong to the
    // bin above it; past the looked-up range (digits read as an integer of 16384 or more) and below
    // zero, values are binned by comparing with the edges.
    const distances = [
      '0',
      '-0',
      '0.999',
      '1',
      '1.',
      '1.0',
      '1.000000',
      '0.9999999999',
      '1.0000000001',
      '2',
      '1.99',
      '2.00',
      '4.9999',
      '5',
      '5.0',
      '50',
      '163.83',
      '163.84',
      '16383',
      '16384',
      '20000.5',
      '-1',
      '-7.25',
      '0.5',
    ];
    const hours = ['0', '11', '11.99', '12', '12.0', '012', '13', '23', '16384', '-12'];
    const lines = distances.flatMap((distance, i) =>
      [0, 1].map((k) => sagemaker(`${distance},7,${hours[(i + k) % hours.length]}`)),
    );
    for (const line of lines) expect(scanCaptureLine(line, BASELINE)).toBeDefined();
    const want = emptyHistogram(BASELINE);
    for (const line of lines) addParse(want, BASELINE, parseCaptureLine(line, BASELINE));
    expect(want.features.distance.every((count) => count > 0)).toBe(true);
    // The fast path's counts, once for a fresh baseline (tables built as values come) and again with
    // the tables already there.
    const baseline = parseBaseline(baselineJson());
    for (let round = 0; round < 2; round++) {
      const got = await histogramOfCapture(Readable.from([Buffer.from(lines.join('\n'))]), baseline);
      expect(got).toEqual(want);
    }
  });
});

/** The old reader: readline over the decompressed stream, JSON.parse per line. */
async function referenceParses(text: Buffer): Promise<CaptureParse[]> {
  const input = Readable.from([text[0] === 0x1f && text[1] === 0x8b ? zlib.gunzipSync(text) : text]);
  const parses: CaptureParse[] = [];
  for await (const line of readline.createInterface({ input, crlfDelay: Infinity })) {
    if (line.trim() !== '') parses.push(parseCaptureLine(line, BASELINE));
  }
  return parses;
}

function chunked(bytes: Buffer, sizes: number[]): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length];
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return Readable.from(chunks);
}

describe('reading capture objects', () => {
  const records = [
    sagemaker('0.5,132,1'),
    sagemaker('1,7,12', { inferenceId: null }),
    edit(sagemaker('2,99,23'), '"data":"2,99,23","encoding":"CSV"', '"data":"[2,99,23]","encoding":"JSON"'),
    'not json',
    sagemaker('1,2'),
    sagemaker('x,7,1'),
    edit(sagemaker('7,7,13'), '"data":"7,7,13"', '"data":"7,7,13\\n8,132,14"'),
    sagemaker('5,132,0', { output: false }),
    ` ${sagemaker('4,7,4')}`,
    sagemaker('3,é,1'),
  ];
  // Line breaks as readline splits them: LF, CRLF, a lone CR (which ends a line, also inside a
  // record), blank and whitespace-only lines, no break after the last line.
  const text = Buffer.from(
    [
      records.slice(0, 3).join('\n'),
      '\r\n\r\n   \n',
      records.slice(3, 6).join('\r\n'),
      '\n',
      records[6],
      '\r',
      records.slice(7).join('\n'),
      '\n',
      sagemaker('6,7,6').replace(',"mode"', '\r,"mode"'),
      '\n\u00a0\n',
      sagemaker('9,132,9'),
    ].join(''),
  );

  test.each([
    ['in one chunk', [1 << 20]],
    ['a byte at a time', [1]],
    ['in uneven chunks', [7, 300, 1, 64, 1000]],
  ])('readCapture gives the parses of readline and JSON.parse, %s', async (_name, sizes) => {
    const want = await referenceParses(text);
    expect(want.length).toBeGreaterThan(records.length);
    const got: CaptureParse[] = [];
    await readCapture(chunked(text, sizes), BASELINE, (parse) => got.push(parse));
    expect(got).toEqual(want);
    const gzipped: CaptureParse[] = [];
    await readCapture(chunked(zlib.gzipSync(text), sizes), BASELINE, (parse) => gzipped.push(parse));
    expect(gzipped).toEqual(want);
  });

  test('histogramOfCapture counts what addParse counts over those parses', async () => {
    const want = emptyHistogram(BASELINE);
    for (const parse of await referenceParses(text)) addParse(want, BASELINE, parse);
    expect(want.rows).toBeGreaterThan(5);
    expect(Object.values(want.problems).some((count) => count > 0)).toBe(true);
    expect(await histogramOfCapture(chunked(text, [5, 77]), BASELINE)).toEqual(want);
    expect(await histogramOfCapture(chunked(zlib.gzipSync(text), [3]), BASELINE)).toEqual(want);
  });

  test('openCaptureFile reads a file larger than its read size, plain or gzipped, line for line', async () => {
    // Lines of several lengths, so that read boundaries fall inside lines and records.
    const block = Buffer.concat([
      text,
      Buffer.from('\n'),
      Buffer.from(`${sagemaker('1.25,132,7')}\n`.repeat(50)),
    ]);
    const copies = Math.ceil((2.5 * CAPTURE_FILE_READ_BYTES) / block.length);
    const big = Buffer.concat(new Array<Buffer>(copies).fill(block));
    expect(big.length).toBeGreaterThan(2 * CAPTURE_FILE_READ_BYTES);
    const want = emptyHistogram(BASELINE);
    for (const parse of await referenceParses(big)) addParse(want, BASELINE, parse);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capture-file-'));
    try {
      fs.writeFileSync(path.join(dir, 'plain.jsonl'), big);
      fs.writeFileSync(path.join(dir, 'gzipped.jsonl.gz'), zlib.gzipSync(big));
      expect(await histogramOfCapture(openCaptureFile(path.join(dir, 'plain.jsonl')), BASELINE)).toEqual(
        want,
      );
      expect(await histogramOfCapture(openCaptureFile(path.join(dir, 'gzipped.jsonl.gz')), BASELINE)).toEqual(
        want,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('holds a chunk and the line across its end, never the object', async () => {
    const line = sagemaker('1.25,132,7');
    const lines = 20000;
    async function* source() {
      // 1.7 MB in 16 KiB chunks, generated as read.
      const block = Buffer.from(`${line}\n`.repeat(100));
      for (let i = 0; i < lines / 100; i++) {
        for (let at = 0; at < block.length; at += 16384) yield block.subarray(at, at + 16384);
      }
    }
    let largest = 0;
    let fast = 0;
    await readCaptureLines(
      Readable.from(source()),
      (region, start) => {
        largest = Math.max(largest, region.length);
        const end = region.indexOf('\n', start) + 1;
        fast++;
        return end;
      },
      () => {
        throw new Error('every line is taken by the fast callback');
      },
    );
    expect(fast).toBe(lines);
    expect(largest).toBeLessThanOrEqual(16384 + line.length + 1);
  });
});
