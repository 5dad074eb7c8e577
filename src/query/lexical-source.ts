import type { LexicalIndex } from '../index/lexical.js';
import type { Logger } from '../obs/logger.js';

/**
 * One BM25 projection per served collection, kept in step with the vector index. Each query asks the
 * projection to refresh: a point count (cheap), and a rebuild only when the count changed, which the
 * query waits for (concurrent queries share it), so a query reads the writes that came before it.
 * A rebuild runs on the event loop whether awaited or not, so what protects latency during a long
 * ingest (the count changes with every batch) is spacing: after a rebuild slower than `quickMs`, the
 * next check waits `backoff` x its duration, bounding rebuild work to about 1/backoff of the time;
 * until then BM25 may miss the newest chunks (dense retrieval still sees them).
 */

export interface LexicalSourceOptions {
  /**
   * Rebuilds at most this long put no pause on the next check, so queries always read their writes.
   * Default 1000 ms: about 12k chunks on a 2-core machine (a rebuild costs some 60-80 us per chunk).
   */
  quickMs?: number;
  /** After a slower rebuild, checks pause for this multiple of its duration. Default 10. */
  backoff?: number;
  /** Projections kept in memory (one per collection served recently). Default 4. */
  maxCollections?: number;
  now?: () => number;
  logger?: Logger;
}

export type LexicalSource = (collection: string) => Promise<LexicalIndex>;

interface Entry {
  lexical: LexicalIndex;
  ready: boolean;
  nextCheckAt: number;
  inflight?: Promise<void>;
}

export function createLexicalSource(factory: (collection: string) => LexicalIndex, options: LexicalSourceOptions = {}): LexicalSource {
  const quickMs = options.quickMs ?? 1000;
  const backoff = options.backoff ?? 10;
  const maxCollections = Math.max(1, options.maxCollections ?? 4);
  const now = options.now ?? (() => performance.now());
  const entries = new Map<string, Entry>();

  function check(collection: string, entry: Entry): Promise<void> {
    const sizeBefore = entry.lexical.size;
    const wasReady = entry.ready;
    const started = now();
    const p = entry.lexical
      .refresh()
      .then(() => {
        const ms = now() - started;
        entry.ready = true;
        // A count-only check is no rebuild and sets no pause.
        const rebuilt = !wasReady || entry.lexical.size !== sizeBefore;
        if (rebuilt) options.logger?.info('lexical index rebuilt', { collection, points: entry.lexical.size, ms: Math.round(ms) });
        entry.nextCheckAt = rebuilt && ms > quickMs ? now() + backoff * ms : 0;
      })
      .finally(() => {
        entry.inflight = undefined;
      });
    entry.inflight = p;
    return p;
  }

  function entryFor(collection: string): Entry {
    let entry = entries.get(collection);
    if (entry) {
      // Most recently used last, so after an alias switch the old collection's projection ages out.
      entries.delete(collection);
      entries.set(collection, entry);
      return entry;
    }
    entry = { lexical: factory(collection), ready: false, nextCheckAt: 0 };
    entries.set(collection, entry);
    for (const name of entries.keys()) if (entries.size > maxCollections) entries.delete(name);
    return entry;
  }

  return async (collection) => {
    const entry = entryFor(collection);
    if (!entry.inflight && now() >= entry.nextCheckAt) check(collection, entry).catch(() => undefined);
    if (entry.inflight) {
      try {
        await entry.inflight;
      } catch (err) {
        if (!entry.ready) {
          // Nothing to serve yet: forget the entry so the next query starts afresh.
          if (entries.get(collection) === entry) entries.delete(collection);
          throw err;
        }
        options.logger?.warn('lexical index refresh failed; serving the previous projection', { collection, err: err as Error });
      }
    }
    return entry.lexical;
  };
}
