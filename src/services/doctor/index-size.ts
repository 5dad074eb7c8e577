import type { CollectionInfo } from '../../index/port.js';
import { ok, skipped, warn, type CheckResult } from './check.js';

export interface IndexCeiling {
  points: number;
  dimension: number;
}

/**
 * Where the embedded index stops serving well on one machine, from `npm run bench:scale` (README,
 * "Measured"): at 384 dimensions, on a shared 2-core machine under load, its exact top-10 passed
 * 100 ms p99 between 200k points (51 ms) and 500k (171 ms), and start-up replays the whole log (6.1 s
 * at 500k, 11.6 s at 1M). Both costs grow with points x dimension, so a wider model reaches the
 * ceiling at proportionally fewer points.
 */
export const EMBEDDED_INDEX_CEILING: IndexCeiling = { points: 400_000, dimension: 384 };

/** The ceiling in points for a collection of `dimension`. */
export function ceilingPoints(dimension: number, ceiling: IndexCeiling = EMBEDDED_INDEX_CEILING): number {
  return Math.floor((ceiling.points * ceiling.dimension) / Math.max(1, dimension));
}

const MOVE_TO_QDRANT =
  'move the collection to Qdrant: run a Qdrant server, `srag index migrate --to qdrant --qdrant-url URL`, then set QDRANT_URL for the API and workers (README, "Moving to Qdrant")';

/**
 * Whether the served collection has outgrown the embedded index. `served` is what the index check
 * found; without it there is nothing to measure. Qdrant has no such ceiling on one machine's terms.
 */
export function checkIndexSize(
  qdrant: boolean,
  served: CollectionInfo | undefined,
  ceiling: IndexCeiling = EMBEDDED_INDEX_CEILING,
  name = 'index-size',
): CheckResult {
  if (!served) return skipped(name, 'skipped: no served collection to measure');
  const limit = ceilingPoints(served.dimension, ceiling);
  const points = served.points.toLocaleString('en-US');
  if (qdrant) return ok(name, `${points} points on Qdrant; the embedded index's ceiling (${limit.toLocaleString('en-US')} at ${served.dimension} d) does not apply`);
  const share = `${points} points at ${served.dimension} d: ${Math.round((served.points / limit) * 100)} % of the embedded index's ceiling of ${limit.toLocaleString('en-US')}`;
  if (served.points > limit) {
    return warn(name, `${share}; past it, exact search p99 exceeds 100 ms and start-up replays the whole log`, MOVE_TO_QDRANT);
  }
  return ok(name, share);
}
