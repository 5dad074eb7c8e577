import { join } from 'node:path';
import type { Config } from '../config.js';
import { sha256Hex } from '../domain/ids.js';
import type { PipelineRef } from '../domain/ingest.js';
import { pipelineRef } from '../domain/pipeline.js';
import type { ParseResult } from '../domain/types.js';
import type { Embedder, TokenCounter } from '../embed/port.js';
import { createEmbeddedIndex, type EmbeddedIndex } from '../index/embedded.js';
import { PARSER_ID, parseSource } from '../parse/index.js';
import { openTokenCounter } from '../runtime.js';
import { ingestInProcess } from '../services/local-ingest.js';
import { createFsBlobStore } from '../store/fs.js';

/** What indexing a BEIR-layout corpus into a scratch index needs. */
export interface ScratchDeps {
  embedder: Embedder;
  counter: TokenCounter;
  parse: (bytes: Uint8Array, filename: string) => Promise<ParseResult>;
  /** The configured pipeline; its collection is replaced by the scratch one. */
  pipeline: PipelineRef;
  /** Scratch area; the index built there is reused by later runs on the same corpus and pipeline. */
  workDir: string;
  progress?: (stage: string, done: number, total: number) => void;
}

export interface OpenedScratchIndex {
  /** Directory of the embedded index (a reader can open it read-only once `index` is closed). */
  dir: string;
  /** Open for writing; the caller closes it. */
  index: EmbeddedIndex;
  pipeline: PipelineRef;
  documents: number;
  /** Chunks embedded and indexed by this run (0 when the corpus was indexed before). */
  indexedChunks: number;
  /** Seconds spent preparing, embedding and indexing in this run. */
  seconds: number;
}

/** The collection inside every scratch index. */
export const SCRATCH_COLLECTION = 'eval';

/** Eval and benchmark wiring from config: the configured pipeline for `embedder`, its tokenizer, a corpus-sized parser. */
export async function scratchDepsFor(config: Config, embedder: Embedder): Promise<Omit<ScratchDeps, 'progress'>> {
  return {
    embedder,
    counter: await openTokenCounter(config),
    // A whole corpus is one file: the per-upload size limit does not apply to it.
    parse: (bytes, filename) => parseSource(bytes, { filename, limits: { ...config.limits, maxFileBytes: Math.max(config.limits.maxFileBytes, 1 << 30) } }),
    pipeline: pipelineRef(PARSER_ID, config.chunk, embedder.modelId, embedder.dimension, config.collectionPrefix),
    workDir: join(config.cacheDir, 'eval'),
  };
}

/**
 * Indexes a corpus (BEIR corpus.jsonl) with the ingestion steps into a scratch embedded index named
 * by pipeline version and corpus hash, so eval and every benchmark share it and a corpus indexed once
 * is not embedded again.
 */
export async function openScratchIndex(deps: ScratchDeps, corpusPath: string): Promise<OpenedScratchIndex> {
  const store = createFsBlobStore(join(deps.workDir, 'store'));
  const { hash, size } = await store.putFile(corpusPath);
  const dir = join(deps.workDir, 'index', `${deps.pipeline.version}-${hash.slice(0, 16)}`);
  const pipeline: PipelineRef = { ...deps.pipeline, collection: SCRATCH_COLLECTION };
  const index = await createEmbeddedIndex(dir, {});
  try {
    const { prepared, chunks, seconds } = await ingestInProcess(
      { store, index, embedder: deps.embedder, counter: deps.counter, parse: deps.parse, pipeline, progress: deps.progress },
      { staged: { hash, size, name: 'corpus.jsonl', sourceKey: `beir:${sha256Hex(corpusPath).slice(0, 12)}` } },
    );
    return { dir, index, pipeline, documents: prepared.documents.total, indexedChunks: chunks, seconds };
  } catch (err) {
    await index.close();
    throw err;
  }
}
