// ingestInProcess on the real store, embedded index and parser, with a fake embedder passed through
// its deps: the chunks prepare writes are the points that land in the index, the catalog learns of
// every document, and a second run over the same bytes embeds nothing.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chunkId, documentIdFor, sha256Hex } from '../../src/domain/ids.js';
import type { PipelineRef } from '../../src/domain/ingest.js';
import type { Embedder } from '../../src/embed/port.js';
import { createEmbeddedIndex, type EmbeddedIndex } from '../../src/index/embedded.js';
import { BATCH_CHUNKS, type StoredBatch } from '../../src/ingest/prepare.js';
import { parseSource } from '../../src/parse/index.js';
import { ingestInProcess, type LocalIngestDeps } from '../../src/services/local-ingest.js';
import { listCatalog } from '../../src/store/catalog.js';
import { createFsBlobStore } from '../../src/store/fs.js';
import type { BlobStore } from '../../src/store/port.js';

const DIM = 8;
const pipeline: PipelineRef = { version: 'vlocal', collection: 'c_local', modelId: 'fake-model', dimension: DIM, chunk: { maxTokens: 12, overlapTokens: 0 } };
const words = { countTokens: (t: string) => t.split(/\s+/).filter(Boolean).length };

/** Deterministic unit vectors from the characters; records every text it embeds. */
function fakeEmbedder(modelId = 'fake-model'): Embedder & { embedded: string[] } {
  const embedded: string[] = [];
  const vector = (t: string) => {
    const v = new Float32Array(DIM);
    for (let i = 0; i < t.length; i++) v[i % DIM] += t.charCodeAt(i);
    const n = Math.hypot(...v) || 1;
    return v.map((x) => x / n);
  };
  return {
    modelId,
    dimension: DIM,
    embedded,
    async embedDocuments(texts) {
      embedded.push(...texts);
      return texts.map(vector);
    },
    async embedQuery(t) {
      return vector(t);
    },
    async close() {},
  };
}

/** The store, seen through the same port: keeps what prepare writes as batches before indexing removes them. */
function recordingStore(inner: BlobStore): BlobStore & { batches: StoredBatch[] } {
  const batches: StoredBatch[] = [];
  return {
    ...inner,
    batches,
    async put(key, data) {
      if (key.startsWith('batches/')) batches.push(JSON.parse(typeof data === 'string' ? data : Buffer.from(data).toString('utf8')) as StoredBatch);
      await inner.put(key, data);
    },
  };
}

function paragraphs(n: number, topic: string): string {
  return Array.from({ length: n }, (_, i) => `Paragraph ${i} is about ${topic} and nothing else at all.`).join('\n\n');
}

describe('ingestInProcess', () => {
  let dir: string;
  let store: ReturnType<typeof recordingStore>;
  let index: EmbeddedIndex;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'srag-local-ingest-'));
    store = recordingStore(createFsBlobStore(join(dir, 'store')));
    index = await createEmbeddedIndex(join(dir, 'index'));
  });
  afterEach(async () => {
    await index.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function deps(embedder: Embedder, progress?: LocalIngestDeps['progress']): LocalIngestDeps {
    return {
      store,
      index,
      embedder,
      counter: words,
      parse: (bytes, filename) => parseSource(bytes, { filename, limits: { maxFileBytes: 1 << 20, maxPages: 100 } }),
      pipeline,
      progress,
    };
  }

  function writeText(name: string, text: string): string {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  }

  it('indexes text sources with the point ids prepare computed and records them in the catalog', async () => {
    const embedder = fakeEmbedder();
    const sources = [
      { path: writeText('apples.txt', paragraphs(3, 'apples')), paragraphs: 3 },
      // Enough chunks for two batches: the second batch picks up where the first ended.
      { path: writeText('pears.txt', paragraphs(BATCH_CHUNKS + 20, 'pears')), paragraphs: BATCH_CHUNKS + 20 },
      { path: writeText('plums.txt', paragraphs(2, 'plums')), paragraphs: 2 },
    ];
    let total = 0;
    for (const s of sources) {
      const before = store.batches.length;
      const seen: number[] = [];
      const result = await ingestInProcess(
        deps(embedder, (stage, done, of) => {
          expect([stage, of]).toEqual(['embedding', s.paragraphs]);
          seen.push(done);
        }),
        { path: s.path },
        { acl: ['team'] },
      );
      // Progress climbs to the source's chunk count, piece by piece, and never goes back.
      expect(seen.at(-1)).toBe(s.paragraphs);
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
      if (s.paragraphs > BATCH_CHUNKS) expect(seen).toEqual(expect.arrayContaining([64, BATCH_CHUNKS, BATCH_CHUNKS + 20]));
      const written = store.batches.slice(before);
      const prepared = written.flatMap((b) => b.points);

      // Each paragraph is one chunk of at most 12 words.
      expect(result.chunks).toBe(s.paragraphs);
      expect(prepared).toHaveLength(s.paragraphs);
      expect(result.prepared.batches.map((b) => b.chunks)).toEqual(written.map((b) => b.points.length));
      expect(result.prepared.documents).toEqual({ total: 1, done: 0, failed: 0, skipped: 0 });
      expect(result.seconds).toBeGreaterThanOrEqual(0);

      // The ids are the deterministic ones of the document, its bytes, the chunk index and the pipeline.
      const documentId = documentIdFor(`file:${s.path}`);
      const contentHash = sha256Hex(readFileSync(s.path));
      expect(prepared.map((p) => p.id)).toEqual(prepared.map((_, i) => chunkId(documentId, contentHash, i, pipeline.version)));
      const points = await index.retrieve(pipeline.collection, prepared.map((p) => p.id));
      expect(points.map((p) => p.id).sort()).toEqual(prepared.map((p) => p.id).sort());
      expect(points.every((p) => p.payload.documentId === documentId && p.payload.acl.join() === 'team')).toBe(true);
      total += s.paragraphs;
    }
    expect(await index.count(pipeline.collection)).toBe(total);
    expect(embedder.embedded).toHaveLength(total);

    const catalog = await listCatalog(store);
    expect(catalog.map((r) => r.sourceName).sort()).toEqual(['apples.txt', 'pears.txt', 'plums.txt']);
    for (const record of catalog) {
      const source = sources.find((s) => s.path.endsWith(record.sourceName))!;
      expect(record.documentId).toBe(documentIdFor(`file:${source.path}`));
      expect(record.sourceKey).toBe(`file:${source.path}`);
      expect(record.acl).toEqual(['team']);
      expect(record.pipelines[pipeline.version]).toEqual({ collection: pipeline.collection, chunks: source.paragraphs, state: 'indexed' });
    }
    // Batches and vectors are work products: nothing is left of them once indexed.
    expect(await store.list('batches/')).toEqual([]);
    expect(await store.list('vectors/')).toEqual([]);
  });

  it('takes a source already in the store under the caller key, and embeds nothing the second time', async () => {
    const embedder = fakeEmbedder();
    const { hash, size } = await store.putContent(Buffer.from(paragraphs(4, 'figs')));
    const staged = { hash, size, name: 'figs.txt', sourceKey: 'bench:figs' };

    const first = await ingestInProcess(deps(embedder), { staged });
    expect(first.chunks).toBe(4);
    expect(store.batches.flatMap((b) => b.points).every((p) => p.payload.documentId === documentIdFor('bench:figs'))).toBe(true);
    const [record] = await listCatalog(store);
    expect(record).toMatchObject({ documentId: documentIdFor('bench:figs'), sourceHash: hash, contentHash: hash, acl: [] });

    const again = await ingestInProcess(deps(embedder), { staged });
    expect(again.chunks).toBe(0);
    expect(again.prepared.batches).toEqual([]);
    expect(again.prepared.documents).toMatchObject({ total: 1, skipped: 1 });
    expect(embedder.embedded).toHaveLength(4);
    expect(await index.count(pipeline.collection)).toBe(4);
  });

  it('refuses an embedder that is not the pipeline model', async () => {
    const path = writeText('kiwis.txt', paragraphs(2, 'kiwis'));
    await expect(ingestInProcess(deps(fakeEmbedder('other-model')), { path })).rejects.toMatchObject({ code: 'PIPELINE_MISMATCH' });
    expect(await index.count(pipeline.collection)).toBe(0);
  });
});
