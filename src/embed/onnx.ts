/**
 * In-process Embedder: a local ONNX model (onnxruntime-node, local files only) and its tokenizer
 * (any tokenizer.json: WordPiece, BPE, Unigram). Inputs are sorted by length and padded per batch, so
 * a batch of short sentences does not pay for one long passage.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { AppError } from '../errors.js';
import type { Logger } from '../obs/logger.js';
import {
  findModelFiles,
  resolveModelProfile,
  usesDynamicQuantization,
  type ModelProfile,
  type Pooling,
} from './model-profile.js';
import { openOnnxSession, OnnxWorkerError, type ExecutionProvider, type OnnxSession } from './onnx-session.js';
import { l2Normalize, poolRow } from './pooling.js';
import type { Embedder } from './port.js';
import { loadModelTokenizer, type ModelTokenizer } from './tokenizer.js';
import { MAX_MODEL_TOKENS } from './wordpiece.js';

export interface OnnxEmbedderOptions {
  modelDir: string;
  device: 'auto' | 'cpu' | 'cuda';
  batchSize: number;
  /** intraOpNumThreads; 0 = ORT default. */
  threads: number;
  logger: Logger;
  /** Truncation length, special tokens included (default 512). */
  maxTokens?: number;
  /**
   * `padded`: up to batchSize length-sorted inputs per run. `per-sequence`: one input per run, so a
   * vector never depends on what it was batched with. `auto` (default): per-sequence for models with
   * dynamically quantized activations (where batch companions shift results), padded otherwise.
   */
  batching?: 'auto' | 'padded' | 'per-sequence';
}

export interface OnnxEmbedder extends Embedder {
  /** The execution provider actually in use, after any fallback. */
  readonly device: ExecutionProvider;
  readonly pooling: Pooling;
  readonly maxTokens: number;
  /** Inputs per ONNX run: batchSize, or 1 when batch-invariant results need it (see `batching`). */
  readonly rowsPerRun: number;
  /** The model's tokenizer; also a TokenCounter for the chunker. */
  readonly tokenizer: ModelTokenizer;
}

// Batches kept in flight: the worker starts the next batch while this thread pools the previous one.
const IN_FLIGHT = 2;
// Texts tokenized between yields to the event loop.
const TOKENIZE_SLICE = 256;

export async function createOnnxEmbedder(opts: OnnxEmbedderOptions): Promise<OnnxEmbedder> {
  const { logger } = opts;
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) {
    throw new AppError('INVALID_INPUT', `batchSize must be a positive integer (got ${opts.batchSize})`);
  }
  const maxTokens = opts.maxTokens ?? MAX_MODEL_TOKENS;
  if (!Number.isInteger(maxTokens) || maxTokens < 2) {
    throw new AppError('INVALID_INPUT', `maxTokens must be an integer >= 2 (got ${maxTokens})`);
  }
  const started = performance.now();
  const files = await findModelFiles(opts.modelDir);
  const profile = await resolveModelProfile(files);
  if (profile.source === 'default') {
    logger.warn('embedder: unknown model family, assuming mean pooling and no query prefix', {
      modelId: profile.id,
      hint: `add srag-model.json to ${files.dir}`,
    });
  }
  const tokenizer = await loadModelTokenizer(files.tokenizerPath, {
    onMismatch: (m) => logger.warn('embedder: hand-written WordPiece disagrees with the tokenizer library, using the library', m),
  });
  const batching = opts.batching ?? 'auto';
  const dynamicQuant = batching === 'auto' && (await usesDynamicQuantization(files.onnxPath));
  const rowsPerRun = batching === 'per-sequence' || dynamicQuant ? 1 : opts.batchSize;
  const { session, device } = await openWithFallback(files.onnxPath, opts, logger);

  let dimension: number;
  try {
    dimension = await outputDimension(session, tokenizer);
    if (profile.dimension !== undefined && profile.dimension !== dimension) {
      throw new AppError(
        'MODEL_ERROR',
        `model ${profile.id} outputs ${dimension} dimensions but srag-model.json says ${profile.dimension}`,
        { details: { modelId: profile.id, dimension, expected: profile.dimension } },
      );
    }
  } catch (err) {
    await session.close();
    throw err;
  }
  logger.info('embedder: model loaded', {
    modelId: profile.id,
    device,
    dimension,
    pooling: profile.pooling,
    profileSource: profile.source,
    batchSize: opts.batchSize,
    rowsPerRun,
    dynamicQuant,
    threads: opts.threads,
    ms: Math.round(performance.now() - started),
  });
  return new OnnxEmbedderImpl(session, tokenizer, profile, device, dimension, rowsPerRun, maxTokens);
}

async function openWithFallback(
  modelPath: string,
  opts: OnnxEmbedderOptions,
  logger: Logger,
): Promise<{ session: OnnxSession; device: ExecutionProvider }> {
  const threads = opts.threads;
  if (opts.device !== 'cpu') {
    try {
      return { session: await openOnnxSession({ modelPath, providers: ['cuda', 'cpu'], threads }), device: 'cuda' };
    } catch (err) {
      if (!(err instanceof OnnxWorkerError)) throw err;
      logger.warn('embedder: CUDA provider unavailable, using CPU', { reason: err.reason, requested: opts.device });
    }
  }
  try {
    return { session: await openOnnxSession({ modelPath, providers: ['cpu'], threads }), device: 'cpu' };
  } catch (err) {
    if (!(err instanceof OnnxWorkerError)) throw err;
    throw new AppError('MODEL_ERROR', `cannot load ONNX model ${modelPath}: ${err.reason}`, {
      cause: err,
      details: { modelPath },
    });
  }
}

/** The declared last dimension, or one tiny run when the model leaves it symbolic. */
async function outputDimension(session: OnnxSession, tokenizer: ModelTokenizer): Promise<number> {
  const declared = session.outputShape[session.outputShape.length - 1];
  if (typeof declared === 'number' && declared > 0) return declared;
  // A tokenizer without special tokens encodes '' as nothing, so the probe has a word.
  const ids = tokenizer.encode('a').ids;
  const out = await session.run({
    batch: 1,
    seqLen: ids.length,
    inputIds: BigInt64Array.from(ids, BigInt),
    attentionMask: new BigInt64Array(ids.length).fill(1n),
  });
  return out.dims[out.dims.length - 1];
}

class OnnxEmbedderImpl implements OnnxEmbedder {
  readonly modelId: string;
  readonly pooling: Pooling;
  #closed = false;
  readonly #active = new Set<Promise<unknown>>();

  constructor(
    private readonly session: OnnxSession,
    readonly tokenizer: ModelTokenizer,
    private readonly profile: ModelProfile,
    readonly device: ExecutionProvider,
    readonly dimension: number,
    readonly rowsPerRun: number,
    readonly maxTokens: number,
  ) {
    this.modelId = profile.id;
    this.pooling = profile.pooling;
  }

  embedDocuments(texts: string[]): Promise<Float32Array[]> {
    const prefix = this.profile.documentPrefix;
    return this.#track(this.#embed(prefix ? texts.map((t) => prefix + t) : texts));
  }

  async embedQuery(text: string): Promise<Float32Array> {
    const [v] = await this.#track(this.#embed([this.profile.queryPrefix + text]));
    return v;
  }

  embedQueries(texts: string[]): Promise<Float32Array[]> {
    return this.#track(this.#embed(texts.map((t) => this.profile.queryPrefix + t)));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#active]);
    await this.session.close();
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#active.add(p);
    void p.finally(() => this.#active.delete(p)).catch(() => {});
    return p;
  }

  async #embed(texts: string[]): Promise<Float32Array[]> {
    if (this.#closed) throw new AppError('MODEL_ERROR', 'embedder is closed');
    if (texts.length === 0) return [];
    const encoded: number[][] = new Array(texts.length);
    for (let i = 0; i < texts.length; i++) {
      if (i > 0 && i % TOKENIZE_SLICE === 0) await yieldToEventLoop();
      encoded[i] = this.tokenizer.encode(texts[i], this.maxTokens).ids;
    }
    const order = encoded.map((_, i) => i).sort((a, b) => encoded[a].length - encoded[b].length);
    const batches: number[][] = [];
    for (let i = 0; i < order.length; i += this.rowsPerRun) batches.push(order.slice(i, i + this.rowsPerRun));

    const out: Float32Array[] = new Array(texts.length);
    const inFlight: Promise<void>[] = [];
    // Every batch promise gets a handler at once: a later batch may fail while an earlier one is awaited.
    let failure: { error: unknown } | undefined;
    for (const rows of batches) {
      if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
      if (failure) break;
      inFlight.push(this.#runBatch(rows, encoded, out).catch((error: unknown) => void (failure ??= { error })));
    }
    await Promise.all(inFlight);
    if (failure) throw failure.error;
    return out;
  }

  async #runBatch(rows: number[], encoded: number[][], out: Float32Array[]): Promise<void> {
    const seqLen = Math.max(...rows.map((r) => encoded[r].length));
    const inputIds = new BigInt64Array(rows.length * seqLen).fill(BigInt(this.tokenizer.padId));
    const attentionMask = new BigInt64Array(rows.length * seqLen);
    rows.forEach((r, b) => {
      const ids = encoded[r];
      for (let t = 0; t < ids.length; t++) {
        inputIds[b * seqLen + t] = BigInt(ids[t]);
        attentionMask[b * seqLen + t] = 1n;
      }
    });
    const result = await this.session.run({ batch: rows.length, seqLen, inputIds, attentionMask });
    const dims = result.dims;
    rows.forEach((r, b) => {
      const v =
        dims.length === 2
          ? result.data.slice(b * dims[1], (b + 1) * dims[1]) // the model pools itself
          : poolRow(result.data, b, dims[1], dims[2], encoded[r].length, this.profile.pooling);
      out[r] = l2Normalize(v);
    });
  }
}
