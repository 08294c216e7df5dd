/**
 * "did you mean" suggestions, one implementation for every place a user names something from a
 * known list: commands, flags, enum values (regimes, datasets, backends...), spec keys.
 */

/** Edit distance with adjacent transpositions counted as one edit (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The closest candidate within a third of the word's length (at least 1, case-insensitive), or
 * undefined. A candidate the word is a prefix of (or that is a prefix of the word) counts as one
 * edit away when they differ by a few letters ('dnpf' -> 'dnpfl', 'work' -> 'workers').
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  const limit = Math.max(1, Math.floor(w.length / 3));
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const lc = c.toLowerCase();
    const prefix = w.length >= 3 && (lc.startsWith(w) || w.startsWith(lc));
    const d = prefix ? Math.min(1, editDistance(w, lc)) : editDistance(w, lc);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= limit ? best : undefined;
}

/** ` (did you mean 'x'?)` or ''. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const c = closest(word, candidates);
  return c !== undefined ? ` (did you mean '${c}'?)` : '';
}
