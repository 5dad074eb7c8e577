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
