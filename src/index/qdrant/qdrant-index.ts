import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { QdrantClient, type Schemas } from '@qdrant/js-client-rest';
import { AppError, ConfigError } from '../../errors.js';
import type { Logger } from '../../obs/logger.js';
import type { CollectionInfo, IndexPoint, PointFilter, ScoredPoint, SnapshotInfo, VectorIndex } from '../port.js';
import { checkName } from '../validate.js';
import { chunkLexicalText, encodeDocument, encodeQuery } from '../../domain/sparse-bm25.js';
import { collectionSpec, denseDimension, hasSparseBm25, missingIndexes, SPARSE_VECTOR } from './collection.js';
import { isTransientBeforeRecovery, toAppError } from './errors.js';
import { toQdrantFilter } from './filter.js';
import { createQdrantPost, enc, resolveBaseUrl, type HttpTarget } from './http.js';
import { denseOf, fromRecord, queryVector, toPointStruct, UUID, withSparse } from './points.js';
import { withRetry } from './retry.js';
import { downloadSnapshot, readRecordedChecksum, sha256File, uploadSnapshot } from './snapshot-files.js';

export interface QdrantIndexOptions {
  /** e.g. http://127.0.0.1:6333; a URL without a port means 6333, a path is kept as a prefix. */
  url: string;
  apiKey?: string;
  logger: Logger;
  /** Per request (default 30 s). */
  timeoutMs?: number;
  /** Further attempts after a transient failure (network, 429, 5xx); default 3. 4xx answers are never retried. */
  retries?: number;
  /** First backoff delay, doubled per attempt (default 200 ms, at most 5 s). */
  retryBaseMs?: number;
  /** Points per upsert request (default 256). */
  upsertBatch?: number;
  /** Points per scroll page (default 256). */
  scrollPage?: number;
  /** Snapshot download or upload, whole transfer (default 1 h). */
  transferTimeoutMs?: number;
}

export type QdrantIndex = VectorIndex & {
  refresh?: never;
  hybridSearch: NonNullable<VectorIndex['hybridSearch']>;
  lexicalSearch: NonNullable<VectorIndex['lexicalSearch']>;
  /**
   * Resolves once Qdrant has finished optimizing the collection (status green: every segment indexed),
   * polling every `pollMs`; INDEX_ERROR when it is red or still busy after `timeoutMs`. Writes are
   * searchable at once either way; benchmarks wait so they time the index, not the optimizer.
   */
  waitUntilOptimized(collection: string, opts?: { timeoutMs?: number; pollMs?: number }): Promise<void>;
};

/**
 * Qdrant scores a point at 0-based rank r with 1/(k + r); domain/fusion.ts uses 1/(60 + r + 1). With
 * k = 61 the server's fused scores equal the in-memory ones (Qdrant's own default k is much smaller).
 */
const RRF_K = 61;

const sparseOfPayload = (payload: IndexPoint['payload']) => encodeDocument(chunkLexicalText(payload));

/** Qdrant rejects larger dense vectors. */
const MAX_DIMENSION = 65536;

function positiveInt(value: number | undefined, fallback: number, what: string, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) throw new ConfigError(`${what} must be an integer of at least ${min}`);
  return value;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname.startsWith('127.');
}

/**
 * The VectorIndex port on a Qdrant server (REST). Collections use cosine distance on the unnamed dense
 * vector, plus the sparse BM25 vector `bm25` (written from each chunk's title and text) that lets
 * hybridSearch fuse dense and lexical results on the server; ACLs and document scopes are payload filters applied inside the search. Aliases live on the
 * server; Qdrant collection snapshots do not include them, so srag records the alias map itself.
 */
export async function createQdrantIndex(opts: QdrantIndexOptions): Promise<QdrantIndex> {
  const logger = opts.logger.child({ component: 'qdrant-index' });
  const apiKey = opts.apiKey || undefined;
  const timeoutMs = positiveInt(opts.timeoutMs, 30_000, 'timeoutMs');
  const retries = positiveInt(opts.retries, 3, 'retries', 0);
  const retryBaseMs = positiveInt(opts.retryBaseMs, 200, 'retryBaseMs', 0);
  const upsertBatch = positiveInt(opts.upsertBatch, 256, 'upsertBatch');
  const scrollPage = positiveInt(opts.scrollPage, 256, 'scrollPage');
  const transferTimeoutMs = positiveInt(opts.transferTimeoutMs, 3_600_000, 'transferTimeoutMs');

  let resolved: ReturnType<typeof resolveBaseUrl>;
  try {
    resolved = resolveBaseUrl(opts.url);
  } catch (err) {
    throw new ConfigError('QDRANT_URL is not a valid http(s) URL', { cause: err });
  }
  const target: HttpTarget = { baseUrl: resolved.baseUrl, apiKey };
  const host = new URL(resolved.origin).hostname;
  if (apiKey && resolved.origin.startsWith('http:') && !isLoopback(host)) {
    logger.warn('the Qdrant API key is sent over plain http; use https beyond this machine', { host });
  }
  // The key travels as a header we set, so the client neither warns on stdout nor guesses https from it.
  const client = new QdrantClient({
    url: resolved.origin,
    prefix: resolved.prefix,
    timeout: timeoutMs,
    checkCompatibility: false,
    headers: apiKey ? { 'api-key': apiKey } : undefined,
  });
  let closed = false;
  const post = createQdrantPost(target, timeoutMs);
  /** The Query API over the fast transport (see createQdrantPost). */
  const query = async (collection: string, body: Schemas['QueryRequest']): Promise<Schemas['ScoredPoint'][]> =>
    ((await post(`/collections/${enc(collection)}/points/query`, body)) as { points: Schemas['ScoredPoint'][] }).points;

  async function call<T>(
    operation: string,
    collection: string | undefined,
    fn: () => Promise<T>,
    retryable?: (err: unknown) => boolean,
  ): Promise<T> {
    if (closed) throw new AppError('INDEX_ERROR', 'the index is closed');
    try {
      return await withRetry(fn, {
        retries,
        retryable,
        baseDelayMs: retryBaseMs,
        maxDelayMs: 5_000,
        onRetry: ({ attempt, delayMs, status }) =>
          logger.warn('Qdrant request failed; retrying', { operation, collection, attempt, delayMs, status }),
      });
    } catch (err) {
      throw toAppError(err, { operation, collection, apiKey });
    }
  }

  /** Collection info, or undefined when there is no such collection (or alias). */
  async function describe(name: string): Promise<Schemas['CollectionInfo'] | undefined> {
    try {
      return await call('getCollection', name, () => client.getCollection(name));
    } catch (err) {
      if (err instanceof AppError && err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
  }

  async function collectionNames(): Promise<string[]> {
    const { collections } = await call('listCollections', undefined, () => client.getCollections());
    return collections.map((c) => c.name);
  }

  async function countPoints(collection: string, filter: PointFilter | undefined): Promise<number> {
    const qf = toQdrantFilter(filter);
    const { count } = await call('count', collection, () => client.count(collection, { filter: qf, exact: true }));
    return count;
  }

  /**
   * Whether a collection carries the BM25 sparse vector, asked once per collection and remembered until
   * this process drops, (re)creates or restores it. A missing collection answers false, uncached: the
   * call that follows reports it as it always did.
   */
  const sparseKnown = new Map<string, boolean>();
  async function hasSparse(collection: string, missingIsError = false): Promise<boolean> {
    let known = sparseKnown.get(collection);
    if (known === undefined) {
      const info = await describe(collection);
      if (!info && missingIsError) throw new AppError('NOT_FOUND', `collection ${collection} does not exist`, { details: { collection } });
      if (!info) return false;
      known = hasSparseBm25(info);
      sparseKnown.set(collection, known);
    }
    return known;
  }

  async function createIndexes(name: string, fields: readonly string[]): Promise<void> {
    for (const field of fields) {
      await call('createPayloadIndex', name, () =>
        client.createPayloadIndex(name, { field_name: field, field_schema: 'keyword', wait: true }),
      );
    }
  }

  function checkDimension(name: string, info: Schemas['CollectionInfo'], dimension: number): void {
    const existing = denseDimension(info);
    if (existing !== dimension) {
      throw new AppError(
        'INDEX_ERROR',
        existing === undefined
          ? `collection ${name} exists but has no unnamed dense vector`
          : `collection ${name} exists with dimension ${existing}, not ${dimension}`,
        { details: { collection: name, existing, requested: dimension } },
      );
    }
  }

  const index: QdrantIndex = {
    async ensureCollection(name, dimension) {
      checkName(name, 'collection');
      if (!Number.isInteger(dimension) || dimension < 1 || dimension > MAX_DIMENSION) {
        throw new AppError('INVALID_INPUT', `dimension must be an integer in 1..${MAX_DIMENSION}`);
      }
      let info = await describe(name);
      if (!info) {
        try {
          await call('createCollection', name, () => client.createCollection(name, collectionSpec(dimension)));
          logger.info('created collection', { collection: name, dimension });
        } catch (err) {
          // Another process may have created it in the meantime; its shape is checked below.
          if (!(await describe(name))) throw err;
        }
        info = await describe(name);
        if (!info) throw new AppError('INDEX_ERROR', `collection ${name} vanished while it was created`, { details: { collection: name } });
      }
      checkDimension(name, info, dimension);
      sparseKnown.set(name, hasSparseBm25(info));
      if (!hasSparseBm25(info)) {
        logger.warn('collection has no BM25 sparse vector; hybrid search falls back to the in-memory index', { collection: name });
      }
      await createIndexes(name, missingIndexes(info));
    },

    async listCollections(): Promise<CollectionInfo[]> {
      const out: CollectionInfo[] = [];
      for (const name of await collectionNames()) {
        const info = await describe(name);
        const dimension = info && denseDimension(info);
        if (dimension === undefined) continue; // dropped meanwhile, or not a collection of this shape
        try {
          out.push({ name, dimension, points: await countPoints(name, undefined) });
        } catch (err) {
          if (!(err instanceof AppError && err.code === 'NOT_FOUND')) throw err;
        }
      }
      return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },

    async dropCollection(name) {
      sparseKnown.delete(name);
      try {
        const dropped = await call('dropCollection', name, () => client.deleteCollection(name));
        if (dropped) logger.info('dropped collection', { collection: name });
      } catch (err) {
        if (!(err instanceof AppError && err.code === 'NOT_FOUND')) throw err;
      }
    },

    async upsert(collection, points: IndexPoint[]) {
      if (points.length === 0) return;
      let structs = points.map((p) => toPointStruct(p, collection));
      if (await hasSparse(collection)) structs = structs.map((s, i) => withSparse(s, sparseOfPayload(points[i].payload)));
      for (let i = 0; i < structs.length; i += upsertBatch) {
        const batch = structs.slice(i, i + upsertBatch);
        await call('upsert', collection, () => client.upsert(collection, { wait: true, points: batch }));
      }
    },

    async deleteWhere(collection, filter) {
      // Qdrant does not say how many points a delete removed: count the matches first (exact), then
      // delete by the same filter. A concurrent writer can make the figure stale, never the delete.
      const removed = await countPoints(collection, filter);
      if (removed === 0) return 0;
      const qf = toQdrantFilter(filter) ?? {};
      await call('deleteWhere', collection, () => client.delete(collection, { wait: true, filter: qf }));
      return removed;
    },

    async search(collection, vector, k, filter, opts = {}): Promise<ScoredPoint[]> {
      const limit = Math.floor(k);
      if (!(limit > 0)) return [];
      const dense = queryVector(vector, collection);
      const qf = toQdrantFilter(filter);
      const params = opts.exact ? { exact: true } : undefined;
      const points = await call('search', collection, () => query(collection, { query: dense, limit, filter: qf, params, with_payload: true, with_vector: false }));
      return points.map(fromRecord);
    },

    async lexicalSearch(collection, queryText, k, filter): Promise<ScoredPoint[] | undefined> {
      const limit = Math.floor(k);
      if (!(limit > 0)) return [];
      if (!(await hasSparse(collection, true))) return undefined;
      const terms = encodeQuery(String(queryText ?? ''));
      if (terms.indices.length === 0) return [];
      const qf = toQdrantFilter(filter);
      const points = await call('lexicalSearch', collection, () =>
        query(collection, { query: terms, using: SPARSE_VECTOR, limit, filter: qf, with_payload: true, with_vector: false }),
      );
      return points.map(fromRecord);
    },

    async hybridSearch(collection, vector, queryText, k, filter, opts = {}): Promise<ScoredPoint[] | undefined> {
      const limit = Math.floor(k);
      if (!(limit > 0)) return [];
      const depth = Math.max(limit, Math.floor(opts.depth ?? Math.max(limit * 4, 50)));
      const dense = queryVector(vector, collection);
      if (!(await hasSparse(collection, true))) return undefined;
      const qf = toQdrantFilter(filter);
      const terms = encodeQuery(String(queryText ?? ''));
      // The ACL filter sits in each prefetch: neither retriever ever ranks a point the viewer may not see.
      const prefetch: Schemas['Prefetch'][] = [{ query: dense, limit: depth, filter: qf }];
      if (terms.indices.length > 0) prefetch.push({ query: terms, using: SPARSE_VECTOR, limit: depth, filter: qf });
      const points = await call('hybridSearch', collection, () =>
        query(collection, { prefetch, query: { rrf: { k: RRF_K } }, limit, with_payload: true, with_vector: false }),
      );
      return points.map(fromRecord);
    },

    async count(collection, filter) {
      return countPoints(collection, filter);
    },

    async retrieve(collection, ids) {
      // An id that is not a UUID cannot be stored in Qdrant, so it is simply absent.
      const wanted = [...new Set(ids)].filter((id) => typeof id === 'string' && UUID.test(id));
      const records = await call('retrieve', collection, () =>
        client.retrieve(collection, { ids: wanted, with_payload: true, with_vector: false }),
      );
      return records.map(fromRecord);
    },

    async scroll(collection, filter, visit) {
      const qf = toQdrantFilter(filter);
      let offset: Schemas['ExtendedPointId'] | undefined;
      for (;;) {
        const page = await call('scroll', collection, () =>
          client.scroll(collection, { filter: qf, limit: scrollPage, offset, with_payload: true, with_vector: false }),
        );
        for (const record of page.points) {
          const point = fromRecord(record);
          visit(point.id, point.payload);
        }
        const next = page.next_page_offset;
        if (next === undefined || next === null || page.points.length === 0) return;
        offset = next as Schemas['ExtendedPointId'];
      }
    },

    async exportPoints(collection, visit, opts = {}) {
      const limit = positiveInt(opts.pageSize, scrollPage, 'pageSize');
      let offset: Schemas['ExtendedPointId'] | undefined;
      for (;;) {
        const page = await call('exportPoints', collection, () =>
          client.scroll(collection, { limit, offset, with_payload: true, with_vector: true }),
        );
        const points = page.points.map((record) => ({ id: String(record.id), payload: fromRecord(record).payload, vector: denseOf(record.vector, collection, record.id) }));
        if (points.length > 0) await visit(points);
        const next = page.next_page_offset;
        if (next === undefined || next === null || page.points.length === 0) return;
        offset = next as Schemas['ExtendedPointId'];
      }
    },

    async getAlias(alias) {
      const { aliases } = await call('getAliases', undefined, () => client.getAliases());
      return aliases.find((a) => a.alias_name === alias)?.collection_name;
    },

    async setAlias(alias, collection) {
      checkName(alias, 'alias');
      // Checked first: Qdrant applies the actions in order, and a failing create after the delete
      // would leave the alias gone.
      const names = new Set(await collectionNames());
      if (!names.has(collection)) {
        throw new AppError('NOT_FOUND', `collection ${collection} does not exist`, { details: { collection } });
      }
      if (names.has(alias)) {
        throw new AppError('INVALID_INPUT', `alias ${alias} would shadow a collection of that name`, { details: { alias } });
      }
      // One request: the server switches under one lock, so no query ever sees the alias missing.
      await call('setAlias', collection, () =>
        client.updateCollectionAliases({
          actions: [
            { delete_alias: { alias_name: alias } },
            { create_alias: { alias_name: alias, collection_name: collection } },
          ],
        }),
      );
      logger.info('alias set', { alias, collection });
    },

    async createSnapshot(collection, destDir): Promise<SnapshotInfo> {
      // The snapshot is of the collection itself; an alias is resolved so the file names its target.
      const name = (await index.getAlias(collection)) ?? collection;
      // Writers may add points while the snapshot is taken; the count is the one just before it.
      const points = await countPoints(name, undefined);
      const description = await call('createSnapshot', name, () => client.createSnapshot(name, { wait: true }));
      if (!description) throw new AppError('INDEX_ERROR', 'Qdrant created no snapshot', { details: { collection: name } });
      try {
        if (!description.checksum) logger.warn('Qdrant reported no snapshot checksum; the download is not verified', { collection: name });
        const file = await call('downloadSnapshot', name, () =>
          downloadSnapshot(target, name, description, destDir, transferTimeoutMs),
        );
        const createdAt = parseServerTime(description.creation_time) ?? new Date().toISOString();
        logger.info('snapshot written', { collection: name, path: file.path, points, bytes: file.bytes });
        return { collection: name, path: file.path, points, bytes: file.bytes, createdAt };
      } finally {
        // The copy in destDir is the snapshot; the server's copy would only fill its disk.
        await call('deleteSnapshot', name, () => client.deleteSnapshot(name, description.name, { wait: true })).catch((err: unknown) =>
          logger.warn('could not delete the server-side snapshot', { collection: name, snapshot: description.name, error: err }),
        );
      }
    },

    async restoreSnapshot(snapshotPath, collection) {
      checkName(collection, 'collection');
      try {
        await fsp.access(snapshotPath);
      } catch {
        throw new AppError('NOT_FOUND', 'snapshot file does not exist', { details: { snapshotPath } });
      }
      // The checksum recorded at download time catches a file damaged at rest; without one, the
      // file's own hash still protects the transfer. Qdrant checks it before touching the collection.
      const checksum = (await readRecordedChecksum(snapshotPath)) ?? (await sha256File(snapshotPath));
      // Qdrant keeps an uploaded snapshot among the collection's snapshots: a name of our own, removed
      // afterwards, so repeated drills neither collide with server snapshots nor fill the server's disk.
      const uploadName = `srag-restore-${randomBytes(8).toString('hex')}.snapshot`;
      try {
        await call(
          'restoreSnapshot',
          collection,
          () => uploadSnapshot(target, collection, snapshotPath, { checksum, uploadName, timeoutMs: transferTimeoutMs }),
          isTransientBeforeRecovery,
        );
      } finally {
        await call('deleteSnapshot', collection, () => client.deleteSnapshot(collection, uploadName, { wait: true })).catch((err: unknown) => {
          // NOT_FOUND: the upload was refused before it was stored, or the collection was never created.
          if (!(err instanceof AppError && err.code === 'NOT_FOUND')) {
            logger.warn('could not delete the uploaded snapshot on the server', { collection, snapshot: uploadName, error: err });
          }
        });
      }
      sparseKnown.delete(collection);
      const info = await describe(collection);
      if (info) await createIndexes(collection, missingIndexes(info));
      logger.info('snapshot restored', { collection, snapshotPath });
    },

    async waitUntilOptimized(collection, waitOpts = {}) {
      const deadline = Date.now() + (waitOpts.timeoutMs ?? 600_000);
      for (;;) {
        const info = await describe(collection);
        if (!info) throw new AppError('NOT_FOUND', `collection ${collection} does not exist`, { details: { collection } });
        if (info.status === 'green') return;
        if (info.status === 'red') throw new AppError('INDEX_ERROR', `Qdrant reports collection ${collection} as failed (red)`, { details: { collection } });
        if (Date.now() > deadline) {
          throw new AppError('INDEX_ERROR', `collection ${collection} was still being optimized (${info.status}) when the wait ran out`, { details: { collection } });
        }
        await new Promise((r) => setTimeout(r, waitOpts.pollMs ?? 500));
      }
    },

    async close() {
      closed = true;
      post.close();
    },
  };
  return index;
}

/** Qdrant reports creation times in UTC without a zone designator. */
function parseServerTime(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  const withZone = /[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`;
  const ms = Date.parse(withZone);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}
