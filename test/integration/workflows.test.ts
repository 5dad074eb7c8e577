// Workflow behaviour on the real Temporal dev server, with fake activities passed in through the same
// createActivities-shaped objects the workers use (per-test task queues).
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbedActivities, IngestActivities } from '../../activities/types.js';
import { MAX_ERRORS_KEPT, type IngestCorpusInput, type IngestError, type JobProgress, type PipelineRef, type SourceSpec } from '../../src/domain/ingest.js';
import { loadConfig } from '../../src/config.js';
import { errorHandler } from '../../src/http/errors.js';
import type { Principal } from '../../src/http/gateway/principal.js';
import { createJobErrorsRoute } from '../../src/http/job-errors.js';
import { silentLogger } from '../../src/obs/logger.js';
import { createFsBlobStore } from '../../src/store/fs.js';
import { writeSourceErrors } from '../../src/store/job-errors.js';
import { writeManifest } from '../../src/store/manifest.js';
import type { BlobStore } from '../../src/store/port.js';
import { resolveTemporalCli } from '../../src/temporal/cli-path.js';
import { loadWorkflowBundle } from '../../src/temporal/bundle.js';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { connectWhenHealthy } from '../../src/temporal/health.js';
import { createJobService, workflowIdForJob } from '../../src/temporal/jobs.js';
import { freePort, testLogger } from '../support/stack.js';

const pipeline: PipelineRef = { version: 'vtest', collection: 'c_vtest', modelId: 'fake', dimension: 4, chunk: { maxTokens: 64, overlapTokens: 8 } };

/** A source the fake prepare turns into many documents: its own errors, then these batches. */
interface FakeCorpus {
  errors: IngestError[];
  documents: number;
  batches: Array<{ key: string; chunks: number; documentsCompleted: number; endsMidDocument?: boolean }>;
}

function fakeActivities(opts: {
  failFor?: Record<string, string>;
  transientOnce?: string;
  embedDelayMs?: number;
  /** Where the errors files go; the fakes write them as the real activities do. */
  store?: BlobStore;
  corpora?: Record<string, FakeCorpus>;
  /** Embedding fails for these batch keys, with this code. */
  embedFails?: Record<string, string>;
}) {
  const manifest: SourceSpec[] = [];
  const attempts = new Map<string, number>();
  const unused = async (): Promise<never> => {
    throw new Error('not used by these workflows');
  };
  const ingest: IngestActivities = {
    writeRebuildProbe: unused,
    runRebuildProbe: unused,
    removeRebuildProbe: unused,
    planRebuild: unused,
    resetCollection: unused,
    takeSnapshot: unused,
    copySnapshotToBackup: unused,
    applySnapshotRetention: unused,
    restoreForDrill: unused,
    compareDrill: unused,
    dropCollection: unused,
    recordDrill: unused,
    restoreForServing: unused,
    planCatchUp: unused,
    prepareCandidate: unused,
    evaluateForGate: unused,
    switchAlias: unused,
    postSwitchCheck: unused,
    setBuilding: unused,
    async readManifestPage({ offset, limit }) {
      return manifest.slice(offset, offset + limit);
    },
    async prepareSource({ source, jobId, index }) {
      const path = source.kind === 'path' ? source.path : source.sourceKey;
      const code = opts.failFor?.[path];
      if (code) throw ApplicationFailure.nonRetryable(`cannot read ${path}`, code);
      if (opts.transientOnce === path && (attempts.get(path) ?? 0) === 0) {
        attempts.set(path, 1);
        throw new Error('transient');
      }
      const corpus = opts.corpora?.[path];
      if (corpus) {
        if (opts.store && index !== undefined) await writeSourceErrors(opts.store, jobId, index, corpus.errors, 0);
        const errorCodes: Record<string, number> = {};
        for (const e of corpus.errors) errorCodes[e.code] = (errorCodes[e.code] ?? 0) + 1;
        return {
          documents: { total: corpus.documents, done: 0, failed: corpus.errors.length, skipped: 0 },
          errors: corpus.errors.slice(0, MAX_ERRORS_KEPT),
          errorsDropped: Math.max(0, corpus.errors.length - MAX_ERRORS_KEPT),
          errorCodes,
          batches: corpus.batches,
        };
      }
      return {
        documents: { total: 1, done: 0, failed: 0, skipped: 0 },
        errors: [],
        errorsDropped: 0,
        errorCodes: {},
        batches: [{ key: `b/${path}`, chunks: 3, documentsCompleted: 1 }],
      };
    },
    async recordSourceErrors({ jobId, index, errors, from }) {
      if (!opts.store) return { stored: 0 };
      return writeSourceErrors(opts.store, jobId, index, errors, from);
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
      const code = opts.embedFails?.[batch.key];
      if (code) throw ApplicationFailure.nonRetryable(`embedding ${batch.key} failed`, code);
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
    // Health, not an open port: a frontend that listens still answers "not healthy yet" for a while.
    const wait = { namespace: 'default', address: dev.address, logger };
    connection = await connectWhenHealthy(() => NativeConnection.connect({ address: dev.address }), wait);
    client = new Client({ connection: await connectWhenHealthy(() => Connection.connect({ address: dev.address }), wait) });
    bundle = await loadWorkflowBundle(config.cacheDir, logger);
  }, 240_000);

  afterAll(async () => {
    await client?.connection.close();
    await connection?.close();
    await dev?.stop();
  });

  async function run(
    sources: string[],
    fakes: ReturnType<typeof fakeActivities>,
    body: (workflowId: string) => Promise<JobProgress>,
    opts: { tuning?: IngestCorpusInput['tuning']; jobId?: string; concurrency?: number } = {},
  ): Promise<JobProgress> {
    const queue = `wf-test-${++n}`;
    fakes.manifest.push(...sources.map((path) => ({ kind: 'path' as const, path })));
    const workers = await Promise.all([
      Worker.create({ connection, taskQueue: queue, workflowBundle: bundle, activities: fakes.ingest }),
      Worker.create({ connection, taskQueue: `${queue}-embed`, activities: fakes.embed }),
    ]);
    const input: IngestCorpusInput & { embedTaskQueue: string } = {
      jobId: opts.jobId ?? `job-${queue}`,
      manifestKey: 'm',
      sourceCount: sources.length,
      acl: [],
      pipeline,
      concurrency: opts.concurrency ?? 2,
      embedTaskQueue: `${queue}-embed`,
      tuning: opts.tuning,
    };
    const workflowId = opts.jobId ? workflowIdForJob(opts.jobId) : `ingest-${queue}`;
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
    expect(report.errorCodes).toEqual({ ENCRYPTED: 1, CORRUPT: 1 });
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

  it('continues-as-new between manifest pages and carries the report across runs; srag jobs lists it once', async () => {
    const fakes = fakeActivities({ failFor: { '/s-3': 'NO_TEXT' } });
    const jobId = 'job_c0ntinued0123456789a';
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
      { tuning: { pageSize: 2, historyBudget: 1 }, jobId },
    );
    expect(report.status).toBe('completed');
    expect(report.sources).toEqual({ total: 7, done: 7 });
    expect(report.documents).toEqual({ total: 7, done: 6, failed: 1, skipped: 0 });
    expect(report.errors).toEqual([expect.objectContaining({ source: '/s-3', code: 'NO_TEXT' })]);

    // srag jobs lists the job once, as it ended, though each run is its own execution in visibility.
    const jobs = createJobService({ client, store: createFsBlobStore(mkdtempSync(join(tmpdir(), 'srag-wf-list-'))), taskQueue: 'unused', embedTaskQueue: 'unused', pipeline, concurrency: 1 });
    // Visibility is eventually consistent: wait until the last run shows as completed, however long that takes.
    const executions = async () => {
      const out: string[] = [];
      for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowIdForJob(jobId)}'` })) out.push(wf.status.name);
      return out;
    };
    let seen = await executions();
    while (!seen.includes('COMPLETED')) {
      await new Promise((r) => setTimeout(r, 200));
      seen = await executions();
    }
    expect(seen.filter((s) => s === 'CONTINUED_AS_NEW').length).toBeGreaterThan(0);
    const listed = (await jobs.list(1000)).filter((j) => j.jobId === jobId);
    expect(listed).toEqual([expect.objectContaining({ jobId, status: 'completed' })]);
  });

  it('counts every error by code past the kept 200, and pages through all of them from the errors files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'srag-wf-errors-'));
    const store = createFsBlobStore(dir);
    const codes = ['CORRUPT', 'ENCRYPTED', 'NO_TEXT'];
    const failing = Array.from({ length: 60 }, (_, i) => `/bad-${i}.pdf`);
    const corpusErrors = Array.from({ length: 250 }, (_, i) => ({ source: `corpus.jsonl:${i + 1}`, code: 'INVALID_INPUT', message: `line ${i + 1} is not JSON` }));
    const corpus: FakeCorpus = {
      errors: corpusErrors,
      documents: 250 + 3,
      // Three good records over three batches: the second ends inside the third record, whose last
      // chunk is in the third batch; embedding the second fails, which fails that record once.
      batches: [
        { key: 'b/corpus-0', chunks: 256, documentsCompleted: 1 },
        { key: 'b/corpus-1', chunks: 256, documentsCompleted: 1, endsMidDocument: true },
        { key: 'b/corpus-2', chunks: 10, documentsCompleted: 1 },
      ],
    };
    const fakes = fakeActivities({
      store,
      failFor: Object.fromEntries(failing.map((path, i) => [path, codes[i % codes.length]])),
      corpora: { '/corpus.jsonl': corpus },
      embedFails: { 'b/corpus-1': 'MODEL_ERROR' },
    });
    const jobId = 'job_0123456789abcdef0123';
    const sources = ['/good-a.md', ...failing.slice(0, 30), '/corpus.jsonl', ...failing.slice(30), '/good-b.md'];
    await writeManifest(store, jobId, sources.map((path) => ({ kind: 'path' as const, path })), { owner: 'ann' });
    let server: ReturnType<express.Express['listen']> | undefined;
    try {
      const report = await run(sources, fakes, (id) => client.workflow.getHandle(id).result(), { jobId, concurrency: 8 });
      const allErrors = failing.length + corpusErrors.length + 1;
      expect(report.status).toBe('completed');
      expect(report.documents).toEqual({ total: 2 + failing.length + 253, done: 2 + 1, failed: failing.length + 250 + 2, skipped: 0 });
      expect(report.documents.total).toBe(report.documents.done + report.documents.failed + report.documents.skipped);
      expect(report.errors).toHaveLength(MAX_ERRORS_KEPT);
      expect(report.errorsDropped).toBe(allErrors - MAX_ERRORS_KEPT);
      expect(report.errorCodes).toEqual({ CORRUPT: 20, ENCRYPTED: 20, NO_TEXT: 20, INVALID_INPUT: 250, MODEL_ERROR: 1 });
      const histogram = Object.values(report.errorCodes ?? {}).reduce((a, b) => a + b, 0);
      expect(histogram).toBe(allErrors);
      // One error per failed document, except the batch failure that failed two records at once.
      expect(histogram).toBe(report.documents.failed - 1);

      // The real route over the real job service: pages through every error, owner only.
      const jobs = createJobService({ client, store, taskQueue: 'unused', embedTaskQueue: 'unused', pipeline, concurrency: 1 });
      const app = express();
      app.use((req, res, next) => {
        const user = String(req.headers['x-user'] ?? 'ann');
        res.locals.principal = { user, groups: [], scopes: ['ingest'], unrestricted: false, via: 'token' } satisfies Principal;
        next();
      });
      app.get('/v1/jobs/:jobId/errors', ...createJobErrorsRoute({ jobs, store }));
      app.use(errorHandler(silentLogger));
      server = app.listen(0, '127.0.0.1');
      await new Promise((r) => server?.once('listening', r));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/jobs/${jobId}/errors`;
      const paged: IngestError[] = [];
      let offset: number | undefined = 0;
      while (offset !== undefined) {
        const res = await fetch(`${base}?offset=${offset}&limit=77`);
        expect(res.status).toBe(200);
        const page = (await res.json()) as { total: number; errors: IngestError[]; nextOffset?: number };
        expect(page.total).toBe(allErrors);
        paged.push(...page.errors);
        offset = page.nextOffset;
      }
      expect(paged).toHaveLength(allErrors);
      const byCode: Record<string, number> = {};
      for (const e of paged) byCode[e.code] = (byCode[e.code] ?? 0) + 1;
      expect(byCode).toEqual(report.errorCodes);
      expect(paged.filter((e) => e.code === 'INVALID_INPUT').map((e) => e.source)).toEqual(corpusErrors.map((e) => e.source));
      // Non-admins see file names, not server paths (as in the job report).
      expect(new Set(paged.filter((e) => codes.includes(e.code)).map((e) => e.source))).toEqual(new Set(failing.map((p) => p.slice(1))));

      expect((await fetch(base, { headers: { 'x-user': 'bob' } })).status).toBe(404);
      expect((await fetch(`${base}?limit=0`)).status).toBe(400);
    } finally {
      await new Promise((r) => (server ? server.close(r) : r(undefined)));
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
