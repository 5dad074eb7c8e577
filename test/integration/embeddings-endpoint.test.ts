import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createQueryBatcher, type QueryBatcher } from '../../src/embed/batcher.js';
import { createEmbedder } from '../../src/embed/factory.js';
import type { Embedder } from '../../src/embed/port.js';
import { silentLogger } from '../../src/obs/logger.js';
import { startTestApp, type TestApp } from '../support/query-app.js';
import { EVAL_DIR } from '../support/stack.js';

// The real bge-small-en-v1.5-q behind POST /v1/embeddings, requests sent concurrently so they share
// batches: every vector must equal srag's own embedding of the text (a second, independent model
// instance embedding it alone), as a passage (ingestion's embedDocuments) or a query (embedQuery).

const lines = (file: string, n: number) => readFileSync(join(EVAL_DIR, 'scifact', file), 'utf8').split('\n').filter(Boolean).slice(0, n);
const PASSAGES = lines('corpus.jsonl', 12).map((l) => {
  const d = JSON.parse(l) as { title: string; text: string };
  return `${d.title}\n${d.text}`.slice(0, 4000);
});
const QUERIES = lines('queries-train.jsonl', 8).map((l) => (JSON.parse(l) as { text: string }).text);

const cosine = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
};

interface Body {
  model: string;
  data: { index: number; embedding: number[] }[];
}

describe('POST /v1/embeddings on the real model', () => {
  let served: Embedder;
  let reference: Embedder;
  let batcher: QueryBatcher;
  let app: TestApp;
  const batches: number[] = [];

  beforeAll(async () => {
    const config = loadConfig({});
    served = await createEmbedder(config.embedding, silentLogger);
    reference = await createEmbedder(config.embedding, silentLogger);
    // Queued into shared model calls even though the int8 model runs a row per call, so the test sees
    // batched requests give what single runs give.
    batcher = createQueryBatcher(served, { windowMs: 2, maxBatch: 16, cacheSize: 0, queuePerRowModels: true, onBatch: (b) => batches.push(b.texts) });
    app = await startTestApp({ embeddings: { embedder: async () => batcher, maxInputs: 16, maxChars: 8192 } });
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await served?.close();
    await reference?.close();
  });

  const post = async (body: unknown): Promise<Body> => {
    const res = await fetch(`${app.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    return (await res.json()) as Body;
  };

  it('returns for each text what srag embeds for it alone, passages and queries, under concurrent load', async () => {
    const passageRequests = [PASSAGES.slice(0, 4), PASSAGES.slice(4, 8), PASSAGES.slice(8)];
    const [passageBodies, queryBodies] = await Promise.all([
      Promise.all(passageRequests.map((input) => post({ input, model: served.modelId }))),
      Promise.all(QUERIES.map((input) => post({ input, input_type: 'query' }))),
    ]);
    // The concurrent requests did share model calls.
    expect(Math.max(...batches)).toBeGreaterThan(1);

    const own = await Promise.all(PASSAGES.map(async (p) => (await reference.embedDocuments([p]))[0]));
    const got = passageBodies.flatMap((b) => b.data.sort((x, y) => x.index - y.index).map((d) => d.embedding));
    expect(got).toHaveLength(PASSAGES.length);
    got.forEach((v, i) => expect(cosine(v, own[i]), `passage ${i}`).toBeGreaterThan(0.999));

    for (const [i, body] of queryBodies.entries()) {
      expect(body.model).toBe(served.modelId);
      const mine = await reference.embedQuery(QUERIES[i]);
      expect(cosine(body.data[0].embedding, mine), `query ${i}`).toBeGreaterThan(0.999);
      // A query is embedded with the model's query instruction: not the passage vector of the same text.
      const asPassage = (await reference.embedDocuments([QUERIES[i]]))[0];
      expect(cosine(body.data[0].embedding, asPassage)).toBeLessThan(0.99);
    }
  }, 120_000);
});
