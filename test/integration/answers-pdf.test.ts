// Answers a new user gets on real PDFs (the real stack: Temporal dev server, workers, the ONNX model,
// hybrid retrieval, the extractive answerer): the answer leads with the passage that answers, and an
// off-topic question gets the plain "not found" answer instead of loosely related rows.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createApiClient } from '../../src/cli/api-client.js';
import { runEvalAnswers } from '../../src/cli/eval-answers.js';
import { NOT_FOUND_ANSWER } from '../../src/generate/extractive.js';
import type { Citation } from '../../src/domain/types.js';
import { postJson, startStackApi, waitForJob } from '../support/http.js';
import { EVAL_DIR, startStack, type Stack } from '../support/stack.js';

const PDFS = join(EVAL_DIR, 'pdfs', 'pdfplumber-realworld');

describe('answers on real PDFs', () => {
  let stack: Stack;
  let api: { url: string; close: () => Promise<void> };
  const ask = async (question: string) => (await postJson<{ answer: string; citations: Citation[] }>(`${api.url}/v1/query`, { question })).body;

  beforeAll(async () => {
    stack = await startStack();
    await stack.startWorkers();
    api = await startStackApi(stack);
    // The board meeting minutes among unrelated documents (layoff tables, a federal register notice, minutes in French).
    const names = ['cupertino_usd_4-6-16.pdf', 'WARN-Report-for-7-1-2015-to-03-25-2016.pdf', 'federal-register-2020-17221.pdf', '2023-06-20-PV.pdf', 'issue-33-lorem-ipsum.pdf'];
    const res = await postJson<{ jobId: string }>(`${api.url}/v1/ingest`, { sources: names.map((n) => ({ path: join(PDFS, n) })) });
    const report = await waitForJob(api.url, res.body.jobId);
    expect(report.documents.failed).toBe(0);
  }, 900_000);

  afterAll(async () => {
    await api?.close();
    await stack?.stop();
  });

  it('leads with the speaking time when asked how long each speaker may address the board', async () => {
    const { answer, citations } = await ask('How long may each speaker address the board?');
    expect(answer).not.toBe(NOT_FOUND_ANSWER);
    expect(citations[0].title.length).toBeGreaterThan(0);
    expect(citations[0].quote.replace(/\s+/g, ' ')).toMatch(/three \(3\) minutes/i);
  });

  // From test/fixtures/pdf-qa.jsonl (bench/pdf-qa.ts): the answer sits on one known page of a long PDF,
  // and the first citation must point at that page, not just at the file.
  it.each([
    ['What is the average total cost per operator of revising the minimum equipment list?', '$7,650', 'federal-register-2020-17221.pdf', 6],
    ['How many employees did Molina Hospital Management lay off in Long Beach?', '385', 'WARN-Report-for-7-1-2015-to-03-25-2016.pdf', 10],
  ])('cites the page that holds the answer: %s', async (question, answer, file, page) => {
    const { citations } = await ask(question);
    expect(citations[0]).toMatchObject({ page });
    expect(citations[0].source.endsWith(file)).toBe(true);
    expect(citations[0].quote.replace(/\s+/g, ' ')).toContain(answer);
  });

  it('says plainly that it could not find an off-topic answer', async () => {
    const { answer, citations } = await ask('What is the capital of Mongolia?');
    expect(answer).toBe(NOT_FOUND_ANSWER);
    expect(citations).toEqual([]);
  });

  it('srag eval-answers scores a QA set against the running API', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'srag-qa-')), 'qa.jsonl');
    const rows = [
      { question: 'How long may each speaker address the board?', answer: 'three (3) minutes', source: 'SPECIAL BOARD AGENDA 040616' },
      { question: 'What total time does the Board allow for public comments?', answer: '30 minutes' },
      { question: 'What is the capital of Mongolia?' },
    ];
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n'));
    const lines: string[] = [];
    expect(await runEvalAnswers(createApiClient(api.url, undefined), { file, limit: 0, k: 5, json: true }, (l) => lines.push(l))).toBe(0);
    const report = JSON.parse(lines[0]) as { containment: number; citationCorrect: number; notFound: { recall: number; precision: number }; latencyMs: { p50: number } };
    expect(report).toMatchObject({ containment: 1, citationCorrect: 1, notFound: { recall: 1, precision: 1 } });
    expect(report.latencyMs.p50).toBeGreaterThan(0);
  });
});
