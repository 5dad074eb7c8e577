/**
 * Child process that runs pdf.js for PdfProcess (pdf-process.ts). A process, not a worker thread:
 * pdf.js keeps decoded streams in ArrayBuffers, which worker resourceLimits do not bound, so a
 * decompression bomb could grow the ingest process by gigabytes, and a process can be killed and
 * its memory given back whole. In Node, pdf.js parses on the thread that calls it, in one long run
 * of microtasks that starves timers, so no timer on the main thread can interrupt it.
 *
 * Two threads run here. The main one parses. The guard thread (this same file, started as a worker)
 * kills the process when its RSS goes over the cap or when the parent is gone: it still runs while
 * the main thread is starved, and an orphan must not go on parsing a hostile file with nobody to stop
 * it. The parent watches the RSS as well; the guard also covers a parent whose event loop is busy.
 *
 * Plain JavaScript so the child starts the same under node, tsx and vitest, with no TypeScript loader.
 * It replies with page texts and error names only; it never logs (the one stderr line below is read
 * by the parent).
 */
import { writeSync } from 'node:fs';
import { isMainThread, Worker, workerData } from 'node:worker_threads';

/** Prefix of the line the guard writes to stderr before it kills the process; pdf-process.ts parses it. */
const RSS_MARK = 'srag-pdf-rss-limit';
const GUARD_INTERVAL_MS = 25;

if (isMainThread) await runParser();
else runGuard(workerData);

async function runParser() {
  if (!process.send) throw new Error('pdf-worker.mjs must run as a forked child with an IPC channel');
  const send = process.send.bind(process);
  const maxBytes = Number(process.argv[2]);
  // The parent going away closes the channel; when the main thread is busy the guard sees it instead.
  process.on('disconnect', () => process.exit(0));
  const { PDFParse, VerbosityLevel } = await import('pdf-parse');
  await startGuard({ maxBytes, parentPid: process.ppid });
  process.on('message', (job) => {
    void extract(PDFParse, VerbosityLevel, job).then((reply) => {
      if (process.connected) send({ ...reply, rss: process.memoryUsage.rss() });
    });
  });
  send({ type: 'ready' });
}

function startGuard(data) {
  return new Promise((resolve, reject) => {
    const guard = new Worker(new URL(import.meta.url), { workerData: data });
    guard.once('online', resolve);
    guard.once('error', reject);
    guard.unref();
  });
}

/** @param {{ maxBytes: number, parentPid: number }} data */
function runGuard({ maxBytes, parentPid }) {
  setInterval(() => {
    const rss = process.memoryUsage.rss();
    const orphaned = process.ppid !== parentPid;
    if (!orphaned && !(maxBytes > 0 && rss > maxBytes)) return;
    if (!orphaned) writeSync(2, `\n${RSS_MARK} ${rss}\n`);
    process.kill(process.pid, 'SIGKILL');
  }, GUARD_INTERVAL_MS);
}

/** @param {{ id: number, data: Uint8Array, maxPages: number }} job */
async function extract(PDFParse, VerbosityLevel, { id, data, maxPages }) {
  let parser;
  try {
    parser = new PDFParse({
      // A plain view: pdf.js wants a Uint8Array, and the message may carry a Buffer.
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      verbosity: VerbosityLevel.ERRORS,
      // Font programs from the file are never compiled to JS functions (defence against hostile fonts).
      isEvalSupported: false,
    });
    // `partial: [0]` selects no page: it loads the document and reports the page count only.
    const probe = await parser.getText({ partial: [0] });
    if (probe.total > maxPages) return { type: 'result', id, total: probe.total, pages: null, titles: [] };
    const result = await parser.getText();
    const pages = new Array(result.total).fill('');
    for (const page of result.pages) pages[page.num - 1] = page.text;
    return { type: 'result', id, total: result.total, pages, titles: await readTitles(parser) };
  } catch (err) {
    const e = /** @type {{ name?: unknown, message?: unknown }} */ (err ?? {});
    return { type: 'failure', id, name: String(e.name ?? 'Error'), message: String(e.message ?? err) };
  } finally {
    await parser?.destroy().catch(() => undefined);
  }
}

/** Title candidates, Info dictionary first, then XMP dc:title; metadata is optional, so errors give none. */
async function readTitles(parser) {
  try {
    const info = await parser.getInfo();
    return [info.info?.Title, info.metadata?.get('dc:title')].filter((t) => typeof t === 'string');
  } catch {
    return [];
  }
}
