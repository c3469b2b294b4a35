// The window of a drift run and its batches: shared by the drift job and its planner, without
// the SDK clients either creates.

/**
 * One range of a window's capture objects under one hour prefix: the keys after `startAfter` (from
 * the first when absent) up to and including `lastKey`, in S3's listing order. Ranges of one prefix
 * never overlap, so every object is counted by exactly one batch.
 */
export interface DriftBatch {
  /** The batch's position in the window: names its histogram object. */
  readonly index: number;
  readonly prefix: string;
  readonly startAfter?: string;
  readonly lastKey: string;
}

/** The hour prefixes of the window: SageMaker writes capture files under yyyy/mm/dd/hh in UTC. */
export function windowPrefixes(
  event: {
    readonly capturePrefix: string;
    readonly endpointName: string;
    readonly variantName: string;
    readonly windowHours?: number;
  },
  now: Date,
): { prefixes: string[]; end: Date } {
  const hours = event.windowHours ?? 1;
  const end = new Date(now);
  end.setUTCMinutes(0, 0, 0);
  const base = `${event.capturePrefix}${event.endpointName}/${event.variantName}/`;
  const prefixes: string[] = [];
  for (let i = hours; i >= 1; i--) {
    const hour = new Date(end.getTime() - i * 3600_000);
    const pad = (n: number) => String(n).padStart(2, '0');
    prefixes.push(
      `${base}${hour.getUTCFullYear()}/${pad(hour.getUTCMonth() + 1)}/${pad(hour.getUTCDate())}/${pad(hour.getUTCHours())}/`,
    );
  }
  return { prefixes, end };
}
