/** The hour folders SageMaker data capture (and the platform's ground-truth uploads) write to. */

const HOUR_MS = 3600_000;

/**
 * The hour prefixes of `hours` whole UTC hours from `start` under `base`: SageMaker writes
 * `yyyy/mm/dd/hh/` in UTC, after `<capture prefix><endpoint>/<variant>/`.
 */
export function hourPrefixes(
  base: string,
  window: { readonly start: Date; readonly hours: number },
): string[] {
  const pad = (n: number) => String(n).padStart(2, '0');
  return Array.from({ length: window.hours }, (_, i) => {
    const hour = new Date(window.start.getTime() + i * HOUR_MS);
    return `${base}${hour.getUTCFullYear()}/${pad(hour.getUTCMonth() + 1)}/${pad(hour.getUTCDate())}/${pad(hour.getUTCHours())}/`;
  });
}
