// Workflow behaviour on the real Temporal dev server, with fake activities passed in through the same
// createActivities-shaped objects the workers use (per-test task queues).
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbedActivities, IngestActivities } from '../../activities/types.js';
import type { IngestCorpusInput, JobProgress, PipelineRef, SourceSpec } from '../../src/domain/ingest.js';
import { loadConfig } from '../../src/config.js';
import { resolveTemporalCli } from '../../src/temporal/cli-path.js';
import { loadWorkflowBundle } from '../../src/temporal/bundle.js';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { freePort, testLogger } from '../support/stack.js';

const pipeline: PipelineRef = { version: 'vtest', collection: 'c_vtest', modelId: 'fake', dimension: 4, chunk: { maxTokens: 64, overlapTokens: 8 } };

function fakeActivities(opts: { failFor?: Record<string, string>; transientOnce?: string; embedDelayMs?: number }) {
  const manifest: SourceSpec[] = [];
  const attempts = new Map<string, number>();
  const ingest: IngestActivities = {
    async readManifestPage({ offset, limit }) {
      return manifest.slice(offset, offset + limit);
    },
    async prepareSource({ source }) {
      const path = source.kind === 'path' ? source.path : source.sourceKey;
      const code = opts.failFor?.[path];
      if (code) throw ApplicationFailure.nonRetryable(`cannot read ${path}`, code);
      if (opts.transientOnce === path && (attempts.get(path) ?? 0) === 0) {
        attempts.set(path, 1);
        throw new Error('transient');
      }
      return {
        documents: { total: 1, done: 0, failed: 0, skipped: 0 },
        errors: [],
        errorsDropped: 0,
        batches: [{ key: `b/${path}`, chunks: 3, documentsCompleted: 1 }],
      };
    },
    async indexBatch({ batch }) {
      return { points: batch.chunks };
    },
    async deleteDocument({ documentId }) {
      return { documentId, pointsRemoved: 3, sourcesRemoved: 1, sourcesRetained: 0, removedHashes: ['h'] };
    },
    async verifyDocumentGone() {
      return { gone: true, remainingPoints: 0, remainingSources: 0 };
    },
  };
  const embed: EmbedActivities = {
    async embedBatch({ batch }) {
      if (opts.embedDelayMs) await new Promise((r) => setTimeout(r, opts.embedDelayMs));
      return { vectorsKey: `v/${batch.key}`, count: batch.chunks };
    },
  };
  return { manifest, ingest, embed };
}

describe('ingestCorpus / ingestDocument workflows', () => {
  let dev: DevServer;
  let client: Client;
  let connection: NativeConnection;
  let bundle: { code: string };
  let n = 0;

  beforeAll(async () => {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    const logger = testLogger();
    const config = loadConfig(process.env);
    const port = await freePort();
    const cliPath = resolveTemporalCli({ explicitPath: config.temporal.cliPath, searchPath: process.env.PATH, cacheDir: config.cacheDir, logger });
    dev = await startDevServer({ cliPath, port, uiPort: port + 1, namespace: 'default', headless: true, logger });
    connection = await NativeConnection.connect({ address: dev.address });
    client = new Client({ connection: await Connection.connect({ address: dev.address }) });
    bundle = await loadWorkflowBundle(config.cacheDir, logger);
  }, 120_000);

  afterAll(async () => {
    await client?.connection.close();
    await connection?.close();
    await dev?.stop();
  });

  async function run(
    sources: string[],
    fakes: ReturnType<typeof fakeActivities>,
    body: (workflowId: string) => Promise<JobProgress>,
    tuning?: IngestCorpusInput['tuning'],
  ): Promise<JobProgress> {
    const queue = `wf-test-${++n}`;
    fakes.manifest.push(...sources.map((path) => ({ kind: 'path' as const, path })));
    const workers = await Promise.all([
      Worker.create({ connection, taskQueue: queue, workflowBundle: bundle, activities: fakes.ingest }),
      Worker.create({ connection, taskQueue: `${queue}-embed`, activities: fakes.embed }),
    ]);
    const input: IngestCorpusInput & { embedTaskQueue: string } = {
      jobId: `job-${queue}`,
      manifestKey: 'm',
      sourceCount: sources.length,
      acl: [],
      pipeline,
      concurrency: 2,
      embedTaskQueue: `${queue}-embed`,
      tuning,
    };
    const workflowId = `ingest-${queue}`;
    const running = Promise.all(workers.map((w) => w.run()));
    try {
      await client.workflow.start('ingestCorpus', { taskQueue: queue, workflowId, args: [input] });
      return await body(workflowId);
    } finally {
      workers.forEach((w) => w.shutdown());
      await running;
    }
  }

  it('records typed permanent failures per source, retries transient ones, and completes the rest', async () => {
    const fakes = fakeActivities({ failFor: { '/b.pdf': 'ENCRYPTED', '/d.pdf': 'CORRUPT' }, transientOnce: '/c.pdf' });
    const report = await run(['/a.pdf', '/b.pdf', '/c.pdf', '/d.pdf', '/e.pdf'], fakes, (id) => client.workflow.getHandle(id).result());
    expect(report.status).toBe('completed');
    expect(report.documents).toEqual({ total: 5, done: 3, failed: 2, skipped: 0 });
    expect(report.chunks).toBe(9);
    expect(report.errors.map((e) => [e.source, e.code]).sort()).toEqual([
      ['/b.pdf', 'ENCRYPTED'],
      ['/d.pdf', 'CORRUPT'],
    ]);
  });

  it('answers the progress query while running and can be cancelled', async () => {
    const fakes = fakeActivities({ embedDelayMs: 1500 });
    const sources = Array.from({ length: 12 }, (_, i) => `/doc-${i}.md`);
    await run(sources, fakes, async (id) => {
      const handle = client.workflow.getHandle(id);
      let progress: JobProgress;
      for (;;) {
        progress = await handle.query<JobProgress>('progress');
        if (progress.documents.done >= 2) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(progress.status).toBe('running');
      expect(progress.sources.total).toBe(12);
      await handle.cancel();
      await expect(handle.result()).rejects.toThrow();
      const description = await handle.describe();
      expect(description.status.name).toBe('CANCELLED');
      return progress;
    });
  });

  it('keeps document text out of history: inputs and results are ids, keys and counts', async () => {
    const fakes = fakeActivities({});
    await run(['/x.txt'], fakes, async (id) => {
      const handle = client.workflow.getHandle(id);
      await handle.result();
      const history = await handle.fetchHistory();
      const size = JSON.stringify(history).length;
      expect(size).toBeLessThan(64 * 1024);
      return handle.result();
    });
  });

  it('continues-as-new between manifest pages and carries the report across runs', async () => {
    const fakes = fakeActivities({ failFor: { '/s-3': 'NO_TEXT' } });
    const sources = Array.from({ length: 7 }, (_, i) => `/s-${i}`);
    let firstRunId = '';
    const report = await run(
      sources,
      fakes,
      async (id) => {
        const handle = client.workflow.getHandle(id);
        firstRunId = (await handle.describe()).runId;
        const result = await handle.result();
        expect((await handle.describe()).runId).not.toBe(firstRunId);
        return result as JobProgress;
      },
      { pageSize: 2, historyBudget: 1 },
    );
    expect(report.status).toBe('completed');
    expect(report.sources).toEqual({ total: 7, done: 7 });
    expect(report.documents).toEqual({ total: 7, done: 6, failed: 1, skipped: 0 });
    expect(report.errors).toEqual([expect.objectContaining({ source: '/s-3', code: 'NO_TEXT' })]);
  });
});
