import { createBm25Index, type Bm25Index, type Bm25Params } from '../domain/bm25.js';
import type { ChunkPayload } from '../domain/types.js';
import { compileFilter } from './filter.js';
import type { PointFilter, ScoredPoint, VectorIndex } from './port.js';

/**
 * BM25 over one collection of a VectorIndex, rebuilt from the index itself (payload title + text), so
 * like every index it is a projection that can always be rebuilt. Filters apply while scoring; hits are
 * then re-read from the vector index and re-checked, so a point deleted or re-permissioned since the
 * last rebuild is never returned from a stale cache.
 */

export interface LexicalIndex {
  /** Rebuilds when the collection's point count differs from what was indexed (or on first use). */
  refresh(): Promise<void>;
  /** Rebuilds unconditionally (e.g. after re-ingesting a document with the same chunk count). */
  rebuild(): Promise<void>;
  search(query: string, k: number, filter?: PointFilter): Promise<ScoredPoint[]>;
  readonly size: number;
}

export interface LexicalIndexOptions extends Partial<Bm25Params> {
  /** Re-read hits from the vector index before returning them. Default true. */
  recheckHits?: boolean;
}

/** PointFilter semantics of the port (shared with the embedded index): every given condition holds. */
export function payloadFilter(filter: PointFilter | undefined): (payload: ChunkPayload) => boolean {
  const { documentIds, predicate } = compileFilter(filter);
  const allowed = documentIds ? new Set(documentIds) : undefined;
  return (p) => (!allowed || allowed.has(p.documentId)) && (!predicate || predicate(p));
}

/** Chunks of one document version share documentId, contentHash and acl: the filter is decided once per key. */
function filterKey(p: ChunkPayload): string {
  return `${p.documentId}\u0000${p.contentHash}\u0000${[...p.acl].sort().join('\u0001')}`;
}

export function createLexicalIndex(vectorIndex: VectorIndex, collection: string, options: LexicalIndexOptions = {}): LexicalIndex {
  let bm25: Bm25Index = createBm25Index(options);
  let payloads = new Map<string, ChunkPayload>();
  let indexedCount = -1;
  let building: Promise<void> | undefined;

  async function build(): Promise<void> {
    const next = createBm25Index(options);
    const nextPayloads = new Map<string, ChunkPayload>();
    await vectorIndex.scroll(collection, undefined, (id, payload) => {
      nextPayloads.set(id, payload);
      next.add(id, `${payload.title}\n${payload.text}`, filterKey(payload));
    });
    bm25 = next;
    payloads = nextPayloads;
    indexedCount = nextPayloads.size;
  }

  // Concurrent callers share one rebuild instead of each scrolling the whole collection.
  function once(): Promise<void> {
    building ??= build().finally(() => {
      building = undefined;
    });
    return building;
  }

  // A re-ingested document with as many chunks as before keeps the count but changes the points: the
  // revision token (when the adapter has one) sees that, the count alone would not.
  let indexedRevision: string | undefined;
  async function refresh(): Promise<void> {
    if (building) return building;
    if (vectorIndex.revision) {
      const revision = await vectorIndex.revision(collection);
      if (revision !== indexedRevision || indexedCount < 0) {
        await once();
        indexedRevision = revision;
      }
      return;
    }
    const count = await vectorIndex.count(collection);
    if (count !== indexedCount) await once();
  }

  async function search(query: string, k: number, filter?: PointFilter): Promise<ScoredPoint[]> {
    if (indexedCount < 0) await once();
    if (k <= 0) return [];
    const matches = payloadFilter(filter);
    const hits = bm25.search(query, k, (id) => {
      const p = payloads.get(id);
      return p !== undefined && matches(p);
    });
    if (hits.length === 0) return [];
    if (options.recheckHits === false) return hits.map((h) => ({ id: h.id, score: h.score, payload: payloads.get(h.id)! }));

    const fresh = new Map((await vectorIndex.retrieve(collection, hits.map((h) => h.id))).map((p) => [p.id, p.payload]));
    const out: ScoredPoint[] = [];
    for (const h of hits) {
      const payload = fresh.get(h.id);
      if (payload && matches(payload)) out.push({ id: h.id, score: h.score, payload });
    }
    return out;
  }

  return {
    refresh,
    rebuild: once,
    search,
    get size() {
      return bm25.size;
    },
  };
}
