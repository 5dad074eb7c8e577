import { compareRankings } from '../domain/probe.js';
import { AppError } from '../errors.js';
import { copyCollection } from '../index/copy.js';
import type { IndexPoint, PointFilter, VectorIndex } from '../index/port.js';

export interface MigrateOptions {
  /** The served alias (the collection prefix); it is set on the target only once the copy is proven. */
  alias: string;
  /** The collection to copy; default: the one the alias serves in the source. */
  collection?: string;
  /** Probe vectors (stored vectors of evenly spread points, used as queries); default 50. */
  probes?: number;
  /** False: copy and verify, but leave the target's alias alone. */
  switchAlias?: boolean;
  progress?: (stage: 'copy' | 'verify', done: number, total: number) => void;
}

export interface MigrateReport {
  alias: string;
  collection: string;
  dimension: number;
  points: { source: number; target: number };
  idsIdentical: boolean;
  /** Probes without a filter, and with the probe point's first ACL group as the viewer's only group. */
  probes: number;
  top10Exact: number;
  top10UpToTies: number;
  aclProbes: number;
  aclTop10UpToTies: number;
  /** The source collection took writes while it was copied: the copy may miss them, so no switch. */
  sourceChanged: boolean;
  proven: boolean;
  switched: boolean;
  previousTarget?: string;
  seconds: number;
}

const K = 10;

async function sortedIds(index: VectorIndex, collection: string): Promise<string[]> {
  const ids: string[] = [];
  await index.scroll(collection, undefined, (id) => ids.push(id));
  return ids.sort();
}

async function revisionOf(index: VectorIndex, collection: string): Promise<string> {
  return index.revision ? index.revision(collection) : String(await index.count(collection));
}

/**
 * Copies the served collection to another index (embedded -> Qdrant) and proves the copy before the
 * target's alias moves: the same point ids, and the same top-10 for probe vectors with and without an
 * ACL filter (the target searched exactly, so an approximate graph cannot blur the comparison). The
 * store (catalog, pipeline records) is shared by both backends and is not touched.
 */
export async function migrateServedCollection(
  deps: { from: VectorIndex & { refresh?: () => Promise<void> }; to: VectorIndex },
  opts: MigrateOptions,
): Promise<MigrateReport> {
  const t0 = performance.now();
  const collection = opts.collection ?? (await deps.from.getAlias(opts.alias));
  if (!collection) {
    throw new AppError('NOT_FOUND', `the source index serves nothing: alias ${opts.alias} is not set (name one with --collection)`, {
      details: { alias: opts.alias },
    });
  }
  const wanted = Math.max(1, Math.floor(opts.probes ?? 50));
  const before = await revisionOf(deps.from, collection);
  const total = await deps.from.count(collection);
  const step = Math.max(1, Math.floor(total / wanted));
  const samples: IndexPoint[] = [];
  let seen = 0;
  const copied = await copyCollection(deps.from, deps.to, collection, collection, {
    progress: ({ copied: done, total: all }) => opts.progress?.('copy', done, all),
    onPage: (page) => {
      for (const p of page) if (seen++ % step === 0 && samples.length < wanted) samples.push({ ...p, vector: p.vector.slice() });
    },
  });

  const [sourceIds, targetIds] = [await sortedIds(deps.from, collection), await sortedIds(deps.to, collection)];
  const idsIdentical = sourceIds.length === targetIds.length && sourceIds.every((id, i) => id === targetIds[i]);

  let top10Exact = 0;
  let top10UpToTies = 0;
  let aclProbes = 0;
  let aclTop10UpToTies = 0;
  const same = async (vector: Float32Array, filter?: PointFilter) =>
    compareRankings(await deps.from.search(collection, vector, K, filter, { exact: true }), await deps.to.search(collection, vector, K, filter, { exact: true }));
  for (const [i, p] of samples.entries()) {
    const plain = await same(p.vector);
    if (plain.exact) top10Exact += 1;
    if (plain.upToTies) top10UpToTies += 1;
    const group = p.payload.acl?.[0];
    if (group !== undefined) {
      aclProbes += 1;
      if ((await same(p.vector, { aclAny: [group] })).upToTies) aclTop10UpToTies += 1;
    }
    opts.progress?.('verify', i + 1, samples.length);
  }

  await deps.from.refresh?.();
  const sourceChanged = (await revisionOf(deps.from, collection)) !== before;
  const proven = idsIdentical && top10UpToTies === samples.length && aclTop10UpToTies === aclProbes && !sourceChanged;
  const previousTarget = await deps.to.getAlias(opts.alias);
  let switched = false;
  if (proven && opts.switchAlias !== false) {
    await deps.to.setAlias(opts.alias, collection);
    switched = true;
  }
  return {
    alias: opts.alias,
    collection,
    dimension: copied.dimension,
    points: { source: sourceIds.length, target: targetIds.length },
    idsIdentical,
    probes: samples.length,
    top10Exact,
    top10UpToTies,
    aclProbes,
    aclTop10UpToTies,
    sourceChanged,
    proven,
    switched,
    previousTarget,
    seconds: (performance.now() - t0) / 1000,
  };
}
