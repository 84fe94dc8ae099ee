/** "Did you mean …?" for unknown config keys. */

/** Levenshtein edit distance (insertions, deletions, substitutions; each costs 1). */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost));
    }
    prev = row;
  }
  return prev[b.length];
}

/**
 * The known key closest to `key`, if it is close enough to be a plausible typo: at most a third of the key's length
 * in edits (min 1, max 3), compared case-insensitively so `ngpus` finds `nGPUs`. Ties go to the earlier candidate.
 */
export function closestKey(key: string, candidates: Iterable<string>): string | null {
  const needle = key.toLowerCase();
  const limit = Math.min(3, Math.max(1, Math.floor(needle.length / 3)));
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = levenshtein(needle, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : null;
}
