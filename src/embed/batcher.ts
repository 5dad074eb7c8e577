/**
 * Query batcher: an Embedder whose embedQuery calls, arriving concurrently from many HTTP requests,
 * share model calls instead of queueing one by one. While a model call runs, new texts wait; when it
 * returns they leave together (up to maxBatch per call). When the model is idle the first text waits
 * at most `windowMs` for company. Identical texts in flight are embedded once, and a bounded LRU of
 * recent vectors answers repeated queries without the model.
 *
 * A model that runs one row per ONNX call (`rowsPerRun` 1: dynamically quantized int8, whose
 * activation scale spans the whole batch, so a vector would depend on its batch-mates) saves no model
 * time by batching, yet a queued batch waits for the window and for the previous batch, and the ONNX
 * worker idles between batches while the event loop is busy (bench:http at 16 connections: fewer
 * requests per second queued than unqueued in both runs on a shared 2-core machine). So for such a
 * model texts go to the model at once, concurrently, and only the de-duplication of texts in flight
 * and the cache remain, unless `queuePerRowModels`.
 */
import { AppError } from '../errors.js';
import type { Embedder, TokenCounter } from './port.js';

export type InputKind = 'query' | 'passage';

export interface QueryBatcherOptions {
  /** How long the first text waits for others while the model is idle (0: only those of the same tick). */
  windowMs: number;
  /** Texts per model call; 1 turns batching off (each call goes straight to the model). */
  maxBatch: number;
  /** Recent vectors kept (per model, text and kind); 0: no cache. */
  cacheSize: number;
  /** Queue texts into batches even for a model that runs one row per call (measured slower; for benchmarks). */
  queuePerRowModels?: boolean;
  /** Told after every model call (sizes for metrics and benchmarks; never texts). */
  onBatch?: (batch: { kind: InputKind; texts: number; callers: number; ms: number; failed: boolean }) => void;
}

export interface QueryBatcher extends Embedder {
  /**
   * Vectors for `texts`, embedded as queries (with the model's query instruction) or passages, in
   * input order; a fresh array per vector. An aborted signal rejects this call at once; texts no
   * other caller waits for are dropped from the batch if it has not left yet.
   */
  embedTexts(texts: string[], kind: InputKind, signal?: AbortSignal): Promise<Float32Array[]>;
  /** The model's tokenizer when it runs in process (usage counts); undefined for a remote model. */
  readonly tokens?: TokenCounter;
  /** The wrapped embedder. */
  readonly inner: Embedder;
  /** Texts per model call in effect: 1 for a model that runs one row per call (see above). */
  readonly maxBatch: number;
}

export const DEFAULT_QUERY_BATCHING: QueryBatcherOptions = { windowMs: 1, maxBatch: 16, cacheSize: 1024 };

/** Thrown to a caller whose signal aborted while its texts waited. */
export class EmbeddingAbortedError extends AppError {
  constructor() {
    super('INVALID_INPUT', 'embedding request aborted by the caller');
    this.name = 'EmbeddingAbortedError';
  }
}

interface Pending {
  key: string;
  text: string;
  /** Callers waiting for this text; the entry leaves the queue when the last one aborts. */
  waiters: number;
  promise: Promise<Float32Array>;
  resolve: (v: Float32Array) => void;
  reject: (e: unknown) => void;
}

/** Least recently used first; a Map keeps insertion order, so a hit moves to the end. */
class VectorLru {
  readonly #map = new Map<string, Float32Array>();
  constructor(readonly size: number) {}
  get(key: string): Float32Array | undefined {
    const v = this.#map.get(key);
    if (v) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }
  set(key: string, v: Float32Array): void {
    if (this.size <= 0) return;
    this.#map.delete(key);
    this.#map.set(key, v);
    if (this.#map.size > this.size) this.#map.delete(this.#map.keys().next().value!);
  }
}

export function createQueryBatcher(inner: Embedder, opts: QueryBatcherOptions): QueryBatcher {
  if (!Number.isInteger(opts.maxBatch) || opts.maxBatch < 1) throw new AppError('INVALID_INPUT', `maxBatch must be a positive integer (got ${opts.maxBatch})`);
  if (!(opts.windowMs >= 0)) throw new AppError('INVALID_INPUT', `windowMs must be >= 0 (got ${opts.windowMs})`);
  if (!Number.isInteger(opts.cacheSize) || opts.cacheSize < 0) throw new AppError('INVALID_INPUT', `cacheSize must be an integer >= 0 (got ${opts.cacheSize})`);
  const cache = new VectorLru(opts.cacheSize);
  const perRow = (inner as { rowsPerRun?: number }).rowsPerRun === 1 && !opts.queuePerRowModels;
  const laneOpts = perRow ? { ...opts, maxBatch: 1 } : opts;
  const lanes = { query: new Lane(inner, 'query', laneOpts, cache), passage: new Lane(inner, 'passage', laneOpts, cache) };
  const tokenizer = (inner as { tokenizer?: TokenCounter }).tokenizer;
  let closed = false;

  const embedTexts = async (texts: string[], kind: InputKind, signal?: AbortSignal): Promise<Float32Array[]> => {
    if (closed) throw new AppError('MODEL_ERROR', 'embedder is closed');
    signal?.throwIfAborted();
    const lane = lanes[kind];
    const entries = texts.map((t) => lane.request(t));
    const all = Promise.all(entries.map((e) => (e instanceof Float32Array ? e : e.promise)));
    if (!signal) return copies(await all);
    return copies(
      await new Promise<Float32Array[]>((resolve, reject) => {
        const onAbort = () => {
          for (const e of entries) if (!(e instanceof Float32Array)) lane.release(e);
          reject(new EmbeddingAbortedError());
        };
        signal.addEventListener('abort', onAbort, { once: true });
        all.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
      }),
    );
  };

  return {
    modelId: inner.modelId,
    dimension: inner.dimension,
    inner,
    maxBatch: laneOpts.maxBatch,
    tokens: tokenizer && typeof tokenizer.countTokens === 'function' ? tokenizer : undefined,
    embedTexts,
    // Ingestion sends its own large batches; windowing them would only add latency.
    embedDocuments: (texts) => inner.embedDocuments(texts),
    embedQuery: async (text) => (await embedTexts([text], 'query'))[0],
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([lanes.query.drain(), lanes.passage.drain()]);
      await inner.close();
    },
  };
}

const copies = (vs: Float32Array[]) => vs.map((v) => v.slice());

/** The texts of one kind waiting for, or riding in, model calls. */
class Lane {
  readonly #waiting = new Map<string, Pending>();
  readonly #inFlight = new Map<string, Pending>();
  readonly #runs = new Set<Promise<void>>();
  /** The pending window (or same-tick) flush. */
  #timer: { cancel(): void } | undefined;

  constructor(
    private readonly inner: Embedder,
    private readonly kind: InputKind,
    private readonly opts: QueryBatcherOptions,
    private readonly cache: VectorLru,
  ) {}

  /** A cached vector, or the pending entry this text joins (shared with identical texts). */
  request(text: string): Float32Array | Pending {
    const key = `${this.inner.modelId}\u0000${this.kind}\u0000${text}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const joined = this.#inFlight.get(key) ?? this.#waiting.get(key);
    if (joined) {
      joined.waiters++;
      return joined;
    }
    let resolve!: (v: Float32Array) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<Float32Array>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Callers that aborted no longer listen; the rejection must not surface as unhandled.
    promise.catch(() => undefined);
    const entry: Pending = { key, text, waiters: 1, promise, resolve, reject };
    this.#waiting.set(key, entry);
    this.#schedule();
    return entry;
  }

  /** One caller of `entry` gave up; a text nobody waits for leaves the queue before it is embedded. */
  release(entry: Pending): void {
    entry.waiters--;
    if (entry.waiters > 0 || this.#waiting.get(entry.key) !== entry) return;
    this.#waiting.delete(entry.key);
    entry.reject(new EmbeddingAbortedError());
    if (this.#waiting.size === 0) this.#cancelTimer();
  }

  async drain(): Promise<void> {
    while (this.#runs.size > 0 || this.#waiting.size > 0) {
      if (this.#runs.size === 0) this.#flush();
      await Promise.all(this.#runs);
    }
  }

  #schedule(): void {
    // Batching off: every text goes to the model at once, concurrently, as without a batcher.
    if (this.opts.maxBatch === 1) {
      for (const entry of [...this.#waiting.values()]) this.#start([entry]);
      return;
    }
    if (this.#runs.size > 0) return; // the running call's end flushes what waits
    if (this.#waiting.size >= this.opts.maxBatch) return this.#flush();
    if (this.#timer) return;
    if (this.opts.windowMs > 0) {
      const t = setTimeout(() => this.#flush(), this.opts.windowMs);
      this.#timer = { cancel: () => clearTimeout(t) };
    } else {
      const t = setImmediate(() => this.#flush());
      this.#timer = { cancel: () => clearImmediate(t) };
    }
  }

  #cancelTimer(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /** The next batch (up to maxBatch texts, oldest first) leaves, unless a model call still runs. */
  #flush(): void {
    this.#cancelTimer();
    if (this.#runs.size > 0 || this.#waiting.size === 0) return;
    const batch: Pending[] = [];
    for (const entry of this.#waiting.values()) {
      if (batch.length >= this.opts.maxBatch) break;
      batch.push(entry);
    }
    this.#start(batch);
  }

  #start(batch: Pending[]): void {
    for (const entry of batch) {
      this.#waiting.delete(entry.key);
      this.#inFlight.set(entry.key, entry);
    }
    const run: Promise<void> = this.#run(batch).finally(() => {
      this.#runs.delete(run);
      if (this.#waiting.size > 0) this.#flush();
    });
    this.#runs.add(run);
  }

  async #run(batch: Pending[]): Promise<void> {
    const started = performance.now();
    const callers = batch.reduce((n, e) => n + e.waiters, 0);
    let failed = false;
    try {
      const vectors = await this.#embed(batch.map((e) => e.text));
      batch.forEach((e, i) => this.#settle(e, vectors[i]));
    } catch (err) {
      failed = true;
      if (batch.length === 1) this.#settle(batch[0], undefined, err);
      else {
        // One text the model rejects must not take its batch-mates down: each is tried alone.
        await Promise.all(
          batch.map((e) =>
            this.#embed([e.text]).then(
              ([v]) => this.#settle(e, v),
              (single: unknown) => this.#settle(e, undefined, single),
            ),
          ),
        );
      }
    } finally {
      this.opts.onBatch?.({ kind: this.kind, texts: batch.length, callers, ms: performance.now() - started, failed });
    }
  }

  #settle(entry: Pending, vector: Float32Array | undefined, error?: unknown): void {
    this.#inFlight.delete(entry.key);
    if (vector) {
      this.cache.set(entry.key, vector);
      entry.resolve(vector);
    } else entry.reject(error);
  }

  #embed(texts: string[]): Promise<Float32Array[]> {
    if (this.kind === 'passage') return this.inner.embedDocuments(texts);
    if (this.inner.embedQueries) return this.inner.embedQueries(texts);
    return Promise.all(texts.map((t) => this.inner.embedQuery(t)));
  }
}

/**
 * One batcher per model, made on first use: the served model can change with the alias, and every
 * request for the same model must share its batcher (and its cache) to share model calls.
 */
export function batcherPerModel(opts: QueryBatcherOptions): (embedder: Embedder) => QueryBatcher {
  const made = new WeakMap<Embedder, QueryBatcher>();
  return (embedder) => {
    let b = made.get(embedder);
    if (!b) made.set(embedder, (b = createQueryBatcher(embedder, opts)));
    return b;
  };
}
