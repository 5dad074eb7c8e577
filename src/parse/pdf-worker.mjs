/**
 * Worker thread that runs pdf.js for PdfThread (pdf-thread.ts). In Node, pdf.js parses on the thread
 * that calls it, in one long run of microtasks that starves timers, so no timeout can interrupt it
 * there; in its own thread a PDF that never finishes is stopped with terminate().
 * Plain JavaScript so the thread starts the same under node, tsx and vitest, with no TypeScript loader.
 * It replies with page texts and error names only; it never logs.
 */
import { parentPort } from 'node:worker_threads';
import { PDFParse, VerbosityLevel } from 'pdf-parse';

if (!parentPort) throw new Error('pdf-worker.mjs must run in a worker thread');
const port = parentPort;

port.on('message', (job) => {
  void extract(job).then((reply) => port.postMessage(reply));
});
port.postMessage({ type: 'ready' });

/** @param {{ id: number, data: ArrayBuffer, maxPages: number }} job */
async function extract({ id, data, maxPages }) {
  let parser;
  try {
    parser = new PDFParse({
      data: new Uint8Array(data),
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
