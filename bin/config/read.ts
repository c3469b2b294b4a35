import { ProblemCollector } from '../../lib/private/errors';
import { unknownKey } from './suggest';

/** A JSON object as read from context. */
export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Whether `raw` is an object: if not, reports it with `example` as the fix. Reports each key of it
 * that is not in `keys`, with the nearest allowed one.
 */
export function isKnownObject(
  at: string,
  raw: unknown,
  keys: readonly string[],
  example: string,
  problems: ProblemCollector,
): raw is Json {
  if (!isObject(raw)) {
    problems.add(at, raw, example);
    return false;
  }
  for (const key of Object.keys(raw).filter((k) => !keys.includes(k))) {
    problems.addMessage(unknownKey(at, key, keys));
  }
  return true;
}

/**
 * A block that is left out (its defaults), `true` or `false` (its defaults, switched on or off), or
 * an object of known keys whose `enabled` defaults to true. Returns the finished config in the first
 * two cases (and for a malformed block, reported), else the object and whether it is enabled.
 */
export function readSwitchable<T extends { enabled: boolean }>(
  at: string,
  raw: unknown,
  keys: readonly string[],
  example: string,
  defaults: T,
  problems: ProblemCollector,
): T | { block: Json; enabled: boolean } {
  if (raw === undefined) {
    return defaults;
  }
  if (typeof raw === 'boolean') {
    return { ...defaults, enabled: raw };
  }
  if (!isKnownObject(at, raw, keys, example, problems)) {
    return defaults;
  }
  const enabled = raw.enabled ?? true;
  if (typeof enabled !== 'boolean') {
    problems.add(`${at}.enabled`, enabled, 'use true or false');
  }
  return { block: raw, enabled: enabled === true };
}

/** A whole number from `min` to `max`, or `fallback` when it is left out; otherwise a problem and the fallback. */
export function wholeNumber(
  at: string,
  raw: unknown,
  fallback: number,
  min: number,
  max: number,
  problems: ProblemCollector,
): number {
  if (raw === undefined) {
    return fallback;
  }
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) {
    problems.add(at, raw, `use a whole number from ${min} to ${max}, or leave it out for ${fallback}`);
    return fallback;
  }
  return raw;
}
