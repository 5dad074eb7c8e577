// The store is the system of record: drop the served collection, rebuild it from the catalog and the
// source bytes alone, and get the same point ids, the same ACLs and the same top-10. Real dev server,
// real workers, the real model, real files from the eval folder.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RebuildReport } from '../../workflows/maintenance/rebuild-collection.js';
import { configuredPipeline, openIndex, openStore, prepareServingCollection } from '../../src/runtime.js';
import type { RebuildStatus } from '../../src/services/rebuild.js';
import { listCatalog } from '../../src/store/catalog.js';
import { postJson, startStackApi, waitForJob } from '../support/http.js';
import { EVAL_DIR, startStack, type Stack } from '../support/stack.js';

interface Doc {
  documentId: string;
  title: string;
  acl: string[];
  chunks: number;
  externalId?: string;
}

describe('rebuilding a collection from the store alone', () => {
  let stack: Stack;
  let api: { url: string; close: () => Promise<void> };

  const documents = async () => ((await (await fetch(`${api.url}/v1/documents`)).json()) as { documents: Doc[] }).documents;
  const pointIds = async () => {
    const index = await openIndex(stack.config, { readOnly: true, logger: stack.logger });
    try {
      const ids: string[] = [];
      await index.scroll(stack.pipeline.collection, undefined, (id) => ids.push(id));
      return ids.sort();
    } finally {
      await index.close();
    }
  };

  beforeAll(async () => {
    stack = await startStack();
    const record = configuredPipeline(stack.config, stack.embedder);
    await prepareServingCollection(stack.config, record.ref.collection, record.ref.dimension, stack.logger, record);
    await stack.startWorkers();
    api = await startStackApi(stack);
  }, 300_000);

  afterAll(async () => {
    await api?.close();
    await stack?.stop();
  });

  it('drops the served collection and rebuilds identical point ids, ACLs and top-10 from the catalog', async () => {
    // A small corpus file (records), a real PDF, and text sources with different ACLs.
    const dir = mkdtempSync(join(tmpdir(), 'srag-rebuild-'));
    const corpus = readFileSync(join(EVAL_DIR, 'scifact', 'corpus.jsonl'), 'utf8').split('\n').slice(0, 25).join('\n') + '\n';
    writeFileSync(join(dir, 'scifact-25.jsonl'), corpus);
    const pdf = join(EVAL_DIR, 'pdfs', 'pdfplumber-realworld', 'nics-background-checks-2015-11.pdf');
    const first = await postJson<{ jobId: string }>(`${api.url}/v1/ingest`, { sources: [{ path: join(dir, 'scifact-25.jsonl') }, { path: pdf }], acl: ['research'] });
    expect(first.status).toBe(202);
    expect((await waitForJob(api.url, first.body.jobId)).documents).toMatchObject({ total: 26, done: 26, failed: 0 });
    const second = await postJson<{ jobId: string }>(`${api.url}/v1/ingest`, {
      sources: [
        { text: 'The payroll calendar closes on the 25th of each month.', title: 'Payroll calendar' },
        { text: 'Visitors sign in at the front desk and wear a badge at all times.', title: 'Visitor policy' },
      ],
      acl: ['hr'],
    });
    await waitForJob(api.url, second.body.jobId);
    const third = await postJson<{ jobId: string }>(`${api.url}/v1/ingest`, { sources: [{ text: 'The cafeteria opens at 11:30 on weekdays.', title: 'Cafeteria' }], pii: 'redact' });
    await waitForJob(api.url, third.body.jobId);

    // A deleted record must stay deleted after the rebuild.
    const before = await documents();
    const gone = before.find((d) => d.externalId !== undefined)!;
    expect((await fetch(`${api.url}/v1/documents/${gone.documentId}`, { method: 'DELETE' })).status).toBe(200);
    const docsBefore = (await documents()).map((d) => ({ id: d.documentId, acl: d.acl, chunks: d.chunks, title: d.title })).sort((a, b) => (a.id < b.id ? -1 : 1));
    const idsBefore = await pointIds();
    const catalog = await listCatalog(openStore(stack.config));
    expect(catalog.map((r) => r.documentId).sort()).toEqual(docsBefore.map((d) => d.id));
    expect(catalog.every((r) => r.pipelines[stack.pipeline.version]?.state === 'indexed')).toBe(true);

    const start = await postJson<{ workflowId: string; collection: string }>(`${api.url}/v1/admin/index/rebuild`, {});
    expect(start.status).toBe(202);
    expect(start.body.collection).toBe(stack.pipeline.collection);
    let status: RebuildStatus;
    for (;;) {
      status = (await (await fetch(`${api.url}/v1/admin/index/rebuild/${start.body.collection}`)).json()) as RebuildStatus;
      if (status.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(status.status, status.failure).toBe('completed');
    const report = status.report as RebuildReport;
    console.log(
      `rebuild: ${report.documents} documents from ${report.sources} sources, ${report.after.points} points; ids identical ${report.idsIdentical}; top-10 identical ${report.top10Identical}/${report.probes}`,
    );
    expect(report.idsIdentical).toBe(true);
    expect(report.probes).toBeGreaterThan(5);
    expect(report.top10Identical).toBe(report.probes);
    expect(await pointIds()).toEqual(idsBefore);
    const docsAfter = (await documents()).map((d) => ({ id: d.documentId, acl: d.acl, chunks: d.chunks, title: d.title })).sort((a, b) => (a.id < b.id ? -1 : 1));
    expect(docsAfter).toEqual(docsBefore);
    expect(docsAfter.some((d) => d.id === gone.documentId)).toBe(false);
  });
});
