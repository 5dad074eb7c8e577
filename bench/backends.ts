// Search latency of the two index backends on the same index, in one run (not a test): SciFact
// indexed as `srag eval` indexes it (the scratch index under .cache/eval is reused or built), served
// read-only by the embedded index and, copied point for point, by Qdrant at QDRANT_URL. Query vectors
// are embedded once up front with the real model, so the figures are the retrieval alone: dense top-10,
// dense top-10 with an ACL filter, and hybrid top-10 through the search service (in-memory BM25 + RRF on
// the embedded index; sparse BM25 + RRF inside Qdrant). Prints p50/p99/mean per backend and mode and
// the Qdrant / embedded ratio. Without QDRANT_URL it prints the embedded figures and says so.
// Usage: QDRANT_URL=http://127.0.0.1:6333 npx tsx bench/backends.ts [--queries 300] [--rounds 3] [--json]
import { join, resolve } from 'node:path';
import { loadConfig, PROJECT_ROOT } from '../src/config.js';
import { createEmbedder } from '../src/embed/factory.js';
import type { Embedder } from '../src/embed/port.js';
import { loadBeirSplit } from '../src/eval/beir.js';
import { qdrantEvalBackend } from '../src/eval/qdrant-target.js';
import { openScratchIndex } from '../src/eval/scratch.js';
import { scratchDepsFor } from '../src/eval/scratch.js';
import { createLexicalIndex } from '../src/index/lexical.js';
import type { VectorIndex } from '../src/index/port.js';
import { createLogger } from '../src/obs/logger.js';
import { createSearchService, type Viewer } from '../src/query/search.js';
import { percentile } from './scratch-index.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const json = process.argv.includes('--json');
const queryCount = Number(arg('queries', '300'));
const rounds = Number(arg('rounds', '3'));
const evalDir = resolve(process.env.SRAG_EVAL_DIR ?? join(PROJECT_ROOT, '..', 'shared', 'eval'));
const scifact = join(evalDir, 'scifact');
const EVERYONE: Viewer = { groups: [], unrestricted: true };
/** SciFact has no ACLs: the filter names a group nobody holds, so only public points (all) match, but the filter runs. */
const FILTERED: Viewer = { groups: ['bench-group'], unrestricted: false };

interface Figures {
  backend: string;
  mode: string;
  queries: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

/** Embeds each query once; the search service then looks vectors up instead of running the model. */
function tableEmbedder(real: Embedder, table: Map<string, Float32Array>): Embedder {
  return {
    modelId: real.modelId,
    dimension: real.dimension,
    embedDocuments: (texts) => real.embedDocuments(texts),
    embedQuery: async (text) => table.get(text) ?? real.embedQuery(text),
    close: async () => {},
  };
}

async function measure(backend: string, index: VectorIndex, collection: string, embedder: Embedder, texts: string[], lexical: boolean): Promise<Figures[]> {
  const search = createSearchService({
    index,
    embedder,
    collection: async () => collection,
    lexical: lexical ? createLexicalIndex(index, collection) : async () => Promise.reject(new Error('BM25 runs inside this index')),
    mode: 'hybrid',
  });
  const out: Figures[] = [];
  const cases: [string, (q: string) => Promise<unknown>][] = [
    ['dense', async (q) => search.search(q, 10, EVERYONE, { mode: 'dense' })],
    ['dense+acl', async (q) => search.search(q, 10, FILTERED, { mode: 'dense' })],
    ['hybrid', async (q) => search.search(q, 10, EVERYONE, { mode: 'hybrid' })],
  ];
  for (const [mode, run] of cases) {
    for (const q of texts.slice(0, 30)) await run(q); // warm-up (and the in-memory BM25 build)
    const times: number[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const q of texts) {
        const t = performance.now();
        await run(q);
        times.push(performance.now() - t);
      }
    }
    times.sort((a, b) => a - b);
    const mean = times.reduce((s, x) => s + x, 0) / times.length;
    out.push({ backend, mode, queries: times.length, p50Ms: +percentile(times, 50).toFixed(2), p99Ms: +percentile(times, 99).toFixed(2), meanMs: +mean.toFixed(2) });
  }
  return out;
}

const config = loadConfig(process.env);
const logger = createLogger('warn');
const real = await createEmbedder(config.embedding, logger);
const scratch = await openScratchIndex({ ...(await scratchDepsFor(config, real)) }, join(scifact, 'corpus.jsonl'));
const figures: Figures[] = [];
try {
  const texts = loadBeirSplit(scifact, 'train').queries.slice(0, queryCount).map((q) => q.text);
  const table = new Map<string, Float32Array>();
  for (const t of texts) table.set(t, await real.embedQuery(t));
  const embedder = tableEmbedder(real, table);
  const points = await scratch.index.count(scratch.pipeline.collection);
  if (!json) process.stdout.write(`SciFact: ${scratch.documents} documents, ${points} chunks, ${texts.length} queries x ${rounds} rounds, k = 10\n`);
  figures.push(...(await measure('embedded', scratch.index, scratch.pipeline.collection, embedder, texts, true)));
  if (config.qdrant.url) {
    const target = await qdrantEvalBackend({ url: config.qdrant.url, apiKey: config.qdrant.apiKey, logger })(scratch);
    try {
      figures.push(...(await measure('qdrant', target.index, target.collection, embedder, texts, false)));
    } finally {
      await target.close();
    }
  } else if (!json) {
    process.stdout.write('QDRANT_URL is not set: Qdrant skipped (embedded figures only)\n');
  }
} finally {
  await scratch.index.close();
  await real.close();
}

for (const f of figures) {
  const base = figures.find((e) => e.backend === 'embedded' && e.mode === f.mode)!;
  const ratio = f.backend === 'embedded' ? undefined : +(f.p50Ms / base.p50Ms).toFixed(2);
  if (json) console.log(JSON.stringify({ ...f, p50VsEmbedded: ratio, node: process.version }));
  else console.log(`${f.backend.padEnd(9)} ${f.mode.padEnd(10)} p50 ${f.p50Ms.toFixed(2).padStart(7)} ms  p99 ${f.p99Ms.toFixed(2).padStart(7)} ms  mean ${f.meanMs.toFixed(2).padStart(7)} ms${ratio ? `  (p50 x${ratio} vs embedded)` : ''}`);
}
