// Scrapes every process of the real stack (API, ingest worker, embedding worker: Temporal dev server,
// the ONNX model, real PDFs) after real work, and checks that (1) the counts in the metrics are the
// job report's own, and (2) every metric name the alert rules and dashboards in deploy/ use exists in
// some scrape, so renaming a metric breaks CI instead of silently blinding a pager.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import type { JobProgress } from '../../src/domain/ingest.js';
import type { WorkerProcess } from '../../src/temporal/worker-process.js';
import { postJson, startStackApi, waitForJob } from '../support/http.js';
import { dashboardExpressions, exposedNames, metricNamesIn, ruleExpressions, sampleValue } from '../support/promql.js';
import { EVAL_DIR, startStack, type Stack } from '../support/stack.js';

const PDFS = join(EVAL_DIR, 'pdfs', 'pdfplumber-realworld');
/** Series Prometheus makes itself, not any process. */
const SYNTHETIC = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status, url).toBe(200);
  return res.text();
}

describe('metrics from every process', () => {
  let stack: Stack;
  let api: { url: string; close: () => Promise<void> };
  let workers: WorkerProcess[];
  let report: JobProgress;
  const scrapes: Record<string, string> = {};

  beforeAll(async () => {
    stack = await startStack();
    workers = await stack.startWorkers();
    api = await startStackApi(stack);
    const dir = mkdtempSync(join(tmpdir(), 'srag-metrics-'));
    const corrupt = join(dir, 'corrupt.pdf');
    writeFileSync(corrupt, Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(2048, 0x41)]));
    const res = await postJson<{ jobId: string }>(`${api.url}/v1/ingest`, {
      sources: [
        { path: join(PDFS, 'cupertino_usd_4-6-16.pdf') },
        { path: join(PDFS, 'password-example.pdf') },
        { path: join(PDFS, 'empty.pdf') },
        { path: corrupt },
        { text: 'Speakers may address the board for three minutes each.', title: 'board rules' },
      ],
    });
    expect(res.status).toBe(202);
    report = await waitForJob(api.url, res.body.jobId);
    // Queries (answer and search) so the query-side series have samples.
    expect((await postJson(`${api.url}/v1/query`, { question: 'How long may each speaker address the board?' })).status).toBe(200);
    expect((await postJson(`${api.url}/v1/search`, { query: 'board meeting speakers' })).status).toBe(200);
    scrapes.api = await scrape(`${api.url}/metrics`);
    for (const w of workers) scrapes[w.kind] = await scrape(`http://127.0.0.1:${w.metricsPort}/metrics`);
    // For writing rules and dashboards: what each process exposes after real work.
    const dump = process.env.SRAG_METRICS_DUMP;
    if (dump) for (const [name, text] of Object.entries(scrapes)) writeFileSync(join(dump, `${name}.prom`), text);
  }, 900_000);

  afterAll(async () => {
    await api?.close();
    await stack?.stop();
  });

  it('every worker reports its own metrics port and serves /healthz there', async () => {
    expect(workers.map((w) => w.kind).sort()).toEqual(['embed', 'ingest']);
    for (const w of workers) {
      expect(w.metricsPort).toBeGreaterThan(0);
      expect(await (await fetch(`http://127.0.0.1:${w.metricsPort}/healthz`)).json()).toEqual({ status: 'ok' });
    }
  });

  it('counts documents, error codes, jobs and chunks exactly as the job report does', () => {
    expect(report.status).toBe('completed');
    expect(report.documents.failed).toBe(3);
    const ingest = scrapes.ingest;
    expect(sampleValue(ingest, 'srag_ingest_documents_total', { outcome: 'indexed' })).toBe(report.documents.done);
    expect(sampleValue(ingest, 'srag_ingest_documents_total', { outcome: 'failed' })).toBe(report.documents.failed);
    expect(sampleValue(ingest, 'srag_ingest_documents_total', { outcome: 'unchanged' })).toBe(report.documents.skipped);
    for (const [code, n] of Object.entries(report.errorCodes ?? {})) expect(sampleValue(ingest, 'srag_ingest_document_errors_total', { code }), code).toBe(n);
    expect(sampleValue(ingest, 'srag_ingest_jobs_total', { origin: 'submitted', outcome: 'completed_with_errors' })).toBe(1);
    expect(sampleValue(ingest, 'srag_chunks_indexed_total')).toBe(report.chunks);
    expect(sampleValue(ingest, 'srag_parse_seconds_count', { type: 'pdf' })).toBeGreaterThanOrEqual(3);
    // The embedding worker embedded every indexed chunk (in batches it timed).
    expect(sampleValue(scrapes.embed, 'srag_embedded_texts_total')).toBe(report.chunks);
    expect(sampleValue(scrapes.embed, 'srag_embed_batch_seconds_count')).toBeGreaterThan(0);
  });

  it('serves the Temporal SDK worker metrics from each worker endpoint', () => {
    for (const kind of ['ingest', 'embed']) {
      const names = exposedNames(scrapes[kind]);
      expect([...names].some((n) => n.startsWith('temporal_')), kind).toBe(true);
      expect(names, kind).toContain('temporal_worker_task_slots_available');
    }
    expect(sampleValue(scrapes.ingest, 'temporal_workflow_completed_total')).toBeGreaterThan(0);
  });

  it('reports the served index, the task queues and readiness from the API', () => {
    const a = scrapes.api;
    expect(sampleValue(a, 'srag_index_points')).toBe(report.chunks);
    expect(sampleValue(a, 'srag_task_queue_pollers', { role: 'ingest' })).toBeGreaterThan(0);
    expect(sampleValue(a, 'srag_task_queue_pollers', { role: 'embed' })).toBeGreaterThan(0);
    expect(sampleValue(a, 'srag_ready', { check: 'temporal' })).toBe(1);
    expect(sampleValue(a, 'srag_rollout_phase', { phase: 'none' })).toBe(1);
    expect(sampleValue(a, 'srag_volume_free_bytes', { volume: 'data' })).toBeGreaterThan(0);
    expect(sampleValue(a, 'srag_query_stage_seconds_count', { stage: 'embed' })).toBeGreaterThanOrEqual(2);
  });

  it('every metric the alert rules and dashboards use exists in some scrape', () => {
    const exposed = new Set(Object.values(scrapes).flatMap((t) => [...exposedNames(t)]));
    const used = [
      ...ruleExpressions(join(PROJECT_ROOT, 'deploy', 'prometheus', 'rules')),
      ...dashboardExpressions(join(PROJECT_ROOT, 'deploy', 'grafana', 'dashboards')),
    ];
    expect(used.length).toBeGreaterThan(20);
    const missing = used.flatMap((u) => metricNamesIn(u.expr).filter((n) => !exposed.has(n) && !SYNTHETIC.has(n)).map((n) => `${u.file} "${u.name}": ${n}`));
    expect(missing).toEqual([]);
  });
});
