import { rrf } from '../domain/fusion.js';
import { relevanceCurveFor, relevanceOf, type RelevanceCurve } from '../domain/relevance.js';
import type { Embedder } from '../embed/port.js';
import { AppError, ConfigError } from '../errors.js';
import type { LexicalIndex } from '../index/lexical.js';
import type { PointFilter, ScoredPoint, VectorIndex } from '../index/port.js';
import { coalesce } from './coalesce.js';

export interface Viewer {
  groups: string[];
  unrestricted: boolean;
}

export type SearchMode = 'dense' | 'bm25' | 'hybrid';

export interface SearchTimings {
  embedMs: number;
  retrieveMs: number;
}

/** A hit; `score` is the ranking score of the mode (cosine, BM25, or fused RRF). */
export interface RetrievedPoint extends ScoredPoint {
  /** Cosine similarity, when the dense retriever returned the point. */
  denseScore?: number;
  /** BM25 score, when the lexical retriever returned the point. */
  bm25Score?: number;
  /** 0-1, what users are shown (domain/relevance.ts); absent when the model has no fitted curve or no cosine is known. */
  relevance?: number;
}

export interface SearchOptions {
  /** Overrides the service's mode for one call. */
  mode?: SearchMode;
}

export interface SearchService {
  /** The mode used when a call names none. */
  readonly mode: SearchMode;
  search(query: string, k: number, viewer: Viewer, options?: SearchOptions): Promise<{ hits: RetrievedPoint[]; timings: SearchTimings }>;
}

export interface SearchDeps {
  index: VectorIndex & { refresh?: () => Promise<void> };
  embedder: Embedder;
  /** The served collection: the alias target, resolved per request so an alias switch is seen at once. */
  collection: () => Promise<string>;
  /**
   * The served collection together with the embedder of the model that made it, per request. When
   * given it wins over `collection`/`embedder`: queries are embedded with the served model, never
   * with whatever model is configured.
   */
  target?: () => Promise<{ collection: string; embedder: Embedder }>;
  /**
   * BM25 over the served collection: an index bound to one collection, or a function returning the
   * (fresh) index of a collection (see createLexicalSource). Absent: dense retrieval only.
   */
  lexical?: LexicalIndex | ((collection: string) => Promise<LexicalIndex>);
  /** Default: hybrid when `lexical` is given, dense otherwise. */
  mode?: SearchMode;
  /** Candidates each retriever contributes to fusion: max(k * factor, min). Defaults 4 and 50. */
  fusionDepth?: { factor: number; min: number };
}

/** ACLs are a filter inside the index query: a document the viewer may not see never competes for top-k. */
export function viewerFilter(viewer: Viewer): PointFilter | undefined {
  return viewer.unrestricted ? undefined : { aclAny: viewer.groups };
}

/** Reciprocal rank fusion of the two lists; the fused score replaces the retriever scores, which are kept beside it. */
export function fuseHits(dense: readonly ScoredPoint[], sparse: readonly ScoredPoint[], k: number): RetrievedPoint[] {
  const byId = new Map<string, RetrievedPoint>();
  for (const h of sparse) byId.set(h.id, { id: h.id, score: 0, payload: h.payload, bm25Score: h.score });
  // The dense payload wins: it comes straight from the vector index at query time.
  for (const h of dense) byId.set(h.id, { id: h.id, score: 0, payload: h.payload, denseScore: h.score, bm25Score: byId.get(h.id)?.bm25Score });
  return rrf([dense, sparse])
    .slice(0, k)
    .map(({ id, score }) => {
      const hit = byId.get(id)!;
      const out: RetrievedPoint = { id, score, payload: hit.payload };
      if (hit.denseScore !== undefined) out.denseScore = hit.denseScore;
      if (hit.bm25Score !== undefined) out.bm25Score = hit.bm25Score;
      return out;
    });
}

/**
 * Sets `relevance` from each hit's cosine. A fused hit the dense retriever did not return ranks below
 * every dense candidate, so its cosine is at most the last candidate's: that bound stands in for it.
 */
export function withRelevance(hits: RetrievedPoint[], curve: RelevanceCurve | undefined, denseFloor?: number): RetrievedPoint[] {
  if (!curve) return hits;
  for (const h of hits) {
    const cosine = h.denseScore ?? denseFloor;
    if (cosine !== undefined) h.relevance = relevanceOf(curve, cosine);
  }
  return hits;
}

/** The score a hit at 0-based `rank` gets when only its rank may be shown (same shape as RRF). */
export function rankScore(rank: number): number {
  return 1 / (60 + rank + 1);
}

export function createSearchService(deps: SearchDeps): SearchService {
  const mode = deps.mode ?? (deps.lexical ? 'hybrid' : 'dense');
  if (mode !== 'dense' && !deps.lexical) throw new ConfigError(`search mode ${mode} needs a lexical index`);
  const depth = deps.fusionDepth ?? { factor: 4, min: 50 };
  const source = deps.lexical;
  const lexicalFor = async (collection: string): Promise<LexicalIndex> => {
    if (!source) throw new AppError('INVALID_INPUT', 'this server has no lexical index: only dense search is available');
    if (typeof source === 'function') return source(collection);
    await source.refresh();
    return source;
  };
  // A read-only embedded index follows the writer's log; concurrent queries share one refresh.
  const refresh = deps.index.refresh ? coalesce(() => deps.index.refresh!()) : async () => {};

  return {
    mode,
    async search(query, k, viewer, options = {}) {
      const use = options.mode ?? mode;
      const filter = viewerFilter(viewer);
      const { collection, embedder } = deps.target ? await deps.target() : { collection: await deps.collection(), embedder: deps.embedder };
      const curve = relevanceCurveFor(embedder.modelId);
      const t0 = performance.now();
      const vector = use === 'bm25' ? undefined : await embedder.embedQuery(query);
      const t1 = performance.now();
      await refresh();
      let hits: RetrievedPoint[];
      if (use === 'dense') {
        hits = withRelevance((await deps.index.search(collection, vector!, k, filter)).map((h) => ({ ...h, denseScore: h.score })), curve);
      } else if (use === 'bm25') {
        // Raw BM25 depends on corpus statistics (IDF) that include documents the viewer cannot see:
        // a rank-based score leaks nothing about them. The raw score stays internal (bm25Score).
        // An index that holds BM25 itself (Qdrant's sparse vectors) answers inside; undefined: here.
        const inIndex = deps.index.lexicalSearch ? await deps.index.lexicalSearch(collection, query, k, filter) : undefined;
        hits = (inIndex ?? (await (await lexicalFor(collection)).search(query, k, filter))).map((h, rank) => ({
          ...h,
          score: rankScore(rank),
          bm25Score: h.score,
        }));
      } else {
        const n = Math.max(k * depth.factor, depth.min);
        // An index that fuses inside itself (Qdrant: dense + sparse BM25, RRF on the server) needs no
        // collection scrolled into memory; undefined means this collection cannot, so BM25 runs here.
        const inIndex = deps.index.hybridSearch ? await deps.index.hybridSearch(collection, vector!, query, k, filter, { depth: n }) : undefined;
        if (inIndex) {
          hits = inIndex.map((h) => ({ id: h.id, score: h.score, payload: h.payload }));
        } else {
          const lexical = await lexicalFor(collection);
          const dense = await deps.index.search(collection, vector!, n, filter);
          hits = withRelevance(fuseHits(dense, await lexical.search(query, n, filter), k), curve, dense.at(-1)?.score);
        }
      }
      return { hits, timings: { embedMs: t1 - t0, retrieveMs: performance.now() - t1 } };
    },
  };
}
