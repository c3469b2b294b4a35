/**
 * The fast path of capture parsing: the record shape a real-time endpoint writes for a CSV request,
 *
 *   {"captureData":{"endpointInput":{"observedContentType":"…","mode":"…","data":"<csv>","encoding":"CSV"},
 *    "endpointOutput":{…}},"eventMetadata":{"eventId":"…","inferenceId":"…","inferenceTime":"…"},
 *    "eventVersion":"…"}
 *
 * matched on the line's bytes without JSON.parse, its CSV record read straight into numbers. The
 * matcher runs over a "byte string" (the bytes decoded as latin1: one character per byte, so string
 * and byte offsets agree) and accepts only lines that are valid JSON of exactly this shape: keys in
 * this order, each once, no whitespace, string values without control characters, escapes only in
 * the strings the drift job does not read. Whatever it does not accept (other key orders,
 * whitespace, JSON or BASE64 payloads, several records, escapes in `data`, missing fields, a value
 * that is not a plain decimal) goes to the JSON.parse path, `parseCaptureLine`, so that both paths
 * give the same rows and problems for every line.
 */
import { Baseline, BaselineFeature } from './baseline';
import type { CaptureParse, FeatureRow } from './capture';

/** A JSON string's characters without escapes or control characters (any byte from 0x20 but `"` and `\`). */
const PLAIN = '[^"\\\\\\x00-\\x1f]*';
/** A JSON string's characters, escapes included (JSON's own grammar, unrolled). */
const ESCAPED = `${PLAIN}(?:\\\\(?:["\\\\/bfnrt]|u[0-9a-fA-F]{4})${PLAIN})*`;
/** A string value the drift job does not read. */
const ANY = `"${ESCAPED}"`;
/** inferenceId, read as is: ASCII without escapes, so that its bytes are its characters. */
const INFERENCE_ID = '[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]*';

/** Up to `"data":"`: the CSV record starts where this match ends. */
const HEAD = new RegExp(
  `\\{"captureData":\\{"endpointInput":\\{"observedContentType":${ANY},"mode":${ANY},"data":"`,
  'y',
);
/**
 * From the closing quote of `data` to the line break (included): endpointOutput and inferenceId are
 * optional (input-only capture; requests without an inference id).
 */
const TAIL_SOURCE =
  `","encoding":"CSV"\\}` +
  `(?:,"endpointOutput":\\{"observedContentType":${ANY},"mode":${ANY},"data":${ANY},"encoding":${ANY}\\})?` +
  `\\},"eventMetadata":\\{"eventId":${ANY}(?:,"inferenceId":"(${INFERENCE_ID})")?,"inferenceTime":${ANY}\\}` +
  `,"eventVersion":${ANY}\\}\\r?\\n`;
const TAIL = new RegExp(TAIL_SOURCE, 'y');

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
  readonly numeric: readonly boolean[];
  readonly innerEdges: readonly Float64Array[];
  /** Where each feature's slots start in the scanner's flat tally. */
  readonly offsets: readonly number[];
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
    numeric: baseline.features.map((f) => f.kind === 'numeric'),
    innerEdges: baseline.features.map((f) => Float64Array.from(f.kind === 'numeric' ? f.innerEdges : [])),
    offsets: baseline.features.map((_, i) =>
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

/**
 * Scans lines of the common shape for one baseline. `scan` reads one line of a byte string; on
 * success the record's values stay in the scanner until the next scan, for `countInto` or `parse`.
 */
export class CaptureScanner {
  private readonly plan: ScanPlan;
  /** The last record: numbers for numeric features, the integer of the digits for categorical ones. */
  private readonly values: Float64Array;
  /** Counts per slot of every feature, one after the other (exact: integers far below 2^53). */
  private readonly tally: Float64Array;
  private text = '';
  private tailStart = 0;

  constructor(baseline: Baseline) {
    this.plan = planOf(baseline);
    this.values = new Float64Array(baseline.features.length);
    this.tally = new Float64Array(this.plan.slots);
  }

  /**
   * Scans the line of `text` (a byte string) that starts at `start`. Returns the offset after its
   * line break when the line has the common shape, with a record the fast path reads; otherwise -1,
   * and the line is for the JSON.parse path.
   */
  scan(text: string, start: number): number {
    HEAD.lastIndex = start;
    if (!HEAD.test(text)) return -1;
    const end = this.record(text, HEAD.lastIndex);
    if (end < 0) return -1;
    TAIL.lastIndex = end;
    if (!TAIL.test(text)) return -1;
    this.text = text;
    this.tailStart = end;
    return TAIL.lastIndex;
  }

  /** Reads the CSV record from `at` up to its closing quote; returns the quote's offset, or -1. */
  private record(text: string, at: number): number {
    const { numeric } = this.plan;
    const count = numeric.length;
    let i = at;
    for (let feature = 0; feature < count; feature++) {
      if (feature > 0) {
        if (text.charCodeAt(i) !== COMMA) return -1;
        i++;
      }
      let negative = false;
      if (numeric[feature] && text.charCodeAt(i) === MINUS) {
        negative = true;
        i++;
      }
      let digits = 0;
      let integer = 0;
      let c = text.charCodeAt(i);
      while (c >= ZERO && c <= NINE) {
        integer = integer * 10 + (c - ZERO);
        digits++;
        c = text.charCodeAt(++i);
      }
      if (digits === 0) return -1;
      let fraction = 0;
      if (c === DOT) {
        if (!numeric[feature]) return -1;
        c = text.charCodeAt(++i);
        while (c >= ZERO && c <= NINE) {
          integer = integer * 10 + (c - ZERO);
          digits++;
          fraction++;
          c = text.charCodeAt(++i);
        }
      }
      if (digits > MAX_DIGITS) return -1;
      const value = fraction === 0 ? integer : integer / POWERS_OF_TEN[fraction];
      this.values[feature] = negative ? -value : value;
    }
    return text.charCodeAt(i) === QUOTE ? i : -1;
  }

  /** Counts the last scanned record in the scanner's tally (see `addTallyTo`). */
  count(): void {
    const { numeric, innerEdges, integerSlots, largeSlots, otherSlot, offsets } = this.plan;
    const values = this.values;
    const tally = this.tally;
    for (let feature = 0; feature < values.length; feature++) {
      const value = values[feature];
      let slot: number;
      if (numeric[feature]) slot = bin(innerEdges[feature], value);
      else if (value < integerSlots[feature].length) slot = integerSlots[feature][value];
      else slot = largeSlots[feature].get(value) ?? otherSlot[feature];
      tally[offsets[feature] + slot] += 1;
    }
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
      this.plan.numeric[feature] ? value : String(value),
    );
    TAIL_WITH_ID.lastIndex = this.tailStart;
    const inferenceId = TAIL_WITH_ID.exec(this.text)?.[1];
    return inferenceId === undefined
      ? { rows: [row], problems: [] }
      : { rows: [row], problems: [], inferenceId };
  }
}

/** The tail again, for `parse`: exec reads the inference id, which counting has no use for. */
const TAIL_WITH_ID = new RegExp(TAIL_SOURCE, 'y');

function byteString(line: Uint8Array | string): string {
  const bytes = typeof line === 'string' ? Buffer.from(line, 'utf8') : Buffer.from(line);
  return bytes.toString('latin1');
}

/**
 * The fast path's parse of one line (bytes, or text encoded as UTF-8), or undefined when the line
 * is not of the common shape and needs `parseCaptureLine`.
 */
export function scanCaptureLine(line: Uint8Array | string, baseline: Baseline): CaptureParse | undefined {
  const scanner = new CaptureScanner(baseline);
  const text = byteString(line) + '\n';
  return scanner.scan(text, 0) === text.length ? scanner.parse() : undefined;
}
