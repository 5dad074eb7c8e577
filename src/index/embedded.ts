import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors.js';
import type { ChunkPayload } from '../domain/types.js';
import { silentLogger, type Logger } from '../obs/logger.js';
import { fsyncDir, tempPathIn } from '../store/atomic.js';
import { readAliases, writeAliases } from './aliases.js';
import {
  appendFrames,
  compactLog,
  encodeDeletes,
  freezePayload,
  LOG_FILE,
  loadCollection,
  readAppended,
  writeCollectionDir,
  type CollectionState,
} from './collection-log.js';
import { compileFilter } from './filter.js';
import { acquireWriterLock, type WriterLock } from './lock.js';
import { encodeUpsert, MAX_DIMENSION } from './log-format.js';
import { MemoryCollection } from './memory-collection.js';
import type { CollectionInfo, IndexPoint, PointFilter, ScoredPoint, SnapshotInfo, VectorIndex } from './port.js';
import { readSnapshot, writeSnapshot } from './snapshot.js';
import { checkName, checkPoint, checkVector, NAME } from './validate.js';

export interface EmbeddedIndexOptions {
  logger?: Logger;
  /** Never writes under `dir`; `refresh()` picks up what the writer process appended since. */
  readOnly?: boolean;
  /**
   * fsync the log before each upsert/deleteWhere returns. Default false: the bytes are handed to the OS
   * (they survive the process being killed, not a power cut; a torn tail is then cut on the next open).
   */
  fsync?: boolean;
  /** A log is compacted when it holds more than twice the live points and at least this many entries. */
  compactMinEntries?: number;
  /**
   * 'int8': every collection also keeps int8 codes of its vectors (a quarter more memory, nothing more
   * on disk: they are rebuilt from the log on load); searches scan the codes and rescore the best
   * candidates on the f32 vectors. Default 'none': an exact f32 scan.
   */
  quantization?: 'none' | 'int8';
}

export type EmbeddedIndex = VectorIndex & {
  /** Read-only instances: apply the writer's changes (new points, collections, aliases, compactions). No-op for the writer. */
  refresh(): Promise<void>;
};

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** The file or directory vanished (possibly wrapped in an AppError): a reader racing the writer. */
function isMissing(err: unknown): boolean {
  return errno(err) === 'ENOENT' || errno((err as { cause?: unknown } | undefined)?.cause) === 'ENOENT';
}

/**
 * The zero-setup vector index: one directory, an append-only CRC-framed log per collection replayed
 * into memory on open, exact brute-force search. One writer process holds `dir/LOCK`; any number of
 * read-only instances follow the logs with `refresh()`.
 */
export async function createEmbeddedIndex(dir: string, opts: EmbeddedIndexOptions = {}): Promise<EmbeddedIndex> {
  const root = path.resolve(dir);
  const collectionsDir = path.join(root, 'collections');
  const aliasesFile = path.join(root, 'aliases.json');
  const logger = (opts.logger ?? silentLogger).child({ component: 'embedded-index' });
  const readOnly = opts.readOnly ?? false;
  const fsync = opts.fsync ?? false;
  const compactMinEntries = opts.compactMinEntries ?? 1000;
  const int8 = opts.quantization === 'int8';

  const collections = new Map<string, CollectionState>();
  /** Collection directories that failed to load: kept out of service, but droppable. */
  const unreadable = new Set<string>();
  let aliases = new Map<string, string>();
  let closed = false;
  let lock: WriterLock | undefined;

  // Mutations (and reader refreshes) run one at a time, in call order; searches read memory directly.
  let queue: Promise<unknown> = Promise.resolve();
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = queue.then(() => {
      ensureOpen();
      return fn();
    });
    queue = run.catch(() => undefined);
    return run;
  }

  function ensureOpen(): void {
    if (closed) throw new AppError('INDEX_ERROR', 'the index is closed');
  }

  function ensureWritable(): void {
    ensureOpen();
    if (readOnly) throw new AppError('INDEX_ERROR', 'this index instance is read-only');
  }

  function resolve(name: string): CollectionState {
    ensureOpen();
    const state = collections.get(name) ?? collections.get(aliases.get(name) ?? '');
    if (!state) throw new AppError('NOT_FOUND', `collection ${name} does not exist`, { details: { collection: name } });
    return state;
  }

  async function listCollectionNames(): Promise<string[]> {
    try {
      const entries = await fsp.readdir(collectionsDir, { withFileTypes: true });
      return entries.filter((e) => e.isDirectory() && NAME.test(e.name)).map((e) => e.name).sort();
    } catch (err) {
      if (errno(err) === 'ENOENT') return [];
      throw err;
    }
  }

  async function load(name: string): Promise<CollectionState | undefined> {
    try {
      return await loadCollection(path.join(collectionsDir, name), name, { writable: !readOnly, logger, int8 });
    } catch (err) {
      // A reader can race the writer dropping or replacing a collection; it shows up on the next refresh.
      if (readOnly && isMissing(err)) return undefined;
      throw err;
    }
  }

  /**
   * Loads one collection at open or refresh. A damaged collection is logged and kept out of service
   * rather than taking every other collection down with it; it is a projection, so the fix is to drop
   * it and rebuild it from the source store.
   */
  async function loadOrQuarantine(name: string): Promise<void> {
    try {
      const state = await load(name);
      if (state) collections.set(name, state);
      else collections.delete(name);
      unreadable.delete(name);
    } catch (err) {
      collections.delete(name);
      if (!unreadable.has(name)) {
        logger.error('collection cannot be loaded; drop it and rebuild it from the source store', { collection: name, error: err });
      }
      unreadable.add(name);
    }
  }

  /**
   * Finishes or undoes directory swaps interrupted by a crash (see restoreSnapshot and dropCollection),
   * then removes temp files of interrupted creates and compactions.
   */
  async function recoverLeftovers(): Promise<void> {
    for (const entry of await fsp.readdir(collectionsDir)) {
      if (!entry.startsWith('.')) continue;
      const full = path.join(collectionsDir, entry);
      const replaced = /^\.replaced\.[0-9a-f]+\.(.+)$/.exec(entry);
      if (replaced && NAME.test(replaced[1])) {
        const target = path.join(collectionsDir, replaced[1]);
        const targetExists = await fsp.stat(target).then(() => true, () => false);
        if (!targetExists) {
          logger.warn('restoring a collection left aside by an interrupted restore', { collection: replaced[1] });
          await fsp.rename(full, target);
          continue;
        }
      }
      await fsp.rm(full, { recursive: true, force: true });
    }
    for (const name of await listCollectionNames()) {
      const dirPath = path.join(collectionsDir, name);
      for (const inner of await fsp.readdir(dirPath)) {
        if (inner.startsWith('.')) await fsp.rm(path.join(dirPath, inner), { recursive: true, force: true });
      }
    }
  }

  async function maybeCompact(state: CollectionState, force = false): Promise<void> {
    const live = state.mem.size;
    if (!(force ? state.entries > live : state.entries > 2 * live && state.entries >= compactMinEntries)) return;
    const started = performance.now();
    const entriesBefore = state.entries;
    await compactLog(state);
    logger.info('compacted collection log', {
      collection: state.name,
      entriesBefore,
      points: live,
      bytes: state.offset,
      ms: Math.round(performance.now() - started),
    });
  }

  async function compactQuietly(state: CollectionState): Promise<void> {
    try {
      await maybeCompact(state);
    } catch (err) {
      // The write itself is durable; a failed compaction only leaves a longer log.
      logger.warn('log compaction failed; will retry on a later write', { collection: state.name, error: err });
    }
  }

  async function closeHandles(): Promise<void> {
    for (const state of collections.values()) {
      await state.handle?.close().catch(() => undefined);
      state.handle = undefined;
    }
  }

  // ---- open ----
  if (!readOnly) {
    await fsp.mkdir(collectionsDir, { recursive: true });
    lock = await acquireWriterLock(path.join(root, 'LOCK'), logger);
  }
  try {
    if (!readOnly) await recoverLeftovers();
    aliases = await readAliases(aliasesFile);
    for (const name of await listCollectionNames()) await loadOrQuarantine(name);
    if (!readOnly) for (const state of collections.values()) await compactQuietly(state);
  } catch (err) {
    await closeHandles();
    await lock?.release();
    throw err;
  }
  logger.debug('embedded index open', { dir: root, readOnly, collections: collections.size });

  // ---- port ----
  const index: EmbeddedIndex = {
    async ensureCollection(name, dimension) {
      checkName(name, 'collection');
      if (!Number.isInteger(dimension) || dimension < 1 || dimension > MAX_DIMENSION) {
        throw new AppError('INVALID_INPUT', `dimension must be an integer in 1..${MAX_DIMENSION}`);
      }
      const existing = collections.get(name);
      if (readOnly && existing?.dimension === dimension) return;
      ensureWritable();
      await exclusive(async () => {
        if (unreadable.has(name)) {
          throw new AppError('INDEX_ERROR', `collection ${name} exists but cannot be loaded; drop it first`, {
            details: { collection: name },
          });
        }
        const current = collections.get(name);
        if (current) {
          if (current.dimension !== dimension) {
            throw new AppError('INDEX_ERROR', `collection ${name} exists with dimension ${current.dimension}, not ${dimension}`, {
              details: { collection: name, existing: current.dimension, requested: dimension },
            });
          }
          return;
        }
        const tmp = tempPathIn(collectionsDir, 'create');
        try {
          await writeCollectionDir(tmp, new MemoryCollection(dimension, 16));
          await fsp.rename(tmp, path.join(collectionsDir, name));
        } catch (err) {
          await fsp.rm(tmp, { recursive: true, force: true });
          throw new AppError('INDEX_ERROR', `could not create collection ${name}`, { cause: err });
        }
        await fsyncDir(collectionsDir);
        collections.set(name, (await load(name))!);
        logger.info('created collection', { collection: name, dimension });
      });
    },

    async listCollections(): Promise<CollectionInfo[]> {
      ensureOpen();
      return [...collections.values()]
        .map((s) => ({ name: s.name, dimension: s.dimension, points: s.mem.size }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },

    async dropCollection(name) {
      ensureWritable();
      await exclusive(async () => {
        const state = collections.get(name);
        if (!state && !unreadable.has(name)) return;
        await state?.handle?.close();
        collections.delete(name);
        unreadable.delete(name);
        // Rename first so the name frees atomically; the bulk delete may then take its time.
        const aside = path.join(collectionsDir, `.dropped.${randomBytes(6).toString('hex')}.${name}`);
        await fsp.rename(path.join(collectionsDir, name), aside);
        await fsyncDir(collectionsDir);
        await fsp.rm(aside, { recursive: true, force: true });
        const remaining = new Map([...aliases].filter(([, target]) => target !== name));
        if (remaining.size !== aliases.size) {
          await writeAliases(aliasesFile, remaining);
          aliases = remaining;
        }
        logger.info('dropped collection', { collection: name });
      });
    },

    async upsert(collection, points: IndexPoint[]) {
      ensureWritable();
      await exclusive(async () => {
        const state = resolve(collection);
        for (const point of points) checkPoint(point, state.dimension, state.name);
        if (points.length === 0) return;
        let jsons: string[];
        try {
          jsons = points.map((p) => JSON.stringify(p.payload));
        } catch (err) {
          throw new AppError('INVALID_INPUT', 'point payload is not JSON-serialisable', { cause: err });
        }
        await appendFrames(
          state,
          points.map((p, i) => encodeUpsert(p.id, jsons[i], p.vector)),
          fsync,
        );
        // Store what a reopen would read back (a JSON copy), so callers cannot alias our state.
        for (let i = 0; i < points.length; i++) {
          state.mem.upsert(points[i].id, points[i].vector, freezePayload(JSON.parse(jsons[i]) as ChunkPayload));
        }
        state.entries += points.length;
        await compactQuietly(state);
      });
    },

    async deleteWhere(collection, filter: PointFilter) {
      ensureWritable();
      return exclusive(async () => {
        const state = resolve(collection);
        const ids = state.mem.matchingIds(compileFilter(filter));
        if (ids.length === 0) return 0;
        await appendFrames(state, encodeDeletes(ids), fsync);
        for (const id of ids) state.mem.delete(id);
        state.entries += ids.length;
        await compactQuietly(state);
        return ids.length;
      });
    },

    async search(collection, vector, k, filter, searchOpts): Promise<ScoredPoint[]> {
      const state = resolve(collection);
      checkVector(vector, state.dimension, state.name);
      const limit = Math.floor(k);
      if (!(limit > 0)) return [];
      return state.mem.search(vector, limit, compileFilter(filter), { exact: searchOpts?.exact });
    },

    async revision(collection) {
      return resolve(collection).mem.revision;
    },
    async count(collection, filter) {
      return resolve(collection).mem.count(compileFilter(filter));
    },

    async retrieve(collection, ids) {
      const state = resolve(collection);
      const out: ScoredPoint[] = [];
      for (const id of new Set(ids)) {
        const point = state.mem.get(id);
        // No query, so no similarity: score is 0 by convention.
        if (point) out.push({ id, score: 0, payload: point.payload });
      }
      return out;
    },

    async scroll(collection, filter, visit) {
      resolve(collection).mem.scroll(compileFilter(filter), visit);
    },

    async exportPoints(collection, visit, opts = {}) {
      const pageSize = Math.max(1, Math.floor(opts.pageSize ?? 256));
      const state = resolve(collection);
      // The ids are fixed first; a point deleted while earlier pages are visited is left out, and
      // each vector is a copy, so a visitor that writes cannot disturb what it was handed.
      const ids: string[] = [];
      state.mem.scroll(compileFilter(undefined), (id) => ids.push(id));
      for (let i = 0; i < ids.length; i += pageSize) {
        const page: IndexPoint[] = [];
        for (const id of ids.slice(i, i + pageSize)) {
          const point = state.mem.get(id);
          if (point) page.push(point);
        }
        if (page.length > 0) await visit(page);
      }
    },

    async getAlias(alias) {
      ensureOpen();
      return aliases.get(alias);
    },

    async setAlias(alias, collection) {
      checkName(alias, 'alias');
      ensureWritable();
      await exclusive(async () => {
        if (!collections.has(collection)) {
          throw new AppError('NOT_FOUND', `collection ${collection} does not exist`, { details: { collection } });
        }
        if (collections.has(alias)) {
          throw new AppError('INVALID_INPUT', `alias ${alias} would shadow a collection of that name`, { details: { alias } });
        }
        if (aliases.get(alias) === collection) return;
        const next = new Map(aliases).set(alias, collection);
        await writeAliases(aliasesFile, next);
        aliases = next;
        logger.info('alias set', { alias, collection });
      });
    },

    async createSnapshot(collection, destDir): Promise<SnapshotInfo> {
      return exclusive(async () => {
        const state = resolve(collection);
        if (!readOnly) await maybeCompact(state, true);
        const info = await writeSnapshot(state.name, state.mem, destDir);
        logger.info('snapshot written', { collection: state.name, path: info.path, points: info.points, bytes: info.bytes });
        return info;
      });
    },

    async restoreSnapshot(snapshotPath, collection) {
      checkName(collection, 'collection');
      ensureWritable();
      // Validate the whole file before touching anything: a corrupt snapshot leaves the collection as it was.
      const mem = await readSnapshot(snapshotPath);
      await exclusive(async () => {
        const final = path.join(collectionsDir, collection);
        const tmp = tempPathIn(collectionsDir, 'restore');
        try {
          await writeCollectionDir(tmp, mem);
        } catch (err) {
          await fsp.rm(tmp, { recursive: true, force: true });
          throw new AppError('INDEX_ERROR', 'could not stage the restored collection', { cause: err });
        }
        const existing = collections.get(collection);
        if (existing) {
          // Two renames; a crash between them is finished by recoverLeftovers on the next open.
          await existing.handle?.close();
          existing.handle = undefined;
          const aside = path.join(collectionsDir, `.replaced.${randomBytes(6).toString('hex')}.${collection}`);
          await fsp.rename(final, aside);
          try {
            await fsp.rename(tmp, final);
          } catch (err) {
            await fsp.rename(aside, final);
            existing.handle = await fsp.open(path.join(final, LOG_FILE), 'a');
            await fsp.rm(tmp, { recursive: true, force: true });
            throw new AppError('INDEX_ERROR', 'could not swap in the restored collection', { cause: err });
          }
          await fsyncDir(collectionsDir);
          await fsp.rm(aside, { recursive: true, force: true });
        } else {
          await fsp.rename(tmp, final);
          await fsyncDir(collectionsDir);
        }
        collections.set(collection, (await load(collection))!);
        logger.info('snapshot restored', { collection, points: mem.size });
      });
    },

    async refresh() {
      if (!readOnly) return;
      await exclusive(async () => {
        aliases = await readAliases(aliasesFile);
        const names = new Set(await listCollectionNames());
        for (const name of [...collections.keys()]) if (!names.has(name)) collections.delete(name);
        for (const name of [...unreadable]) if (!names.has(name)) unreadable.delete(name);
        for (const name of names) {
          const state = collections.get(name);
          if (state && (await readAppended(state).catch(() => 'replaced' as const)) === 'ok') continue;
          await loadOrQuarantine(name);
        }
      });
    },

    async close() {
      if (closed) return;
      await queue;
      closed = true;
      await closeHandles();
      collections.clear();
      await lock?.release();
      lock = undefined;
    },
  };
  return index;
}
