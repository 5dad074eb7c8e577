// srag eval end to end on a real slice of SciFact with the real model: the scratch index is built by
// the ingestion steps, scored in every mode, and (when QDRANT_URL is set) copied into a real Qdrant
// server and scored there on the same chunks and vectors. The full-split figures are in the README.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createEmbedder } from '../../src/embed/factory.js';
import type { Embedder } from '../../src/embed/port.js';
import { qdrantEvalBackend } from '../../src/eval/qdrant-target.js';
import { runBeirEval, type EvalDeps, type EvalMode, type EvalResult } from '../../src/eval/run.js';
import { scratchDepsFor } from '../../src/eval/scratch.js';
import { createQdrantIndex } from '../../src/index/qdrant/qdrant-index.js';
import { writeScifactSlice } from '../support/scifact-slice.js';
import { testLogger } from '../support/stack.js';

const QDRANT_URL = process.env.QDRANT_URL;
const QUERIES = 40;
const DISTRACTORS = 260;

describe('srag eval on a SciFact slice, real model', () => {
  const logger = testLogger();
  let work: string;
  let beirDir: string;
  let embedder: Embedder;
  let deps: EvalDeps;
  const results = new Map<string, EvalResult>();

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'srag-eval-it-'));
    beirDir = writeScifactSlice(join(work, 'scifact-slice'), QUERIES, DISTRACTORS).dir;
    const config = loadConfig({ ...process.env, SRAG_DATA_DIR: join(work, 'data') });
    embedder = await createEmbedder(config.embedding, logger);
    deps = { ...(await scratchDepsFor(config, embedder)), workDir: join(work, 'scratch') };
  }, 300_000);

  afterAll(async () => {
    await embedder?.close();
    if (QDRANT_URL) {
      const index = await createQdrantIndex({ url: QDRANT_URL, apiKey: process.env.QDRANT_API_KEY, logger });
      for (const [key, r] of results) if (key.startsWith('qdrant/')) await index.dropCollection(r.collection);
      await index.close();
    }
    rmSync(work, { recursive: true, force: true });
  });

  const run = async (mode: EvalMode, backend: 'embedded' | 'qdrant') => {
    const result = await runBeirEval(
      { ...deps, backend: backend === 'qdrant' ? qdrantEvalBackend({ url: QDRANT_URL!, apiKey: process.env.QDRANT_API_KEY, logger }) : undefined },
      beirDir,
      'train',
      mode,
    );
    results.set(`${backend}/${mode}`, result);
    console.log(`eval ${backend} ${mode}: nDCG@10 ${result.ndcg10.toFixed(4)}, Recall@100 ${result.recall100.toFixed(4)} (${result.queries} queries, ${result.chunks} chunks)`);
    return result;
  };

  it('scores every mode on the embedded index; retrieval with the real model finds the judged documents', async () => {
    const dense = await run('dense', 'embedded');
    expect(dense.queries).toBe(QUERIES);
    expect(dense.documents).toBeGreaterThan(DISTRACTORS);
    // The judged documents are among ~300: a working retriever ranks them high, a broken one cannot.
    expect(dense.ndcg10).toBeGreaterThan(0.6);
    const bm25 = await run('bm25', 'embedded');
    expect(bm25.ndcg10).toBeGreaterThan(0.5);
    const hybrid = await run('hybrid', 'embedded');
    const served = await run('served', 'embedded');
    for (const r of [hybrid, served]) expect(r.ndcg10).toBeGreaterThan(Math.min(dense.ndcg10, bm25.ndcg10) - 0.05);
    // The second run reuses the scratch index: nothing is embedded again.
    expect(served.chunks).toBe(dense.chunks);
  }, 900_000);

  it.skipIf(!QDRANT_URL)('scores the same chunks in Qdrant: dense identical, BM25 and fusion inside Qdrant close to the embedded figures', async () => {
    for (const mode of ['dense', 'bm25', 'hybrid', 'served'] as const) {
      if (!results.has(`embedded/${mode}`)) await run(mode, 'embedded');
      const q = await run(mode, 'qdrant');
      const e = results.get(`embedded/${mode}`)!;
      expect(q.chunks).toBe(e.chunks);
      // Below Qdrant's indexing threshold a search is a full scan: dense results are the same ranking.
      if (mode === 'dense') expect(q.ndcg10).toBeCloseTo(e.ndcg10, 6);
      // Sparse BM25 uses a fixed average chunk length (domain/sparse-bm25.ts): close, not equal. On the
      // full train split (809 queries) the fused figures are within 0.002; a 40-query slice is noisier.
      else expect(Math.abs(q.ndcg10 - e.ndcg10)).toBeLessThan(0.05);
    }
  }, 900_000);
});
