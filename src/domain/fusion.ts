/**
 * Reciprocal rank fusion (Cormack, Clarke & Buettcher, 2009): score(d) = sum over lists of
 * weight / (k + rank), rank starting at 1. Uses ranks only, so dense cosine scores and BM25 scores
 * need no calibration against each other.
 */

export interface FusedHit {
  id: string;
  score: number;
}

export interface RrfOptions {
  /** Damping constant; 60 as in the paper. */
  k?: number;
  /** One weight per list (default 1 each). */
  weights?: readonly number[];
}

/**
 * Fuses ranked lists (best first). An id repeated inside one list counts at its best rank only.
 * Ties break by the id's best rank in any list, then by the earlier list, so output is deterministic
 * and independent of Map iteration details.
 */
export function rrf(lists: readonly (readonly { id: string }[])[], kOrOptions: number | RrfOptions = 60): FusedHit[] {
  const opts: RrfOptions = typeof kOrOptions === 'number' ? { k: kOrOptions } : kOrOptions;
  const k = opts.k ?? 60;
  if (!(k >= 0)) throw new RangeError('rrf needs k >= 0');
  if (opts.weights && opts.weights.length !== lists.length) throw new RangeError('rrf needs one weight per list');

  const acc = new Map<string, { score: number; bestRank: number; bestList: number }>();
  lists.forEach((list, li) => {
    const weight = opts.weights?.[li] ?? 1;
    const seen = new Set<string>();
    list.forEach(({ id }, index) => {
      if (seen.has(id)) return;
      seen.add(id);
      const rank = index + 1;
      const add = weight / (k + rank);
      const cur = acc.get(id);
      if (!cur) acc.set(id, { score: add, bestRank: rank, bestList: li });
      else {
        cur.score += add;
        if (rank < cur.bestRank) {
          cur.bestRank = rank;
          cur.bestList = li;
        }
      }
    });
  });

  return [...acc.entries()]
    .sort(([, a], [, b]) => scoreOrder(a.score, b.score) || a.bestRank - b.bestRank || a.bestList - b.bestList)
    .map(([id, v]) => ({ id, score: v.score }));
}

/** Sums of the same reciprocals added in a different order can differ in the last bit: treat as equal. */
function scoreOrder(a: number, b: number): number {
  return Math.abs(a - b) <= 1e-12 ? 0 : b - a;
}
