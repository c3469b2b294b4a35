/**
 * The fast path of capture parsing: the record shape a real-time endpoint writes for a CSV request,
 *
 *   {"captureData":{"endpointInput":{"observedContentType":"…","mode":"…","data":"<csv>","encoding":"CSV"},
 *    "endpointOutput":{…}},"eventMetadata":{"eventId":"…","inferenceId":"…","inferenceTime":"…"},
 *    "eventVersion":"…"}
 *
 * matched on the line's bytes without decoding them and without JSON.parse, its CSV record read
 * straight into numbers. The matcher accepts only lines that are valid JSON of exactly this shape:
 * keys in this order, each once, no whitespace, string values without control characters, escapes
 * only in the strings the drift job does not read. Whatever it does not accept (other key orders,
 * whitespace, JSON or BASE64 payloads, several records, escapes in `data`, missing fields, a value
 * that is not a plain decimal) goes to the JSON.parse path, `parseCaptureLine`, so that both paths
 * give the same rows and problems for every line.
 *
 * The grammar has no choices that need lookahead past one literal: each string ends at its first
 * unescaped quote, each optional member starts with a key its absence does not. So the matcher reads
 * a line once, left to right, and never backtracks. What makes it fast on one core: literals are
 * compared eight bytes at a time, the values the common record holds are compared as part of the
 * literals around them, and other string values are skipped four or eight bytes at a time (a word
 * with no quote, backslash or control byte is plain: bit tricks over 32-bit integers tell).
 */
import { Baseline, BaselineFeature } from './baseline';
import type { CaptureParse, FeatureRow } from './capture';

/**
 * A run of bytes the line must hold, as float64 words of eight bytes (the last one overlapping the
 * one before it when the length is not a multiple of eight), compared with `!==`. For words of
 * printable ASCII, float equality is bit equality: such a word is never NaN (which needs the low
 * seven bits of its top byte all set: 0x7f or 0xff) and never zero (the one value with two bit
 * patterns), so a word of the line equals it exactly when its eight bytes do.
 */
class Literal {
  readonly length: number;
  readonly bytes: Uint8Array;
  readonly words: Float64Array;
  readonly offsets: Int32Array;

  constructor(readonly text: string) {
    this.bytes = Uint8Array.from(Buffer.from(text, 'latin1'));
    this.length = this.bytes.length;
    if (!/^[\x20-\x7e]*$/.test(text))
      throw new Error(`literal ${JSON.stringify(text)} is not printable ASCII`);
    const offsets: number[] = [];
    if (this.length >= 8) {
      for (let at = 0; at + 8 <= this.length; at += 8) offsets.push(at);
      if (this.length % 8 !== 0) offsets.push(this.length - 8);
    }
    const view = new DataView(this.bytes.buffer);
    this.offsets = Int32Array.from(offsets);
    this.words = Float64Array.from(offsets, (at) => view.getFloat64(at, true));
  }
}

/** The keys around the values, in order; the values the common record holds are folded in. */
const INPUT = new Literal('{"captureData":{"endpointInput":{"observedContentType":"');
const MODE = new Literal('","mode":"');
const DATA = new Literal('","data":"');
const INPUT_END = new Literal('","encoding":"CSV"}');
const OUTPUT = new Literal(',"endpointOutput":{"observedContentType":"');
const ENCODING = new Literal('","encoding":"');
const OUTPUT_END = new Literal('"}},"eventMetadata":{"eventId":"');
const NO_OUTPUT_END = new Literal('},"eventMetadata":{"eventId":"');
const INFERENCE_ID = new Literal('","inferenceId":"');
const INFERENCE_TIME = new Literal('","inferenceTime":"');
const VERSION = new Literal('"},"eventVersion":"');
const END = new Literal('"}');
/**
 * A string value and the literal after it, as the common record has them: tried first, as one
 * literal, before the string's own scan. Matching one of these is matching the value (plain text,
 * no escapes) and then its literal, so the result is the same either way, only found sooner.
 */
const COMMON_INPUT_TYPE = new Literal(`text/csv${MODE.text}`);
const COMMON_INPUT_MODE = new Literal(`INPUT${DATA.text}`);
const COMMON_OUTPUT_TYPE = new Literal(`text/csv; charset=utf-8${MODE.text}`);
const COMMON_OUTPUT_MODE = new Literal(`OUTPUT${DATA.text}`);
const COMMON_OUTPUT_ENCODING = new Literal(`CSV${OUTPUT_END.text}`);
/** The same for runs of literals and values: from the start of the line to the record, and so on. */
const COMMON_INPUT = new Literal(`${INPUT.text}${COMMON_INPUT_TYPE.text}${COMMON_INPUT_MODE.text}`);
const COMMON_OUTPUT = new Literal(
  `${INPUT_END.text}${OUTPUT.text}${COMMON_OUTPUT_TYPE.text}${COMMON_OUTPUT_MODE.text}`,
);
const COMMON_OUTPUT_END = new Literal(`${ENCODING.text}${COMMON_OUTPUT_ENCODING.text}`);
const COMMON_END = new Literal(`${VERSION.text}0${END.text}`);

const BACKSLASH = 0x5c;
const LINE_FEED = 0x0a;
const CARRIAGE_RETURN = 0x0d;
/** Per byte after a backslash: 1 for the escapes of one character JSON allows. */
const SHORT_ESCAPE = new Uint8Array(256);
for (const c of '"\\/bfnrt') SHORT_ESCAPE[c.charCodeAt(0)] = 1;
/** Per byte: 1 for a hex digit. */
const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

/*
 * Four bytes at a time, in a 32-bit integer x: (x - 0x01010101) & ~x & 0x80808080 sets the high bit
 * of each byte that is zero (so, of x ^ 0x22222222, of each quote), (x - 0x20202020) & ~x &
 * 0x80808080 of each byte below 0x20. Borrows can set bits above the first such byte, never below
 * it: the lowest bit set marks the first match exactly, and no bit set means no match.
 */
const ONES = 0x01010101;
const HIGHS = 0x80808080 | 0;
const QUOTES = 0x22222222;
const BACKSLASHES = 0x5c5c5c5c;
const SPACES = 0x20202020;
const BELOW_QUOTE = 0x23232323;

/**
 * The high bit set in each byte of x that may end a plain run: below 0x23 (control bytes, the
 * quote, and the space and the exclamation mark, flagged along with them as one test covers all)
 * or a backslash. Zero when all four bytes are plain.
 */
function special(x: number): number {
  const backslash = x ^ BACKSLASHES;
  return (((x - BELOW_QUOTE) & ~x) | ((backslash - ONES) & ~backslash)) & HIGHS;
}

/** The index of the first byte whose high bit is set in a non-zero mask (little endian). */
function firstFlagged(mask: number): number {
  return (31 - Math.clz32(mask & -mask)) >> 3;
}

const MINUS = 0x2d;
const DOT = 0x2e;
const COMMA = 0x2c;
const QUOTE = 0x22;
const ZERO = 0x30;
const NINE = 0x39;
/**
 * At most this many digits in a value: the integer of its digits is then exact (below 2^53), and
 * so is the power of ten it is divided by, so the one division rounds correctly and gives the same
 * double as Number() of the text.
 */
const MAX_DIGITS = 15;
const POWERS_OF_TEN = Array.from({ length: MAX_DIGITS + 1 }, (_, i) => 10 ** i);

/** The baseline, laid out for the scan: per feature its kind, bin edges or integer-category slots. */
interface ScanPlan {
  /** 1 for a numeric feature, 0 for a categorical one. */
  readonly numeric: Uint8Array;
  readonly innerEdges: readonly Float64Array[];
  /** Where each feature's slots start in the scanner's flat tally. */
  readonly offsets: Int32Array;
  readonly slots: number;
  /**
   * Per categorical feature, the slot of each category written as an integer ("132"), indexed by
   * the integer; every other index holds the last slot, other. A CSV value that is a run of digits
   * is the category String(Number(value)): such an integer category, or else none of the
   * baseline's (then other). Integer categories past MAX_TABLED_CATEGORY are in `largeSlots`.
   */
  readonly integerSlots: readonly Int32Array[];
  readonly largeSlots: readonly Map<number, number>[];
  readonly otherSlot: readonly number[];
  /**
   * Per numeric feature and count of fraction digits, the bin of each value whose digits, read as an
   * integer, are below TABULATED_DIGITS (e.g. 3.20 is 320 with two fraction digits): found by one
   * lookup rather than by comparing with every edge. Empty until the first such value comes, then
   * kept for the baseline's later scans.
   */
  readonly bins: Uint16Array[];
}

/** The largest integer category looked up by index (zone ids and codes are small integers). */
const MAX_TABLED_CATEGORY = 1 << 16;

function integerCategories(feature: BaselineFeature): number[] {
  if (feature.kind !== 'categorical') return [];
  return feature.categories.map((category) =>
    /^\d+$/.test(category) && String(Number(category)) === category ? Number(category) : -1,
  );
}

const plans = new WeakMap<Baseline, ScanPlan>();

function planOf(baseline: Baseline): ScanPlan {
  let plan = plans.get(baseline);
  if (plan) return plan;
  plan = {
    numeric: Uint8Array.from(baseline.features, (f) => (f.kind === 'numeric' ? 1 : 0)),
    innerEdges: baseline.features.map((f) => Float64Array.from(f.kind === 'numeric' ? f.innerEdges : [])),
    offsets: Int32Array.from(baseline.features, (_, i) =>
      baseline.features.slice(0, i).reduce((total, f) => total + slotCount(f), 0),
    ),
    slots: baseline.features.reduce((total, f) => total + slotCount(f), 0),
    integerSlots: baseline.features.map((f) => {
      const integers = integerCategories(f).filter((n) => n <= MAX_TABLED_CATEGORY);
      const slots = new Int32Array(Math.max(-1, ...integers) + 1);
      if (f.kind === 'categorical') slots.fill(f.categories.length);
      integerCategories(f).forEach((integer, slot) => {
        if (integer >= 0 && integer <= MAX_TABLED_CATEGORY) slots[integer] = slot;
      });
      return slots;
    }),
    largeSlots: baseline.features.map(
      (f) =>
        new Map(
          integerCategories(f)
            .map((integer, slot): [number, number] => [integer, slot])
            .filter(([integer]) => integer > MAX_TABLED_CATEGORY),
        ),
    ),
    otherSlot: baseline.features.map((f) => (f.kind === 'categorical' ? f.categories.length : -1)),
    bins: Array.from({ length: baseline.features.length * (MAX_DIGITS + 1) }, () => NO_BINS),
  };
  plans.set(baseline, plan);
  return plan;
}

function slotCount(feature: BaselineFeature): number {
  return feature.kind === 'numeric' ? feature.innerEdges.length + 1 : feature.categories.length + 1;
}

/**
 * The numeric bin of a value: the number of inner edges at or below it, as histogram.ts `binOf`
 * finds by bisection. Counted here over every edge, as a baseline has about ten: a loop without
 * data-dependent branches is faster than bisection's unpredictable ones.
 */
function bin(innerEdges: Float64Array, value: number): number {
  let slot = 0;
  for (let i = 0; i < innerEdges.length; i++) slot += innerEdges[i] <= value ? 1 : 0;
  return slot;
}

/** The offset after `literal` when the bytes at `at` are it; otherwise -1. */
function literalAt(bytes: Uint8Array, view: DataView, at: number, literal: Literal): number {
  const end = at + literal.length;
  if (end > bytes.length) return -1;
  const { words, offsets } = literal;
  if (words.length > 0) {
    for (let i = 0; i < words.length; i++) {
      if (view.getFloat64(at + offsets[i], true) !== words[i]) return -1;
    }
  } else {
    const expected = literal.bytes;
    for (let i = 0; i < expected.length; i++) if (bytes[at + i] !== expected[i]) return -1;
  }
  return end;
}

/**
 * A JSON string's characters from `at` (after its opening quote) up to its closing quote, then
 * `after` (which starts with that quote). Returns the offset after `after`, or the closing quote's
 * offset when there is no `after`; -1 when the string is not valid or `after` does not follow.
 * `common` is the usual value followed by `after`, tried first.
 */
function stringAt(
  bytes: Uint8Array,
  view: DataView,
  at: number,
  common: Literal | undefined,
  after: Literal | undefined,
): number {
  if (common !== undefined) {
    const end = literalAt(bytes, view, at, common);
    if (end >= 0) return end;
  }
  const length = bytes.length;
  let i = at;
  for (;;) {
    // Eight bytes a step while they are plain, then four, then the byte that stopped them.
    while (i + 8 <= length && (special(view.getInt32(i, true)) | special(view.getInt32(i + 4, true))) === 0) {
      i += 8;
    }
    while (i + 4 <= length) {
      const flagged = special(view.getInt32(i, true));
      if (flagged !== 0) {
        i += firstFlagged(flagged);
        break;
      }
      i += 4;
    }
    if (i >= length) return -1;
    const c = bytes[i];
    if (c === QUOTE) return after === undefined ? i : literalAt(bytes, view, i, after);
    if (c !== BACKSLASH) {
      if (c < 0x20) return -1;
      // A space or an exclamation mark (flagged with the quote), or fewer than four bytes left.
      i++;
      continue;
    }
    if (i + 1 < length && SHORT_ESCAPE[bytes[i + 1]] === 1) {
      i += 2;
    } else if (
      i + 5 < length &&
      bytes[i + 1] === 0x75 &&
      (HEX[bytes[i + 2]] & HEX[bytes[i + 3]] & HEX[bytes[i + 4]] & HEX[bytes[i + 5]]) === 1
    ) {
      i += 6;
    } else {
      return -1;
    }
  }
}

/**
 * The inference id from `at` to its closing quote, whose offset it returns (or -1): printable
 * ASCII without quotes or backslashes, so that its bytes are its characters, read as they are.
 */
function inferenceIdAt(bytes: Uint8Array, view: DataView, at: number): number {
  const length = bytes.length;
  let i = at;
  while (i + 4 <= length) {
    const x = view.getInt32(i, true);
    const quote = x ^ QUOTES;
    const backslash = x ^ BACKSLASHES;
    // Bytes of 0x7f and up: the high bit set already, or set by adding one to the low seven bits.
    const special =
      ((quote - ONES) & ~quote) |
      ((backslash - ONES) & ~backslash) |
      ((x - SPACES) & ~x) |
      x |
      ((x & 0x7f7f7f7f) + ONES);
    if ((special & HIGHS) !== 0) {
      i += firstFlagged(special & HIGHS);
      return bytes[i] === QUOTE ? i : -1;
    }
    i += 4;
  }
  for (; i < length; i++) {
    const c = bytes[i];
    if (c === QUOTE) return i;
    if (c < 0x20 || c > 0x7e || c === BACKSLASH) return -1;
  }
  return -1;
}

/** From the closing quote of endpointOutput's data to the opening quote of the eventId's value. */
function outputEnd(bytes: Uint8Array, view: DataView, at: number): number {
  const encoding = literalAt(bytes, view, at, ENCODING);
  return encoding < 0 ? -1 : stringAt(bytes, view, encoding, COMMON_OUTPUT_ENCODING, OUTPUT_END);
}

/**
 * Values whose digits read as an integer are below this have their bin looked up (the table of a
 * feature and a count of fraction digits: 32 KiB).
 */
const TABULATED_DIGITS = 1 << 14;
const NO_BINS = new Uint16Array(0);

/** No DataView yet: `scan` makes one per buffer it is handed. */
const EMPTY = new Uint8Array(8);

/**
 * Scans lines of the common shape for one baseline. `scan` reads one line of a buffer of whole
 * lines; on success the record's values stay in the scanner until the next scan, for `count` or
 * `parse`.
 */
export class CaptureScanner {
  private readonly plan: ScanPlan;
  /** The last record: numbers for numeric features, the integer of the digits for categorical ones. */
  private readonly values: Float64Array;
  /** Counts per slot of every feature, one after the other (exact: integers far below 2^53). */
  private readonly tally: Float64Array;
  /** The plan's `bins`. */
  private readonly bins: Uint16Array[];
  /** The last record's slot in the tally, per feature. */
  private readonly slots: Int32Array;
  private bytes: Uint8Array = EMPTY;
  private view: DataView = new DataView(EMPTY.buffer);
  /** Where the last record's inference id starts and ends; -1 when it has none. */
  private idStart = -1;
  private idEnd = -1;

  constructor(baseline: Baseline) {
    this.plan = planOf(baseline);
    this.values = new Float64Array(baseline.features.length);
    this.tally = new Float64Array(this.plan.slots);
    this.slots = new Int32Array(baseline.features.length);
    this.bins = this.plan.bins;
  }

  /**
   * Scans the line of `bytes` that starts at `start`. Returns the offset after its line break when
   * the line has the common shape, with a record the fast path reads; otherwise -1, and the line is
   * for the JSON.parse path. A buffer is read, never kept past the next call with another one.
   */
  scan(bytes: Uint8Array, start: number): number {
    if (bytes !== this.bytes) {
      this.bytes = bytes;
      this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    const view = this.view;
    let at = literalAt(bytes, view, start, COMMON_INPUT);
    if (at < 0) {
      at = literalAt(bytes, view, start, INPUT);
      if (at >= 0) at = stringAt(bytes, view, at, COMMON_INPUT_TYPE, MODE);
      if (at >= 0) at = stringAt(bytes, view, at, COMMON_INPUT_MODE, DATA);
    }
    if (at >= 0) at = this.record(at);
    if (at < 0) return -1;
    const output = literalAt(bytes, view, at, COMMON_OUTPUT);
    if (output >= 0) {
      at = stringAt(bytes, view, output, undefined, undefined);
      const common = at >= 0 ? literalAt(bytes, view, at, COMMON_OUTPUT_END) : -1;
      if (common >= 0) at = common;
      else if (at >= 0) at = outputEnd(bytes, view, at);
    } else {
      at = literalAt(bytes, view, at, INPUT_END);
      if (at < 0) return -1;
      // endpointOutput, when there is one, starts with a comma; captureData's closing brace otherwise.
      if (bytes[at] === COMMA) {
        at = literalAt(bytes, view, at, OUTPUT);
        if (at >= 0) at = stringAt(bytes, view, at, COMMON_OUTPUT_TYPE, MODE);
        if (at >= 0) at = stringAt(bytes, view, at, COMMON_OUTPUT_MODE, DATA);
        if (at >= 0) at = stringAt(bytes, view, at, undefined, undefined);
        if (at >= 0) at = outputEnd(bytes, view, at);
      } else {
        at = literalAt(bytes, view, at, NO_OUTPUT_END);
      }
    }
    if (at >= 0) at = stringAt(bytes, view, at, undefined, undefined);
    if (at < 0) return -1;
    // At the eventId's closing quote: the inference id, when there is one, comes before the time.
    const withId = literalAt(bytes, view, at, INFERENCE_ID);
    if (withId >= 0) {
      this.idStart = withId;
      this.idEnd = inferenceIdAt(bytes, view, withId);
      at = this.idEnd;
    } else {
      this.idStart = -1;
    }
    if (at >= 0) at = literalAt(bytes, view, at, INFERENCE_TIME);
    if (at >= 0) at = stringAt(bytes, view, at, undefined, undefined);
    if (at < 0) return -1;
    const end = literalAt(bytes, view, at, COMMON_END);
    if (end >= 0) {
      at = end;
    } else {
      at = literalAt(bytes, view, at, VERSION);
      if (at >= 0) at = stringAt(bytes, view, at, undefined, END);
      if (at < 0) return -1;
    }
    if (bytes[at] === CARRIAGE_RETURN) at++;
    return bytes[at] === LINE_FEED ? at + 1 : -1;
  }

  /** Reads the CSV record from `at` up to its closing quote; returns the quote's offset, or -1. */
  private record(at: number): number {
    const { numeric, offsets } = this.plan;
    const bytes = this.bytes;
    const count = numeric.length;
    // Every buffer ends with a line break, which stops each loop below before the end.
    let i = at;
    for (let feature = 0; feature < count; feature++) {
      if (feature > 0) {
        if (bytes[i] !== COMMA) return -1;
        i++;
      }
      const isNumeric = numeric[feature];
      let negative = false;
      if (isNumeric === 1 && bytes[i] === MINUS) {
        negative = true;
        i++;
      }
      let digits = 0;
      let integer = 0;
      let c = bytes[i];
      while (c >= ZERO && c <= NINE) {
        integer = integer * 10 + (c - ZERO);
        digits++;
        c = bytes[++i];
      }
      if (digits === 0) return -1;
      let fraction = 0;
      if (c === DOT) {
        if (isNumeric === 0) return -1;
        c = bytes[++i];
        while (c >= ZERO && c <= NINE) {
          integer = integer * 10 + (c - ZERO);
          digits++;
          fraction++;
          c = bytes[++i];
        }
      }
      if (digits > MAX_DIGITS) return -1;
      const magnitude = fraction === 0 ? integer : integer / POWERS_OF_TEN[fraction];
      const value = negative ? -magnitude : magnitude;
      this.values[feature] = value;
      let slot: number;
      if (isNumeric === 0) {
        slot = this.category(feature, value);
      } else {
        const table = this.bins[feature * (MAX_DIGITS + 1) + fraction];
        slot =
          !negative && integer < table.length
            ? table[integer]
            : this.numericSlot(feature, fraction, negative, integer, value);
      }
      this.slots[feature] = offsets[feature] + slot;
    }
    return bytes[i] === QUOTE ? i : -1;
  }

  /**
   * The bin of a numeric value, when `bins` had no entry for it: tabulates the bins of the values
   * with this many fraction digits the first time such a value comes, when it is a small one.
   */
  private numericSlot(
    feature: number,
    fraction: number,
    negative: boolean,
    integer: number,
    value: number,
  ): number {
    const edges = this.plan.innerEdges[feature];
    const at = feature * (MAX_DIGITS + 1) + fraction;
    // Bins are numbered in 16 bits: more than 65535 edges are never tabulated.
    if (negative || integer >= TABULATED_DIGITS || this.bins[at].length > 0 || edges.length >= 0xffff) {
      return bin(edges, value);
    }
    // The values grow with their digits and the edges increase strictly (parseBaseline checks):
    // one walk over both gives each value's count of edges at or below it, as `bin` counts them.
    const table = new Uint16Array(TABULATED_DIGITS);
    let slot = 0;
    for (let digits = 0; digits < TABULATED_DIGITS; digits++) {
      const tabulated = fraction === 0 ? digits : digits / POWERS_OF_TEN[fraction];
      while (slot < edges.length && edges[slot] <= tabulated) slot++;
      table[digits] = slot;
    }
    this.bins[at] = table;
    return table[integer];
  }

  /** The slot of a categorical feature's value, a run of digits read as an integer. */
  private category(feature: number, value: number): number {
    const table = this.plan.integerSlots[feature];
    // Below the table's length, the value is a small integer: `| 0` is exact.
    if (value < table.length) return table[value | 0];
    return this.plan.largeSlots[feature].get(value) ?? this.plan.otherSlot[feature];
  }

  /** Counts the last scanned record in the scanner's tally (see `addTallyTo`). */
  count(): void {
    const slots = this.slots;
    const tally = this.tally;
    for (let feature = 0; feature < slots.length; feature++) tally[slots[feature]] += 1;
  }

  /**
   * Adds the records counted so far to per-feature counts aligned with `baseline.features` (a
   * histogram's), and starts the tally again.
   */
  addTallyTo(counts: readonly number[][]): void {
    const { offsets } = this.plan;
    counts.forEach((featureCounts, feature) => {
      for (let slot = 0; slot < featureCounts.length; slot++) {
        featureCounts[slot] += this.tally[offsets[feature] + slot];
      }
    });
    this.tally.fill(0);
  }

  /** The last scanned record as `parseCaptureLine` gives it. */
  parse(): CaptureParse {
    const row: FeatureRow = Array.from(this.values, (value, feature) =>
      this.plan.numeric[feature] === 1 ? value : String(value),
    );
    if (this.idStart < 0) return { rows: [row], problems: [] };
    const inferenceId = String.fromCharCode(...this.bytes.subarray(this.idStart, this.idEnd));
    return { rows: [row], problems: [], inferenceId };
  }
}

/**
 * The fast path's parse of one line (bytes, or text encoded as UTF-8), or undefined when the line
 * is not of the common shape and needs `parseCaptureLine`.
 */
export function scanCaptureLine(line: Uint8Array | string, baseline: Baseline): CaptureParse | undefined {
  const bytes = Buffer.concat([typeof line === 'string' ? Buffer.from(line, 'utf8') : line, NEWLINE]);
  const scanner = new CaptureScanner(baseline);
  return scanner.scan(bytes, 0) === bytes.length ? scanner.parse() : undefined;
}

const NEWLINE = Buffer.from('\n');
