import type { PipelineRef, PreparedSource, StagedSource } from '../domain/ingest.js';
import type { ParseResult } from '../domain/types.js';
import type { Embedder, TokenCounter } from '../embed/port.js';
import type { VectorIndex } from '../index/port.js';
import { embedStoredBatch, PIECE_CHUNKS } from '../ingest/embed-batch.js';
import { indexStoredBatch } from '../ingest/index-batch.js';
import { prepareStagedSource } from '../ingest/prepare.js';
import { stageSource } from '../ingest/stage.js';
import type { BlobStore } from '../store/port.js';

export interface LocalIngestDeps {
  store: BlobStore;
  index: VectorIndex;
  embedder: Embedder;
  counter: TokenCounter;
  parse: (bytes: Uint8Array, filename: string) => Promise<ParseResult>;
  /** The pipeline (and so the collection) the source is indexed under; the embedder must be its model. */
  pipeline: PipelineRef;
  /** Chunks embedded and indexed so far out of those the source needs, as embedding pieces finish. */
  progress?: (stage: string, done: number, total: number) => void;
}

/** A file on this machine, or bytes already in the store under a key the caller chose. */
export type LocalSource = { path: string } | { staged: StagedSource };

export interface LocalIngestOptions {
  acl?: string[];
  /** Largest file a path source may be; default no limit here (the parser applies its own limits). */
  maxFileBytes?: number;
}

export interface LocalIngestResult {
  prepared: PreparedSource;
  /** Chunks embedded and indexed by this call: unchanged documents add none. */
  chunks: number;
  seconds: number;
}

/**
 * One source through the steps the ingest workflow runs (stage, prepare, then embed and index each
 * batch), in this process and without Temporal: for evaluation and benchmarks, which need the index
 * a real job would build. The steps keep their deterministic keys, so a second call on the same
 * content and pipeline finds everything indexed and embeds nothing. Unlike the workflow, a failing
 * batch fails the call: a measurement over a partial index would be wrong, not degraded.
 */
export async function ingestInProcess(deps: LocalIngestDeps, source: LocalSource, opts: LocalIngestOptions = {}): Promise<LocalIngestResult> {
  const { store, index, embedder, pipeline } = deps;
  const t0 = performance.now();
  const staged = 'staged' in source ? source.staged : await stageSource(store, { kind: 'path', path: source.path }, opts.maxFileBytes ?? Infinity);
  await index.ensureCollection(pipeline.collection, pipeline.dimension);
  const prepared = await prepareStagedSource({ store, index, counter: deps.counter, parse: deps.parse }, staged, opts.acl ?? [], pipeline);
  const total = prepared.batches.reduce((n, b) => n + b.chunks, 0);
  let chunks = 0;
  for (const batch of prepared.batches) {
    const before = chunks;
    // A batch counts in full once it is indexed; its pieces show the way there.
    const onPiece = (piece: number, pieces: number) => {
      if (piece < pieces) deps.progress?.('embedding', before + piece * PIECE_CHUNKS, total);
    };
    const { vectorsKey } = await embedStoredBatch({ store, embedder, onPiece }, batch, pipeline);
    const { points } = await indexStoredBatch({ store, index }, batch, vectorsKey, pipeline);
    chunks += points;
    deps.progress?.('embedding', chunks, total);
  }
  return { prepared, chunks, seconds: (performance.now() - t0) / 1000 };
}
