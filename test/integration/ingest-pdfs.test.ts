// The real stack (Temporal dev server, worker processes, ONNX model) ingests every PDF of the eval
// folder through POST /v1/ingest: readable ones are indexed, bad ones fail alone with clear codes.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobProgress } from '../../src/domain/ingest.js';
import { openIndex } from '../../src/runtime.js';
import { postJson, startStackApi, waitForJob } from '../support/http.js';
import { EVAL_DIR, startStack, type Stack } from '../support/stack.js';

function pdfsUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return pdfsUnder(p);
    return name.endsWith('.pdf') ? [p] : [];
  });
}

const EXPECTED_FAILURES: Record<string, string> = {
  'empty.pdf': 'EMPTY_FILE',
  'password-example.pdf': 'ENCRYPTED',
  'libreoffice-writer-password.pdf': 'ENCRYPTED',
  'unreadablemetadata.pdf': 'CORRUPT',
  'issue-297-example.pdf': 'NO_TEXT',
  'imagemagick-images.pdf': 'NO_TEXT',
  'grayscale-image.pdf': 'NO_TEXT',
};

describe('ingesting the eval PDFs through the API', () => {
  let stack: Stack;
  let api: { url: string; close: () => Promise<void> };
  let report: JobProgress;
  const pdfs = pdfsUnder(join(EVAL_DIR, 'pdfs'));

  beforeAll(async () => {
    stack = await startStack();
    await stack.startWorkers();
    api = await startStackApi(stack);
    const res = await postJson<{ jobId: string }>(`${api.url}/v1/ingest`, { sources: pdfs.map((path) => ({ path })) });
    expect(res.status).toBe(202);
    report = await waitForJob(api.url, res.body.jobId);
  }, 900_000);

  afterAll(async () => {
    await api?.close();
    await stack?.stop();
  });

  it('completes the job and accounts for every PDF', () => {
    expect(pdfs.length).toBeGreaterThan(70);
    expect(report.status).toBe('completed');
    expect(report.documents.total).toBe(pdfs.length);
    expect(report.documents.done + report.documents.failed).toBe(pdfs.length);
  });

  it('reports each bad file alone with a clear code', () => {
    const byFile = new Map(report.errors.map((e) => [e.source.split('/').pop()!, e.code]));
    for (const [file, code] of Object.entries(EXPECTED_FAILURES)) expect(byFile.get(file), file).toBe(code);
    for (const e of report.errors) {
      expect(['EMPTY_FILE', 'ENCRYPTED', 'CORRUPT', 'NO_TEXT']).toContain(e.code);
      expect(e.message.length).toBeGreaterThan(5);
    }
    // Failures are the bad files only: everything readable was indexed.
    expect(report.documents.failed).toBe(report.errors.length);
    expect(report.documents.done).toBe(pdfs.length - report.errors.length);
  });

  it('indexes exactly the chunks the job reports, with pages and verbatim spans', async () => {
    const index = await openIndex(stack.config, { readOnly: true, logger: stack.logger });
    try {
      expect(await index.count(stack.pipeline.collection)).toBe(report.chunks);
      let checked = 0;
      await index.scroll(stack.pipeline.collection, undefined, (_id, p) => {
        if (p.type !== 'pdf') return;
        expect(p.page).toBeGreaterThanOrEqual(1);
        expect(p.end - p.start).toBe(p.text.length);
        checked++;
      });
      expect(checked).toBe(report.chunks);
    } finally {
      await index.close();
    }
  });

  it('finds a passage by meaning through POST /v1/search', async () => {
    const res = await postJson<{ hits: { title: string; source: string; page?: number; text: string }[] }>(`${api.url}/v1/search`, {
      query: 'firearm background checks by state',
      k: 5,
    });
    expect(res.status).toBe(200);
    expect(res.body.hits.length).toBe(5);
    expect(res.body.hits.slice(0, 3).some((h) => h.source.includes('nics-background-checks'))).toBe(true);
  });
});
