/*
 * The production traffic the simulation seeds: the champion's training baseline (the shape
 * ml/preprocess.py writes), an hour of requests the endpoint captured (SageMaker's data capture
 * JSON Lines) whose trips are longer and start from the airport more often than in training, and
 * the ground truth that arrived for them (SageMaker's ground-truth merge shape). Deterministic:
 * the same rows on every run.
 */

/** The trip-duration model's input columns, in order (ml/preprocess.py FEATURES). */
const FEATURES = ['trip_distance', 'pickup_hour', 'pickup_weekday', 'PULocationID', 'DOLocationID'];

export interface CaptureDataset {
  readonly baseline: Record<string, unknown>;
  /** Where the endpoint captures, under the level-4 environment's artifact store. */
  readonly capturePrefix: string;
  readonly groundTruthPrefix: string;
  /** Object key -> body: the capture files and the ground-truth files of the window. */
  readonly objects: Record<string, string>;
  readonly rows: number;
  /**
   * The training rows the requests give once joined with their ground truth (the label, then the
   * features, as numbers), in request order: what retraining on this traffic must read.
   */
  readonly trainingRows: readonly string[];
}

/** The training baseline: distance mostly short, pickups spread over the day and the zones. */
export function trainingBaseline(): Record<string, unknown> {
  return {
    schema_version: 1,
    rows: 10000,
    label: 'duration',
    feature_order: FEATURES,
    features: {
      trip_distance: {
        type: 'numeric',
        bin_edges: [null, 1, 2, 5, null],
        proportions: [0.3, 0.3, 0.3, 0.1],
        mean: 2.4,
        std: 1.9,
      },
      pickup_hour: {
        type: 'numeric',
        bin_edges: [null, 6, 12, 18, null],
        proportions: [0.25, 0.25, 0.25, 0.25],
        mean: 12,
        std: 6.9,
      },
      pickup_weekday: {
        type: 'numeric',
        bin_edges: [null, 2, 4, null],
        proportions: [0.3, 0.3, 0.4],
        mean: 3,
        std: 2,
      },
      PULocationID: { type: 'categorical', proportions: { '132': 0.1, '236': 0.3, '161': 0.3 }, other: 0.3 },
      DOLocationID: { type: 'categorical', proportions: { '236': 0.3, '161': 0.3, '48': 0.2 }, other: 0.2 },
    },
  };
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * `rows` requests captured by `endpointName` in the hour before `windowEnd`, in `files` capture
 * files, and their ground truth. Four trips in five are long airport trips (zone 132): the
 * distance and the pickup zone drift; the hour and the weekday do not.
 */
export function driftedTraffic(
  endpointName: string,
  variantName: string,
  windowEnd: Date,
  rows = 400,
  files = 4,
): CaptureDataset {
  const hour = new Date(windowEnd.getTime() - 3600_000);
  const path = `${hour.getUTCFullYear()}/${pad(hour.getUTCMonth() + 1)}/${pad(hour.getUTCDate())}/${pad(hour.getUTCHours())}`;
  const capturePrefix = `capture/${endpointName}/${variantName}/`;
  const groundTruthPrefix = `ground-truth/${endpointName}/${variantName}/`;
  const capture: string[][] = Array.from({ length: files }, () => []);
  const truth: string[][] = Array.from({ length: files }, () => []);
  const trainingRows: string[] = [];
  for (let i = 0; i < rows; i++) {
    const airport = i % 5 !== 0;
    const distance = airport ? 8 + (i % 13) * 0.9 : 0.6 + (i % 4) * 0.5;
    const features = [
      distance.toFixed(2),
      String(i % 24),
      String(i % 7),
      airport ? '132' : ['236', '161', '7'][i % 3],
      ['236', '161', '48', '230'][i % 4],
    ];
    const at = new Date(hour.getTime() + Math.floor((i * 3600_000) / rows)).toISOString();
    const id = `sim-${hour.toISOString().slice(0, 13)}-${i}`;
    const duration = (distance * 2.9 + 4 + (i % 5)).toFixed(1);
    capture[i % files].push(
      JSON.stringify({
        captureData: {
          endpointInput: {
            observedContentType: 'text/csv',
            mode: 'INPUT',
            data: features.join(','),
            encoding: 'CSV',
          },
          endpointOutput: {
            observedContentType: 'text/csv',
            mode: 'OUTPUT',
            data: duration,
            encoding: 'CSV',
          },
        },
        eventMetadata: { eventId: `event-${i}`, inferenceId: id, inferenceTime: at },
        eventVersion: '0',
      }),
    );
    const label = (Number(duration) + ((i % 7) - 3) * 0.8).toFixed(1);
    trainingRows.push([label, ...features].map((v) => String(Number(v))).join(','));
    truth[i % files].push(
      JSON.stringify({
        groundTruthData: { data: label, encoding: 'CSV' },
        eventMetadata: { eventId: id },
        eventVersion: '0',
      }),
    );
  }
  const objects: Record<string, string> = {};
  for (let f = 0; f < files; f++) {
    objects[`${capturePrefix}${path}/capture-${f}.jsonl`] = `${capture[f].join('\n')}\n`;
    objects[`${groundTruthPrefix}${path}/labels-${f}.jsonl`] = `${truth[f].join('\n')}\n`;
  }
  return { baseline: trainingBaseline(), capturePrefix, groundTruthPrefix, objects, rows, trainingRows };
}

/** The live traffic of an online trial: capture and label objects, by bucket and key. */
export interface LiveTrialTraffic {
  readonly objects: ReadonlyArray<{ readonly bucket: string; readonly key: string; readonly body: string }>;
  /** Requests the champion answered in the window, and the copies the shadow answered. */
  readonly championRequests: number;
  readonly shadowRequests: number;
}

const S3_URL = /^s3:\/\/([^/]+)\/(.*)$/;

function bucketAndPrefix(url: string): { bucket: string; prefix: string } {
  const match = S3_URL.exec(url);
  if (!match) throw new Error(`${url} is not an s3://<bucket>/<prefix> URL`);
  return { bucket: match[1], prefix: match[2] };
}

/**
 * What the endpoint captured while the challenger served as its shadow: `requestsPerHour` requests
 * in each hour from `windowStart` on, answered by the champion's variant, every `shadowEvery`-th of
 * them copied to the shadow's (the shadow's share of the requests), and the label of every request.
 * The objects are where the level-4 environment publishes them (its production data parameter):
 * `<captureUrl><variant>/yyyy/mm/dd/hh/` and `<groundTruthUrl>yyyy/mm/dd/hh/`. The champion misses
 * the label by at most a minute; the shadow, which won offline, misses it by up to 3.6 minutes.
 */
export function liveTrialTraffic(options: {
  readonly location: { readonly captureUrl: string; readonly groundTruthUrl: string };
  readonly championVariant: string;
  readonly shadowVariant: string;
  readonly windowStart: Date;
  readonly hours: number;
  readonly requestsPerHour: number;
  readonly shadowEvery: number;
}): LiveTrialTraffic {
  const capture = bucketAndPrefix(options.location.captureUrl);
  const groundTruth = bucketAndPrefix(options.location.groundTruthUrl);
  const objects: Array<{ bucket: string; key: string; body: string }> = [];
  const captureLine = (id: string, at: string, features: string, prediction: number) =>
    JSON.stringify({
      captureData: {
        endpointInput: { observedContentType: 'text/csv', mode: 'INPUT', data: features, encoding: 'CSV' },
        endpointOutput: {
          observedContentType: 'text/csv',
          mode: 'OUTPUT',
          data: prediction.toFixed(1),
          encoding: 'CSV',
        },
      },
      eventMetadata: { eventId: `event-${id}`, inferenceId: id, inferenceTime: at },
      eventVersion: '0',
    });
  let shadowRequests = 0;
  for (let h = 0; h < options.hours; h++) {
    const hour = new Date(options.windowStart.getTime() + h * 3600_000);
    const path = `${hour.getUTCFullYear()}/${pad(hour.getUTCMonth() + 1)}/${pad(hour.getUTCDate())}/${pad(hour.getUTCHours())}`;
    const champion: string[] = [];
    const shadow: string[] = [];
    const labels: string[] = [];
    for (let r = 0; r < options.requestsPerHour; r++) {
      const i = h * options.requestsPerHour + r;
      const distance = 0.6 + (i % 11) * 0.9;
      const features = [distance.toFixed(2), String(hour.getUTCHours()), String(i % 7), '236', '161'].join(
        ',',
      );
      const label = Number((distance * 2.9 + 4 + (i % 5)).toFixed(1));
      const id = `trial-${hour.toISOString().slice(0, 13)}-${r}`;
      const at = new Date(
        hour.getTime() + Math.floor((r * 3600_000) / options.requestsPerHour),
      ).toISOString();
      champion.push(captureLine(id, at, features, label + ((i % 5) - 2) * 0.5));
      if (i % options.shadowEvery === 0) {
        shadow.push(captureLine(id, at, features, label + ((i % 7) - 3) * 1.2));
        shadowRequests += 1;
      }
      labels.push(
        JSON.stringify({
          groundTruthData: { data: label.toFixed(1), encoding: 'CSV' },
          eventMetadata: { eventId: id },
          eventVersion: '0',
        }),
      );
    }
    const jsonl = (lines: string[]) => `${lines.join('\n')}\n`;
    objects.push(
      {
        bucket: capture.bucket,
        key: `${capture.prefix}${options.championVariant}/${path}/capture.jsonl`,
        body: jsonl(champion),
      },
      {
        bucket: capture.bucket,
        key: `${capture.prefix}${options.shadowVariant}/${path}/capture.jsonl`,
        body: jsonl(shadow),
      },
      { bucket: groundTruth.bucket, key: `${groundTruth.prefix}${path}/labels.jsonl`, body: jsonl(labels) },
    );
  }
  return { objects, championRequests: options.hours * options.requestsPerHour, shadowRequests };
}
