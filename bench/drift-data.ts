// The drift benchmark's data, from a fixed seed: a training frame of taxi trips (train.csv, which
// ml/preprocess.py's baseline() turns into baseline.json and Evidently reads as its reference) and
// one capture file of SageMaker data capture records (JSON Lines, CSV payloads, about 370 bytes a
// line, as a real-time endpoint writes them), drawn from slightly shifted distributions.
import * as fs from 'node:fs';

/** The reference workload's model input columns, in order (preprocess.py FEATURES). */
export const FEATURES = ['trip_distance', 'pickup_hour', 'pickup_weekday', 'PULocationID', 'DOLocationID'];
export const LABEL = 'duration';
export const SEED = 20261201;

/** sfc32: small, fast, seedable, the same sequence on every machine. */
class Random {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;
  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = seed >>> 0;
    for (let i = 0; i < 12; i++) this.next();
  }
  private next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  /** A uniform double in [0, 1). */
  uniform(): number {
    return this.next() / 2 ** 32;
  }
  normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.uniform())) * Math.cos(2 * Math.PI * this.uniform());
  }
  integer(below: number): number {
    return Math.floor(this.uniform() * below);
  }
  hex(digits: number): string {
    let text = '';
    while (text.length < digits) text += this.next().toString(16).padStart(8, '0');
    return text.slice(0, digits);
  }
  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
  }
}

/** A zone from 1 to 265 with Zipf-like weights, as pick-ups and drop-offs cluster in a few zones. */
function zipfSampler(power: number): (random: Random) => number {
  const cumulative: number[] = [];
  let total = 0;
  for (let zone = 1; zone <= 265; zone++) {
    total += 1 / zone ** power;
    cumulative.push(total);
  }
  // Zones shuffled once with a fixed seed, so that the busiest zones are not 1, 2, 3.
  const zones = Array.from({ length: 265 }, (_, i) => i + 1);
  const shuffle = new Random(7);
  for (let i = zones.length - 1; i > 0; i--) {
    const j = shuffle.integer(i + 1);
    [zones[i], zones[j]] = [zones[j], zones[i]];
  }
  return (random) => {
    const target = random.uniform() * total;
    let low = 0;
    let high = cumulative.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (cumulative[middle] < target) low = middle + 1;
      else high = middle;
    }
    return zones[low];
  };
}

interface Shift {
  readonly distance: number;
  readonly zonePower: number;
}

function tripSampler(shift: Shift): (random: Random) => (number | string)[] {
  const pickUp = zipfSampler(shift.zonePower);
  const dropOff = zipfSampler(1.1);
  return (random) => {
    const distance = Math.min(99, Math.exp(0.8 + shift.distance + 0.7 * random.normal()));
    return [distance.toFixed(2), random.integer(24), random.integer(7), pickUp(random), dropOff(random)];
  };
}

/** Writes lines to a file in large blocks (the generator's own speed is not measured). */
function writeLines(file: string, count: number, lineOf: (i: number) => string): void {
  const fd = fs.openSync(file, 'w');
  try {
    let block: string[] = [];
    for (let i = 0; i < count; i++) {
      block.push(lineOf(i));
      if (block.length === 20000) {
        fs.writeSync(fd, block.join('\n') + '\n');
        block = [];
      }
    }
    if (block.length > 0) fs.writeSync(fd, block.join('\n') + '\n');
  } finally {
    fs.closeSync(fd);
  }
}

/** train.csv: a header, then the label and the features, as preprocess.py's split frames have them. */
export function writeTraining(file: string, rows: number, seed = SEED): void {
  const random = new Random(seed);
  const trip = tripSampler({ distance: 0, zonePower: 1 });
  fs.writeFileSync(file, [LABEL, ...FEATURES].join(',') + '\n');
  const fd = fs.openSync(file, 'a');
  try {
    const block: string[] = [];
    for (let i = 0; i < rows; i++) {
      const values = trip(random);
      block.push([(4 + 3 * Number(values[0])).toFixed(2), ...values].join(','));
    }
    fs.writeSync(fd, block.join('\n') + '\n');
  } finally {
    fs.closeSync(fd);
  }
}

/** One capture file of `lines` records, each an inference with a CSV request and response. */
export function writeCapture(file: string, lines: number, seed = SEED + 1): void {
  const random = new Random(seed);
  const trip = tripSampler({ distance: 0.15, zonePower: 0.9 });
  const start = Date.UTC(2026, 11, 1, 10);
  writeLines(file, lines, (i) => {
    const values = trip(random);
    const time = new Date(start + Math.floor((i * 3600_000) / lines)).toISOString().replace(/\.\d+Z$/, 'Z');
    return (
      `{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT",` +
      `"data":"${values.join(',')}","encoding":"CSV"},` +
      `"endpointOutput":{"observedContentType":"text/csv; charset=utf-8","mode":"OUTPUT",` +
      `"data":"${(4 + 3 * Number(values[0])).toFixed(3)}","encoding":"CSV"}},` +
      `"eventMetadata":{"eventId":"${random.uuid()}","inferenceId":"${random.hex(12)}",` +
      `"inferenceTime":"${time}"},"eventVersion":"0"}`
    );
  });
}
