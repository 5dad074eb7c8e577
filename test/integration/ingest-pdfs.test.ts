// The real stack (Temporal dev server, worker processes, ONNX model) ingests every PDF of the eval
// folder through POST /v1/ingest: readable ones are indexed, bad ones fail alone with clear codes.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobProgress } from '../../src/domain/ingest.js';
import { PROJECT_ROOT } from '../../src/config.js';
import type { Citation } from '../../src/domain/types.js';
import { parseSource } from '../../src/parse/index.js';
import { openIndex } from '../../src/runtime.js';
import { readFileSync } from 'node:fs';
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

  it.each([
    ['How many firearm background checks were run for handguns?', 'nics-background-checks'],
    ['What did the Federal Register notice announce?', 'federal-register-2020-17221'],
  ])('answers "%s" with citations whose page and quote match the PDF text', async (question, expectedSource) => {
    const res = await postJson<{ answer: string; citations: Citation[]; mode: string }>(`${api.url}/v1/query`, { question, k: 8 });
    expect(res.status).toBe(200);
    expect(res.body.citations.length).toBeGreaterThan(0);
    expect(res.body.citations.some((c) => c.source.includes(expectedSource))).toBe(true);
    const markers = [...res.body.answer.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]));
    expect(markers.length).toBeGreaterThan(0);
    for (const n of markers) expect(res.body.citations.some((c) => c.n === n)).toBe(true);
    for (const c of res.body.citations) {
      // Re-extract the cited PDF and check the quote sits verbatim at its offsets, inside its page.
      const parsed = await parseSource(readFileSync(c.source), { filename: c.source, limits: { maxFileBytes: 1 << 30, maxPages: 10_000 } });
      if (parsed.kind !== 'document') throw new Error('expected a document');
      const { text, pages } = parsed.document;
      expect(text.slice(c.start, c.end)).toBe(c.quote);
      const page = pages[c.page! - 1];
      expect(page.page).toBe(c.page);
      expect(c.start).toBeGreaterThanOrEqual(page.start);
      expect(c.end).toBeLessThanOrEqual(page.end);
    }
  });

  it('lists documents and deletes one through a verified workflow', async () => {
    const list = (await (await fetch(`${api.url}/v1/documents`)).json()) as { documents: { documentId: string; source: string; chunks: number; pages?: number }[] };
    expect(list.documents.length).toBe(report.documents.done);
    expect(list.documents.reduce((n, d) => n + d.chunks, 0)).toBe(report.chunks);
    const target = list.documents.find((d) => d.source.endsWith('scotus-transcript-p1.pdf'))!;
    expect(target.pages).toBe(1);

    const del = await fetch(`${api.url}/v1/documents/${target.documentId}`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    const result = (await del.json()) as { verified: boolean; pointsRemoved: number; sourcesRemoved: number };
    expect(result).toMatchObject({ verified: true, pointsRemoved: target.chunks, sourcesRemoved: 1 });
    expect((await fetch(`${api.url}/v1/documents/${target.documentId}`)).status).toBe(404);
    const hits = await postJson<{ hits: { documentId: string }[] }>(`${api.url}/v1/search`, { query: 'Supreme Court oral argument transcript', k: 20 });
    expect(hits.body.hits.some((h) => h.documentId === target.documentId)).toBe(false);
  });

  it('accepts a multipart upload and indexes it', async () => {
    const form = new FormData();
    const text = '# Travel policy\n\nEmployees book economy class for flights under six hours.\n';
    form.append('files', new Blob([text], { type: 'text/markdown' }), 'travel-policy.md');
    const res = await fetch(`${api.url}/v1/ingest`, { method: 'POST', body: form });
    expect(res.status).toBe(202);
    const { jobId } = (await res.json()) as { jobId: string };
    const done = await waitForJob(api.url, jobId);
    expect(done).toMatchObject({ status: 'completed', documents: { total: 1, done: 1, failed: 0 } });
    const hits = await postJson<{ hits: { title: string; text: string }[] }>(`${api.url}/v1/search`, { query: 'travel policy: which class do employees book for flights?', k: 3 });
    expect(hits.body.hits.some((h) => h.text.includes('economy class'))).toBe(true);
  });

  // Async: the API answering the CLI runs in this process, so a blocking spawn would deadlock.
  const srag = (args: string[], port: string) =>
    new Promise<{ status: number | null; stdout: string }>((resolveRun) => {
      execFile(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/cli/main.ts'), ...args], { env: { ...process.env, SRAG_PORT: port }, timeout: 120_000 }, (err, stdout) =>
        resolveRun({ status: err ? ((err as { code?: number }).code ?? null) : 0, stdout }),
      );
    });

  it('`srag ingest` prints a summary and exits 1 when a document failed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'srag-cli-'));
    writeFileSync(join(dir, 'notes.md'), '# Notes\n\nThe quarterly review is on Thursday.\n');
    writeFileSync(join(dir, 'broken.pdf'), '');
    const port = new URL(api.url).port;
    const run = await srag(['ingest', dir], port);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/documents: 1 indexed, 0 unchanged, 1 failed, 2 total/);
    expect(run.stdout).toMatch(/errors by code: EMPTY_FILE 1/);
    expect(run.stdout).toMatch(/broken\.pdf: EMPTY_FILE/);
    const json = await srag(['jobs', '--json'], port);
    expect(json.status).toBe(0);
    expect((JSON.parse(json.stdout) as { jobs: unknown[] }).jobs.length).toBeGreaterThanOrEqual(2);
  }, 180_000);
});
