// Shared by the benchmarks: a BEIR-layout corpus indexed into a scratch embedded index with the
// ingestion steps themselves (prepare -> embed -> index), laid out exactly as `srag eval` lays it out
// (src/eval/run.ts), so a corpus that eval or an earlier benchmark indexed is reused, not re-embedded.
import { join } from 'node:path';
import type { Config } from '../src/config.js';
import { sha256Hex } from '../src/domain/ids.js';
import { pipelineRef } from '../src/domain/pipeline.js';
import type { PipelineRef } from '../src/domain/ingest.js';
import type { Embedder } from '../src/embed/port.js';
import { createEmbeddedIndex } from '../src/index/embedded.js';
import { embedStoredBatch } from '../src/ingest/embed-batch.js';
import { indexStoredBatch } from '../src/ingest/index-batch.js';
import { prepareStagedSource } from '../src/ingest/prepare.js';
import { PARSER_ID, parseSource } from '../src/parse/index.js';
import { openTokenCounter } from '../src/runtime.js';
import { createFsBlobStore } from '../src/store/fs.js';

export interface ScratchIndex {
  /** Directory of the embedded index; open it read-only to serve. */
  dir: string;
  collection: string;
  pipeline: PipelineRef;
  documents: number;
  points: number;
  /** Seconds spent embedding and indexing in this run (0 when everything was cached). */
  indexSeconds: number;
}

export async function ensureScratchIndex(config: Config, embedder: Embedder, corpusPath: string): Promise<ScratchIndex> {
  const workDir = join(config.cacheDir, 'eval');
  const base = pipelineRef(PARSER_ID, config.chunk, embedder.modelId, embedder.dimension, config.collectionPrefix);
  const pipeline: PipelineRef = { ...base, collection: 'eval' };
  const store = createFsBlobStore(join(workDir, 'store'));
  const staged = await store.putFile(corpusPath);
  const dir = join(workDir, 'index', `${base.version}-${staged.hash.slice(0, 16)}`);
  const counter = await openTokenCounter(config);
  const index = await createEmbeddedIndex(dir, {});
  try {
    const t0 = performance.now();
    await index.ensureCollection(pipeline.collection, pipeline.dimension);
    const prepared = await prepareStagedSource(
      {
        store,
        index,
        counter,
        parse: (bytes, filename) => parseSource(bytes, { filename, limits: { ...config.limits, maxFileBytes: Math.max(config.limits.maxFileBytes, 1 << 30) } }),
      },
      { hash: staged.hash, size: staged.size, name: 'corpus.jsonl', sourceKey: `beir:${sha256Hex(corpusPath).slice(0, 12)}` },
      [],
      pipeline,
    );
    const total = prepared.batches.reduce((n, b) => n + b.chunks, 0);
    let done = 0;
    let last = 0;
    for (const batch of prepared.batches) {
      const { vectorsKey } = await embedStoredBatch({ store, embedder }, batch, pipeline);
      await indexStoredBatch({ store, index }, batch, vectorsKey, pipeline);
      done += batch.chunks;
      if (Date.now() - last > 5000 || done === total) {
        last = Date.now();
        process.stderr.write(`embedding: ${done}/${total} chunks\n`);
      }
    }
    return {
      dir,
      collection: pipeline.collection,
      pipeline,
      documents: prepared.documents.total,
      points: await index.count(pipeline.collection),
      indexSeconds: total === 0 ? 0 : (performance.now() - t0) / 1000,
    };
  } finally {
    await index.close();
  }
}

/** Seeded xorshift32: the same seed draws the same sample on every machine. */
export function seededRandom(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

/** `n` distinct items drawn without replacement (a partial Fisher-Yates shuffle of a copy). */
export function sample<T>(items: readonly T[], n: number, random: () => number): T[] {
  const pool = [...items];
  const count = Math.min(n, pool.length);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, count);
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
