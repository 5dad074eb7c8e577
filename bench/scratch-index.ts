// Shared by the benchmarks: a BEIR-layout corpus indexed into a scratch embedded index with the
// ingestion steps themselves (prepare -> embed -> index), through the same code as `srag eval`
// (src/eval/scratch.ts), so a corpus that eval or an earlier benchmark indexed is reused, not re-embedded.
import type { Config } from '../src/config.js';
import type { PipelineRef } from '../src/domain/ingest.js';
import type { Embedder } from '../src/embed/port.js';
import { openScratchIndex, scratchDepsFor } from '../src/eval/scratch.js';

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
  let last = 0;
  const scratch = await openScratchIndex(
    {
      ...(await scratchDepsFor(config, embedder)),
      progress: (_stage, done, total) => {
        if (Date.now() - last <= 5000 && done !== total) return;
        last = Date.now();
        process.stderr.write(`embedding: ${done}/${total} chunks\n`);
      },
    },
    corpusPath,
  );
  try {
    return {
      dir: scratch.dir,
      collection: scratch.pipeline.collection,
      pipeline: scratch.pipeline,
      documents: scratch.documents,
      points: await scratch.index.count(scratch.pipeline.collection),
      indexSeconds: scratch.indexedChunks === 0 ? 0 : scratch.seconds,
    };
  } finally {
    await scratch.index.close();
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
