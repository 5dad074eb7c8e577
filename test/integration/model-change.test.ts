// The served pipeline decides. A deployment ingests with model A (bge-small), then restarts configured
// for model B (all-MiniLM-L6-v2, also 384-d, so a mix-up would be silent). Until the alias moves, queries
// are embedded with A and answered exactly as before, and new documents land in A's collection,
// embedded by A; once B's collection is marked as being built, new documents land in both, each
// embedded by its own model. Real dev server, real worker processes, two real models.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { createEmbedder } from '../../src/embed/factory.js';
import type { Embedder } from '../../src/embed/port.js';
import { startApi } from '../../src/http/server.js';
import { configuredPipeline, openIndex, openStore, prepareServingCollection } from '../../src/runtime.js';
import { markBuilding, unmarkBuilding } from '../../src/store/pipelines.js';
import { startWorkerProcess, type WorkerProcess } from '../../src/temporal/worker-process.js';
import { postJson, waitForJob } from '../support/http.js';
import { startStack, type Stack } from '../support/stack.js';

interface Hit {
  chunkId: string;
  documentId: string;
  text: string;
  score: number;
}

const DOCS = [
  { title: 'Lighthouse', text: 'The lighthouse keeper climbs 214 steps every evening to light the lamp above the harbour.' },
  { title: 'Bakery', text: 'The bakery on Mill Street sells rye bread baked in a wood-fired oven before dawn.' },
  { title: 'Glacier', text: 'The glacier retreated four hundred metres during the last decade, exposing bare granite.' },
];
const QUERIES = ['who lights the harbour lamp', 'where can I buy rye bread', 'how far did the ice retreat'];

describe('changing the configured model does not change what queries see', () => {
  let stack: Stack;
  let configB: Config;
  let embedderB: Embedder;
  let workers: WorkerProcess[] = [];
  const apis: Array<{ close: () => Promise<void> }> = [];

  const startApiFor = async (config: Config, embedder: Embedder) => {
    const index = await openIndex(config, { readOnly: true, logger: stack.logger });
    const record = configuredPipeline(config, embedder);
    const { url, close } = await startApi({ config, client: stack.client, store: openStore(config), index, embedder, pipeline: record.ref, logger: stack.logger });
    const api = {
      url,
      close: async () => {
        await close();
        await index.close();
      },
    };
    apis.push(api);
    return api;
  };
  const search = async (url: string, query: string) => (await postJson<{ hits: Hit[] }>(`${url}/v1/search`, { query, k: 5 })).body.hits;
  const stopWorkers = async () => {
    await Promise.all(workers.map((w) => w.stop()));
    workers = [];
  };
  const startWorkers = async (env: Record<string, string | undefined>) => {
    workers = await Promise.all([startWorkerProcess('ingest', env, stack.logger), startWorkerProcess('embed', env, stack.logger)]);
  };

  beforeAll(async () => {
    stack = await startStack();
    const modelB = join(stack.config.cacheDir, 'models', 'all-minilm-l6-v2-q');
    configB = loadConfig({ ...stack.env, SRAG_MODEL_DIR: modelB });
    embedderB = await createEmbedder(configB.embedding, stack.logger);
  }, 300_000);

  afterAll(async () => {
    for (const a of apis) await a.close();
    await stopWorkers();
    await embedderB?.close();
    await stack?.stop();
  });

  it('keeps embedding queries with the served model A and writes new documents to its collection', async () => {
    // Phase 1: model A configured and served.
    const recordA = configuredPipeline(stack.config, stack.embedder);
    await prepareServingCollection(stack.config, recordA.ref.collection, recordA.ref.dimension, stack.logger, recordA);
    await startWorkers(stack.env);
    const apiA = await startApiFor(stack.config, stack.embedder);
    const job = await postJson<{ jobId: string }>(`${apiA.url}/v1/ingest`, { sources: DOCS });
    expect((await waitForJob(apiA.url, job.body.jobId)).documents.done).toBe(DOCS.length);
    const before = await Promise.all(QUERIES.map((q) => search(apiA.url, q)));
    expect(before.map((h) => h[0].text)).toEqual(DOCS.map((d) => d.text));
    await apiA.close();
    await stopWorkers();

    // Phase 2: restart configured for model B. Its collection is created, the alias stays on A.
    const recordB = configuredPipeline(configB, embedderB);
    expect(recordB.ref.dimension).toBe(recordA.ref.dimension);
    expect(recordB.ref.version).not.toBe(recordA.ref.version);
    await prepareServingCollection(configB, recordB.ref.collection, recordB.ref.dimension, stack.logger, recordB);
    await startWorkers(configEnv(stack.env, configB));
    const apiB = await startApiFor(configB, embedderB);

    const after = await Promise.all(QUERIES.map((q) => search(apiB.url, q)));
    expect(after.map((hits) => hits.map((h) => [h.chunkId, h.score]))).toEqual(before.map((hits) => hits.map((h) => [h.chunkId, h.score])));
    const ready = (await (await fetch(`${apiB.url}/readyz`)).json()) as { checks: Record<string, { ok: boolean; detail?: string }> };
    expect(ready.checks.pipeline.detail).toContain(`served ${recordA.ref.version} (${recordA.ref.modelId})`);
    expect(ready.checks.pipeline.detail).toContain(`configured ${recordB.ref.version} (${recordB.ref.modelId})`);

    // A new document goes to the served collection, embedded by model A (the worker is configured for B).
    const more = await postJson<{ jobId: string }>(`${apiB.url}/v1/ingest`, { sources: [{ title: 'Ferry', text: 'The ferry to the island leaves at seven and returns at noon on weekdays.' }] });
    const report = await waitForJob(apiB.url, more.body.jobId);
    expect(report.documents).toMatchObject({ total: 1, done: 1, failed: 0 });
    const ferry = await search(apiB.url, 'when does the island ferry leave');
    expect(ferry[0].text).toContain('ferry to the island');
    const index = await openIndex(stack.config, { readOnly: true, logger: stack.logger });
    try {
      expect(await index.count(recordA.ref.collection)).toBe(DOCS.length + 1);
      expect(await index.count(recordB.ref.collection)).toBe(0);
      // The vector stored for the new chunk is model A's embedding of its text, not model B's.
      const [point] = await index.retrieve(recordA.ref.collection, [ferry[0].chunkId]);
      expect(point).toBeDefined();
      const [a] = await stack.embedder.embedDocuments([point.payload.text]);
      const [b] = await embedderB.embedDocuments([point.payload.text]);
      const byA = await index.search(recordA.ref.collection, a, 1);
      expect(byA[0].id).toBe(ferry[0].chunkId);
      expect(byA[0].score).toBeGreaterThan(0.98);
      const byB = await index.search(recordA.ref.collection, b, 1);
      expect(byB[0].id === ferry[0].chunkId ? byB[0].score : 0).toBeLessThan(0.98);
    } finally {
      await index.close();
    }

    // Phase 2b: B's collection is marked as being built (as a rollout does before it builds from the
    // catalog). A new document now goes to both: A's collection embedded by A, B's embedded by B, and
    // the job reports B's outcome apart from the served counts.
    await markBuilding(openStore(stack.config), recordB.ref.collection);
    const DRILL = { title: 'Drill', text: 'The fire drill on the second floor starts when the bell rings twice at ten.' };
    const both = await postJson<{ jobId: string }>(`${apiB.url}/v1/ingest`, { sources: [DRILL] });
    const bothReport = await waitForJob(apiB.url, both.body.jobId);
    expect(bothReport.documents).toMatchObject({ total: 1, done: 1, failed: 0 });
    expect(bothReport.building?.[recordB.ref.collection]).toMatchObject({ version: recordB.ref.version, documents: { total: 1, done: 1, failed: 0 } });
    const drillHits = await search(apiB.url, 'when does the fire drill start');
    expect(drillHits[0].text).toBe(DRILL.text);
    const reader = await openIndex(stack.config, { readOnly: true, logger: stack.logger });
    try {
      expect(await reader.count(recordA.ref.collection)).toBe(DOCS.length + 2);
      expect(await reader.count(recordB.ref.collection)).toBe(1);
      const [bVector] = await embedderB.embedDocuments([DRILL.text]);
      const [inB] = await reader.search(recordB.ref.collection, bVector, 1);
      expect(inB.payload.text).toBe(DRILL.text);
      expect(inB.score).toBeGreaterThan(0.98);
      // Same document, its own chunk id per pipeline.
      expect(inB.id).not.toBe(drillHits[0].chunkId);
    } finally {
      await reader.close();
    }

    // Phase 3: the alias moves to B (as a rollout would): queries now embed with B over B's collection.
    await unmarkBuilding(openStore(stack.config), recordB.ref.collection);
    await stopWorkers();
    const writer = await openIndex(stack.config, { readOnly: false, logger: stack.logger });
    await writer.setAlias(stack.config.collectionPrefix, recordB.ref.collection);
    await writer.close();
    const moved = (await (await fetch(`${apiB.url}/readyz`)).json()) as { checks: Record<string, { ok: boolean; detail?: string }> };
    // B's collection holds only what was written while it was being built.
    await expect.poll(async () => (await search(apiB.url, QUERIES[0])).map((h) => h.text), { timeout: 60_000 }).toEqual([DRILL.text]);
    expect(moved.checks.pipeline.ok).toBe(true);
  });
});

/** The environment a worker needs to run with another model directory. */
function configEnv(env: Record<string, string | undefined>, config: Config): Record<string, string | undefined> {
  return { ...env, SRAG_MODEL_DIR: config.embedding.modelDir };
}
