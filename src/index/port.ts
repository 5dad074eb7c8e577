import type { ChunkPayload } from '../domain/types.js';

/**
 * The VectorIndex port. Shaped after Qdrant (collections, aliases, payload filters, snapshots) so the
 * embedded adapter and the Qdrant adapter are interchangeable and pass the same contract tests.
 */
export interface IndexPoint {
  /** UUID (chunk point id). */
  id: string;
  vector: Float32Array;
  payload: ChunkPayload;
}

export interface ScoredPoint {
  id: string;
  score: number;
  payload: ChunkPayload;
}

/** All given conditions must hold. `aclAny`: the point's acl shares a group with it, or the point's acl is empty (public). */
export interface PointFilter {
  documentId?: string;
  documentIds?: string[];
  contentHash?: string;
  notContentHash?: string;
  aclAny?: string[];
}

export interface CollectionInfo {
  name: string;
  dimension: number;
  points: number;
}

export interface SnapshotInfo {
  collection: string;
  path: string;
  points: number;
  bytes: number;
  createdAt: string;
}

export interface VectorIndex {
  ensureCollection(name: string, dimension: number): Promise<void>;
  listCollections(): Promise<CollectionInfo[]>;
  dropCollection(name: string): Promise<void>;
  /** Insert or replace by id. */
  upsert(collection: string, points: IndexPoint[]): Promise<void>;
  /** Returns the number of points removed. */
  deleteWhere(collection: string, filter: PointFilter): Promise<number>;
  /**
   * Cosine similarity top-k (vectors are unit length), filter applied inside the search. `exact` asks an
   * approximate engine (Qdrant's HNSW graph, the embedded index's int8 scan) for a full f32 scan; the embedded index is exact by default.
   */
  search(collection: string, vector: Float32Array, k: number, filter?: PointFilter, opts?: { exact?: boolean }): Promise<ScoredPoint[]>;
  count(collection: string, filter?: PointFilter): Promise<number>;
  /**
   * Optional: hybrid retrieval inside the index. Dense top-`depth` for `vector` and BM25 top-`depth` for
   * `queryText` (the index holds the term statistics), each with `filter` applied inside its search,
   * fused by reciprocal rank fusion (k = 60, as domain/fusion.ts); returns the fused top-k, `score` being
   * the RRF score. `depth` defaults to max(4k, 50). Resolves to undefined when this collection cannot
   * (e.g. it was created without a sparse BM25 vector): the caller then uses its own lexical index.
   */
  hybridSearch?(
    collection: string,
    vector: Float32Array,
    queryText: string,
    k: number,
    filter?: PointFilter,
    opts?: { depth?: number },
  ): Promise<ScoredPoint[] | undefined>;
  /**
   * Optional: a token that changes with every write to the collection (derived projections such as the
   * BM25 index rebuild when it changes). Adapters without one are followed by their point count.
   */
  revision?(collection: string): Promise<string>;
  /**
   * Optional: BM25 top-k for `queryText` inside the index (Qdrant: the sparse BM25 vector), `filter`
   * applied inside the search; `score` is the engine's BM25 score. Resolves to undefined when this
   * collection cannot: the caller then uses its own lexical index.
   */
  lexicalSearch?(collection: string, queryText: string, k: number, filter?: PointFilter): Promise<ScoredPoint[] | undefined>;
  /**
   * Every point with its vector, in pages of at most `pageSize` (default 256), in no particular order;
   * the next page is read only after `visit` resolves. Copies a collection to another index.
   */
  exportPoints(collection: string, visit: (page: IndexPoint[]) => Promise<void> | void, opts?: { pageSize?: number }): Promise<void>;
  /** Points by id; missing ids are absent from the result. */
  retrieve(collection: string, ids: string[]): Promise<ScoredPoint[]>;
  /** Visits every point matching the filter (payload only), in no particular order. */
  scroll(collection: string, filter: PointFilter | undefined, visit: (id: string, payload: ChunkPayload) => void): Promise<void>;
  getAlias(alias: string): Promise<string | undefined>;
  setAlias(alias: string, collection: string): Promise<void>;
  createSnapshot(collection: string, destDir: string): Promise<SnapshotInfo>;
  restoreSnapshot(snapshotPath: string, collection: string): Promise<void>;
  close(): Promise<void>;
}
