// Suggestions for misspelt config keys.

/** The problem for a key that is not allowed, with the nearest allowed key when it looks like a typo. */
export function unknownKey(at: string, key: string, allowed: readonly string[]): string {
  const suggestion = closest(key, allowed);
  return (
    `${at}.${key} is not a known key: ` +
    (suggestion ? `did you mean '${suggestion}'? ` : '') +
    `use one of ${allowed.join(', ')}`
  );
}

/** The allowed key nearest to a misspelt one, when it is plausibly a typo. */
function closest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of allowed) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}
