import { basename } from 'node:path';
import { copyCollection } from '../index/copy.js';
import { createQdrantIndex } from '../index/qdrant/qdrant-index.js';
import type { Logger } from '../obs/logger.js';
import type { EvalBackend } from './run.js';

/**
 * Eval (and benchmarks) on Qdrant: the scratch embedded index, built once by the ingestion steps, is
 * copied into a Qdrant collection named after it (same point ids, vectors and payloads; Qdrant writes
 * the BM25 sparse vectors as it does on ingestion), so both backends are scored on the same chunks and
 * the same embeddings. A collection already holding as many points is reused.
 */
export function qdrantEvalBackend(opts: { url: string; apiKey?: string; logger: Logger; progress?: (done: number, total: number) => void }): EvalBackend {
  return async (scratch) => {
    const index = await createQdrantIndex({ url: opts.url, apiKey: opts.apiKey, logger: opts.logger });
    try {
      const collection = `srag_eval_${basename(scratch.dir)}`;
      const want = await scratch.index.count(scratch.pipeline.collection);
      const existing = (await index.listCollections()).find((c) => c.name === collection);
      if (existing?.points !== want) {
        if (existing) await index.dropCollection(collection);
        await copyCollection(scratch.index, index, scratch.pipeline.collection, collection, { progress: (p) => opts.progress?.(p.copied, p.total) });
      }
      await index.waitUntilOptimized(collection);
      return { backend: 'qdrant', index, collection, close: () => index.close() };
    } catch (err) {
      await index.close();
      throw err;
    }
  };
}
