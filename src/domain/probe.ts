/** A fixed probe of a collection, taken before and after a rebuild to prove it is the same projection. */
export interface ProbeResult {
  points: number;
  /** SHA-256 over the sorted point ids: equal sets give equal digests. */
  idsDigest: string;
  /** Top-10 point ids per probe vector. */
  topK: string[][];
}

/** Pure, so the rebuild workflow compares the probes itself. */
export function compareProbes(before: ProbeResult, after: ProbeResult): { idsIdentical: boolean; top10Identical: number; probes: number } {
  let same = 0;
  before.topK.forEach((ids, i) => {
    const other = after.topK[i] ?? [];
    if (ids.length === other.length && ids.every((id, j) => id === other[j])) same += 1;
  });
  return { idsIdentical: before.points === after.points && before.idsDigest === after.idsDigest, top10Identical: same, probes: before.topK.length };
}

/** A ranked hit as two engines report it: the id and its similarity. */
export interface RankedId {
  id: string;
  score: number;
}

/**
 * Whether two top-k lists from different engines are the same ranking. `exact`: the same ids in the same
 * order. `upToTies`: where they differ, only by the order of hits whose scores lie within `eps` of each
 * other (two engines compute a float dot product in different orders, so a near tie may swap, and the
 * hit just past the cut may trade places with the last one inside it). Anything else is a difference.
 */
export function compareRankings(a: readonly RankedId[], b: readonly RankedId[], eps = 1e-5): { exact: boolean; upToTies: boolean } {
  const exact = a.length === b.length && a.every((h, i) => h.id === b[i].id);
  if (exact) return { exact, upToTies: true };
  if (a.length !== b.length) return { exact, upToTies: false };
  // Same score at every rank, and every id missing from the other list sits in a tie at the boundary.
  if (!a.every((h, i) => Math.abs(h.score - b[i].score) <= eps)) return { exact, upToTies: false };
  const inB = new Map(b.map((h) => [h.id, h.score]));
  const inA = new Set(a.map((h) => h.id));
  const last = Math.min(a[a.length - 1]?.score ?? 0, b[b.length - 1]?.score ?? 0);
  for (const h of a) {
    const other = inB.get(h.id);
    if (other === undefined ? Math.abs(h.score - last) > eps : Math.abs(h.score - other) > eps) return { exact, upToTies: false };
  }
  for (const h of b) if (!inA.has(h.id) && Math.abs(h.score - last) > eps) return { exact, upToTies: false };
  return { exact, upToTies: true };
}
