// "Did you mean …?" for the command line and for handler exports: the
// candidates within two edits of what was typed, case aside.

/** Levenshtein distance, case-insensitive. */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length];
}

/** The candidates nearest to `typed` (at most two edits away), nearest first. */
export function nearest(typed: string, candidates: string[]): string[] {
  const scored = candidates.map((c) => [distance(typed, c), c] as const).filter(([d]) => d <= 2);
  const best = Math.min(...scored.map(([d]) => d));
  return scored.filter(([d]) => d === best).map(([, c]) => c);
}
