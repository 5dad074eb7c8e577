// Ingestion benchmark on SciFact (not a test). Prints, in one run:
//   1. raw embedder throughput over the corpus's chunks (chunks/s), in this process;
//   2. end-to-end throughput of the same corpus through the workflows (dev server + worker processes);
//   3. their ratio (1.0 = orchestration costs nothing), and the workers' peak resident memory.
// Usage: npx tsx bench/ingest.ts [--docs N]   (default: the whole corpus)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chunkDocument } from '../src/domain/chunker.js';
import type { JobProgress } from '../src/domain/ingest.js';
import { PIECE_CHUNKS } from '../src/ingest/embed-batch.js';
import { parseSource } from '../src/parse/index.js';
import { openStore, openTokenCounter } from '../src/runtime.js';
import { createJobService } from '../src/temporal/jobs.js';
import { EVAL_DIR, startStack } from '../test/support/stack.js';

const docsArg = process.argv.indexOf('--docs');
const maxDocs = docsArg > 0 ? Number(process.argv[docsArg + 1]) : 0;

function peakRssMb(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return kb / 1024;
  } catch {
    return NaN;
  }
}

const work = mkdtempSync(join(tmpdir(), 'srag-bench-'));
const lines = readFileSync(join(EVAL_DIR, 'scifact', 'corpus.jsonl'), 'utf8').split('\n').filter(Boolean);
const corpus = join(work, 'corpus.jsonl');
writeFileSync(corpus, (maxDocs > 0 ? lines.slice(0, maxDocs) : lines).join('\n') + '\n');

const stack = await startStack();
try {
  const { pipeline, embedder } = stack;
  // 1. Raw embedder: the same chunk texts, the same piece size as the embed activity.
  const parsed = await parseSource(readFileSync(corpus), { filename: 'corpus.jsonl', limits: { maxFileBytes: 1 << 30, maxPages: 1 } });
  if (parsed.kind !== 'records') throw new Error('expected a JSONL corpus');
  const counter = await openTokenCounter(stack.config);
  const texts = parsed.records.flatMap((r) => {
    const text = r.title ? `${r.title}\n\n${r.text}` : r.text;
    const headings = r.title ? [{ start: 0, end: r.title.length, level: 1, text: r.title }] : [];
    return chunkDocument({ type: 'jsonl', text, pages: [], headings }, pipeline.chunk, counter).map((c) => c.text);
  });
  // Measured before and after the workflow run, so that load from anything else on the machine
  // affects baseline and workflow run alike; the ratio uses their mean.
  const rawRun = async (label: string): Promise<number> => {
    const t0 = performance.now();
    for (let i = 0; i < texts.length; i += PIECE_CHUNKS) await embedder.embedDocuments(texts.slice(i, i + PIECE_CHUNKS));
    const seconds = (performance.now() - t0) / 1000;
    console.log(`raw embedder (${label}): ${texts.length} chunks in ${seconds.toFixed(1)} s = ${(texts.length / seconds).toFixed(1)} chunks/s`);
    return texts.length / seconds;
  };
  const rawBefore = await rawRun('before');

  // 2. End to end through the workflows, with the worker processes of `srag up`.
  const workers = await stack.startWorkers();
  const jobs = createJobService({
    client: stack.client,
    store: openStore(stack.config),
    taskQueue: stack.config.temporal.taskQueue,
    embedTaskQueue: stack.config.temporal.embedTaskQueue,
    pipeline,
    concurrency: stack.config.ingest.concurrency,
  });
  const t1 = performance.now();
  const { jobId } = await jobs.submit([{ kind: 'path', path: corpus }], []);
  let report: JobProgress;
  for (;;) {
    report = await jobs.get(jobId);
    if (report.status !== 'running') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const e2eSeconds = (performance.now() - t1) / 1000;
  const e2e = report.chunks / e2eSeconds;
  const peaks = workers.map((w) => `${w.kind} ${peakRssMb(w.pid).toFixed(0)} MB`).join(', ');
  console.log(`end to end:       ${report.documents.done} documents, ${report.chunks} chunks in ${e2eSeconds.toFixed(1)} s = ${e2e.toFixed(1)} chunks/s (${report.status})`);
  await Promise.all(workers.map((w) => w.stop()));
  const raw = (rawBefore + (await rawRun('after'))) / 2;
  console.log(`ratio e2e / raw:  ${(e2e / raw).toFixed(3)}   (mean raw ${raw.toFixed(1)} chunks/s; target >= 0.8)`);
  console.log(`worker peak RSS:  ${peaks}`);
  if (report.chunks !== texts.length) console.log(`note: the job indexed ${report.chunks} chunks, the raw run embedded ${texts.length}`);
} finally {
  await stack.stop();
  rmSync(work, { recursive: true, force: true });
}
