// Crash durability on the real stack: worker processes are SIGKILLed mid-job, new ones take over,
// and the index ends with exactly the chunks of an undisturbed run. A re-submit re-embeds nothing.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobProgress } from '../../src/domain/ingest.js';
import { openIndex } from '../../src/runtime.js';
import { createJobService } from '../../src/temporal/jobs.js';
import { openStore } from '../../src/runtime.js';
import { EVAL_DIR, startStack, type Stack } from '../support/stack.js';

const SOURCES_DIR = join(EVAL_DIR, 'pdfs', 'pdfplumber-realworld');

function sources(): { kind: 'path'; path: string }[] {
  return readdirSync(SOURCES_DIR)
    .filter((f) => f.endsWith('.pdf'))
    .sort()
    .map((f) => ({ kind: 'path' as const, path: join(SOURCES_DIR, f) }));
}

async function waitFor(get: () => Promise<JobProgress>, until: (p: JobProgress) => boolean, timeoutMs = 600_000): Promise<JobProgress> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = await get().catch(() => undefined);
    if (p && until(p)) return p;
    if (Date.now() > deadline) throw new Error('timed out waiting for the job');
    await new Promise((r) => setTimeout(r, 300));
  }
}

function jobs(stack: Stack) {
  return createJobService({
    client: stack.client,
    store: openStore(stack.config),
    taskQueue: stack.config.temporal.taskQueue,
    embedTaskQueue: stack.config.temporal.embedTaskQueue,
    pipeline: stack.pipeline,
    concurrency: 2,
  });
}

async function indexedChunks(stack: Stack): Promise<{ count: number; ids: Set<string> }> {
  const index = await openIndex(stack.config, { readOnly: true, logger: stack.logger });
  try {
    const ids = new Set<string>();
    await index.scroll(stack.pipeline.collection, undefined, (id) => ids.add(id));
    return { count: await index.count(stack.pipeline.collection), ids };
  } finally {
    await index.close();
  }
}

describe('a job survives its workers being killed', () => {
  let base: Stack;
  let reference: { report: JobProgress; count: number; ids: Set<string> };

  beforeAll(async () => {
    // Worker crashes, not the index backend, are under test here: the embedded index, whatever QDRANT_URL says.
    base = await startStack({ QDRANT_URL: '' });
    // Undisturbed reference run in its own data dir and task queues.
    const calm = base.withDataDir(mkdtempSync(join(tmpdir(), 'srag-calm-')));
    const workers = await calm.startWorkers();
    const svc = jobs(calm);
    const { jobId } = await svc.submit(sources(), []);
    const report = await waitFor(() => svc.get(jobId), (p) => p.status !== 'running');
    await Promise.all(workers.map((w) => w.stop()));
    reference = { report, ...(await indexedChunks(calm)) };
  }, 900_000);

  afterAll(async () => {
    await base?.stop();
  });

  it('finishes with exactly the chunks of the undisturbed run, then re-embeds nothing on re-submit', async () => {
    expect(reference.report.status).toBe('completed');
    expect(reference.count).toBe(reference.report.chunks);
    expect(reference.count).toBeGreaterThan(100);

    const svc = jobs(base);
    const first = await base.startWorkers();
    const { jobId } = await svc.submit(sources(), []);
    // Let some documents finish, then crash every worker process at once.
    const before = await waitFor(() => svc.get(jobId), (p) => p.documents.done >= 5 || p.status !== 'running');
    expect(before.status).toBe('running');
    await Promise.all(first.map((w) => w.kill()));
    expect(first.every((w) => !w.alive())).toBe(true);

    await base.startWorkers();
    const report = await waitFor(() => svc.get(jobId), (p) => p.status !== 'running');
    expect(report.status).toBe('completed');
    expect(report.documents).toEqual(reference.report.documents);

    const after = await indexedChunks(base);
    expect(after.count).toBe(reference.count);
    expect(after.ids).toEqual(reference.ids);

    // Same job again: every document is unchanged, nothing is embedded or indexed.
    const again = await svc.submit(sources(), []);
    expect(again.jobId).toBe(jobId);
    const second = await waitFor(() => svc.get(jobId), (p) => p.status !== 'running' && p.startedAt !== report.startedAt);
    expect(second.status).toBe('completed');
    expect(second.chunks).toBe(0);
    expect(second.documents.skipped).toBe(reference.report.documents.done);
    expect((await indexedChunks(base)).count).toBe(reference.count);
  }, 900_000);
});
