import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmbedActivities, createIngestActivities } from '../../activities/index.js';
import type { PipelineRef, PreparedSource } from '../../src/domain/ingest.js';
import type { Embedder } from '../../src/embed/port.js';
import { createEmbeddedIndex } from '../../src/index/embedded.js';
import type { VectorIndex } from '../../src/index/port.js';
import { silentLogger } from '../../src/obs/logger.js';
import { parseSource } from '../../src/parse/index.js';
import { createFsBlobStore } from '../../src/store/fs.js';
import type { BlobStore } from '../../src/store/port.js';

const DIM = 8;
const pipeline: PipelineRef = { version: 'vunit', collection: 'c_unit', modelId: 'fake-model', dimension: DIM, chunk: { maxTokens: 12, overlapTokens: 2 } };
const words = { countTokens: (t: string) => t.split(/\s+/).filter(Boolean).length };

/** A fake embedder: deterministic unit vectors; can fail on the Nth call to simulate a crash. */
function fakeEmbedder(failOnCall?: number): Embedder & { calls: number; texts: number } {
  const e = {
    modelId: 'fake-model',
    dimension: DIM,
    calls: 0,
    texts: 0,
    async embedDocuments(texts: string[]) {
      e.calls += 1;
      if (failOnCall === e.calls) throw new Error('worker lost');
      e.texts += texts.length;
      return texts.map((t) => {
        const v = new Float32Array(DIM);
        for (let i = 0; i < t.length; i++) v[i % DIM] += t.charCodeAt(i);
        const n = Math.hypot(...v) || 1;
        return v.map((x) => x / n);
      });
    },
    async embedQuery(t: string) {
      return (await e.embedDocuments([t]))[0];
    },
    async close() {},
  };
  return e;
}

describe('activities', () => {
  let dir: string;
  let store: BlobStore;
  let index: VectorIndex;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'srag-act-'));
    store = createFsBlobStore(join(dir, 'store'));
    index = await createEmbeddedIndex(join(dir, 'index'));
    await index.ensureCollection(pipeline.collection, DIM);
  });
  afterEach(async () => {
    await index.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const ingest = () =>
    createIngestActivities({
      store,
      index,
      counter: words,
      parse: (bytes, filename) => parseSource(bytes, { filename, limits: { maxFileBytes: 1 << 20, maxPages: 100 } }),
      maxFileBytes: 1 << 20,
      logger: silentLogger,
    });

  function writeDoc(name: string, paragraphs: number): string {
    const path = join(dir, name);
    writeFileSync(path, Array.from({ length: paragraphs }, (_, i) => `Paragraph ${i} talks about topic number ${i} in some detail.`).join('\n\n'));
    return path;
  }

  it('bad input fails as a non-retryable ApplicationFailure typed with the error code', async () => {
    const empty = join(dir, 'empty.pdf');
    writeFileSync(empty, '');
    const env = new MockActivityEnvironment();
    const err = await env.run(ingest().prepareSource, { jobId: 'j', source: { kind: 'path' as const, path: empty }, acl: [] as string[], pipeline }).catch((e) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'EMPTY_FILE', nonRetryable: true });
    const missing = await env.run(ingest().prepareSource, { jobId: 'j', source: { kind: 'path' as const, path: join(dir, 'nope.md') }, acl: [] as string[], pipeline }).catch((e) => e);
    expect(missing).toMatchObject({ type: 'NOT_FOUND', nonRetryable: true });
  });

  it('embedBatch heartbeats per piece and, after a crash, resumes without re-embedding finished pieces', async () => {
    const path = writeDoc('long.md', 200);
    const prepared: PreparedSource = await new MockActivityEnvironment().run(ingest().prepareSource, { jobId: 'j', source: { kind: 'path' as const, path }, acl: [] as string[], pipeline });
    const [batch] = prepared.batches;
    expect(batch.chunks).toBeGreaterThan(128);

    const crashing = fakeEmbedder(3);
    const first = new MockActivityEnvironment();
    const beats: unknown[] = [];
    first.on('heartbeat', (d: unknown) => beats.push(d));
    await expect(first.run(createEmbedActivities({ store, embedder: crashing, logger: silentLogger }).embedBatch, { batch, pipeline })).rejects.toThrow('worker lost');
    expect(beats).toEqual([
      { piecesDone: 1, pieces: Math.ceil(batch.chunks / 64) },
      { piecesDone: 2, pieces: Math.ceil(batch.chunks / 64) },
    ]);

    const healthy = fakeEmbedder();
    const retry = new MockActivityEnvironment({ heartbeatDetails: beats.at(-1), attempt: 2 });
    const { vectorsKey, count }: { vectorsKey: string; count: number } = await retry.run(createEmbedActivities({ store, embedder: healthy, logger: silentLogger }).embedBatch, { batch, pipeline });
    expect(count).toBe(batch.chunks);
    expect(healthy.texts).toBe(batch.chunks - 128);

    const { points }: { points: number } = await new MockActivityEnvironment().run(ingest().indexBatch, { batch, vectorsKey, pipeline });
    expect(points).toBe(batch.chunks);
    expect(await index.count(pipeline.collection)).toBe(batch.chunks);
    // A retried indexBatch after cleanup is a no-op, not a failure.
    expect(await new MockActivityEnvironment().run(ingest().indexBatch, { batch, vectorsKey, pipeline })).toEqual({ points: batch.chunks });
  });

  it('skips unchanged documents and replaces the chunks of a changed one', async () => {
    const path = writeDoc('doc.md', 10);
    const run = async () => {
      const prepared: PreparedSource = await new MockActivityEnvironment().run(ingest().prepareSource, { jobId: 'j', source: { kind: 'path' as const, path }, acl: ['hr'], pipeline });
      for (const batch of prepared.batches) {
        const { vectorsKey }: { vectorsKey: string } = await new MockActivityEnvironment().run(createEmbedActivities({ store, embedder: fakeEmbedder(), logger: silentLogger }).embedBatch, { batch, pipeline });
        await new MockActivityEnvironment().run(ingest().indexBatch, { batch, vectorsKey, pipeline });
      }
      return prepared;
    };
    const first = await run();
    const count = await index.count(pipeline.collection);
    expect(first.documents).toMatchObject({ total: 1, skipped: 0 });

    const second = await run();
    // Unchanged documents are skipped, not done: total = done + failed + skipped.
    expect(second.documents).toEqual({ total: 1, done: 0, failed: 0, skipped: 1 });
    expect(second.batches).toEqual([]);

    writeDoc('doc.md', 4);
    const third = await run();
    expect(third.documents.skipped).toBe(0);
    const after = await index.count(pipeline.collection);
    expect(after).toBeLessThan(count);
    const hashes = new Set<string>();
    await index.scroll(pipeline.collection, undefined, (_id, p) => hashes.add(p.contentHash));
    expect(hashes.size).toBe(1);
  });

  it('writes every error of a source to the job errors file, and rewrites it the same on retry', async () => {
    const path = join(dir, 'corpus.jsonl');
    const lines = ['{"_id":"ok","title":"Fine","text":"Some text to index here."}', 'not json', '{"_id":"empty","title":"","text":""}'];
    writeFileSync(path, lines.join('\n') + '\n');
    const input = { jobId: 'job_errs', source: { kind: 'path' as const, path }, acl: [] as string[], pipeline, index: 3 };
    const prepared: PreparedSource = await new MockActivityEnvironment().run(ingest().prepareSource, input);
    const stored = JSON.parse((await store.get('jobs/job_errs/errors/3.json')).toString('utf8')) as Array<{ code: string }>;
    expect(stored.map((e) => e.code).sort()).toEqual(Object.entries(prepared.errorCodes).flatMap(([code, n]) => Array<string>(n).fill(code)).sort());
    expect(stored.length).toBe(prepared.errors.length + prepared.errorsDropped);
    expect(stored.length).toBe(2);
    expect(prepared.documents.total).toBe(prepared.documents.failed + prepared.documents.skipped + prepared.batches.reduce((n, b) => n + b.documentsCompleted, 0));

    const record = ingest().recordSourceErrors;
    const extra = [{ source: 'corpus.jsonl', code: 'MODEL_ERROR', message: 'embedding failed' }];
    for (let attempt = 0; attempt < 2; attempt++) {
      expect(await new MockActivityEnvironment().run(record, { jobId: 'job_errs', index: 3, errors: extra, from: stored.length })).toEqual({ stored: stored.length + 1 });
    }
    // Without `from` (a failed child's error), a retry does not append it twice.
    const child = [{ source: 'corpus.jsonl', code: 'INTERNAL', message: 'ingestion of this source failed' }];
    await new MockActivityEnvironment().run(record, { jobId: 'job_errs', index: 3, errors: child });
    expect(await new MockActivityEnvironment().run(record, { jobId: 'job_errs', index: 3, errors: child })).toEqual({ stored: stored.length + 2 });
  });

  it('refuses to embed for a job of another model', async () => {
    const path = writeDoc('m.md', 3);
    const prepared: PreparedSource = await new MockActivityEnvironment().run(ingest().prepareSource, { jobId: 'j', source: { kind: 'path' as const, path }, acl: [] as string[], pipeline });
    const other = { ...pipeline, modelId: 'another-model' };
    const err = await new MockActivityEnvironment()
      .run(createEmbedActivities({ store, embedder: fakeEmbedder(), logger: silentLogger }).embedBatch, { batch: prepared.batches[0], pipeline: other })
      .catch((e) => e);
    expect(err).toMatchObject({ type: 'PIPELINE_MISMATCH', nonRetryable: true });
  });
});
