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
 * It replies with page texts, annotation data and error names only; it never logs (the one stderr
 * line below is read by the parent).
 *
 * Arguments: the RSS cap in bytes, then pdf.js's CMap and standard-font directories (pdfjs-data.ts),
 * both empty to run without them.
 */
import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { isMainThread, Worker, workerData } from 'node:worker_threads';

/** Prefix of the line the guard writes to stderr before it kills the process; pdf-process.ts parses it. */
const RSS_MARK = 'srag-pdf-rss-limit';
const GUARD_INTERVAL_MS = 25;
/** Annotations read per page, and characters kept of each string: bounds the reply a hostile file can force. */
const MAX_ANNOTATIONS_PER_PAGE = 256;
const MAX_ANNOTATION_STRING = 4000;

if (isMainThread) await runParser();
else runGuard(workerData);

async function runParser() {
  if (!process.send) throw new Error('pdf-worker.mjs must run as a forked child with an IPC channel');
  const send = process.send.bind(process);
  const maxBytes = Number(process.argv[2]);
  const fontData = fontDataOptions(process.argv[3], process.argv[4]);
  // The parent going away closes the channel; when the main thread is busy the guard sees it instead.
  process.on('disconnect', () => process.exit(0));
  const { PDFParse, VerbosityLevel } = await import('pdf-parse');
  const { AnnotationType } = await importPdfjsOfPdfParse();
  await startGuard({ maxBytes, parentPid: process.ppid });
  process.on('message', (job) => {
    void extract({ PDFParse, VerbosityLevel, AnnotationType }, fontData, job).then((reply) => {
      if (process.connected) send({ ...reply, rss: process.memoryUsage.rss() });
    });
  });
  send({ type: 'ready' });
}

/** The pdf.js module pdf-parse itself imports (same file, so the same instance and enums). */
function importPdfjsOfPdfParse() {
  const pdfParse = createRequire(import.meta.url).resolve('pdf-parse');
  return import(pathToFileURL(createRequire(pdfParse).resolve('pdfjs-dist/legacy/build/pdf.mjs')).href);
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

/**
 * getDocument parameters for pdf.js's own data. In Node, pdf.js reads these "URLs" with fs.readFile,
 * so plain directory paths (ending in '/') keep every read local.
 */
function fontDataOptions(cMapDir, standardFontDir) {
  if (!cMapDir || !standardFontDir) return {};
  return { cMapUrl: cMapDir, cMapPacked: true, standardFontDataUrl: standardFontDir };
}

/** @param {{ id: number, data: Uint8Array, maxPages: number }} job */
async function extract({ PDFParse, VerbosityLevel, AnnotationType }, fontData, { id, data, maxPages }) {
  let parser;
  try {
    parser = new PDFParse({
      // A plain view: pdf.js wants a Uint8Array, and the message may carry a Buffer.
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      verbosity: VerbosityLevel.ERRORS,
      // Font programs from the file are never compiled to JS functions (defence against hostile fonts).
      isEvalSupported: false,
      ...fontData,
    });
    // `partial: [0]` selects no page: it loads the document and reports the page count only.
    const probe = await parser.getText({ partial: [0] });
    if (probe.total > maxPages) return { type: 'result', id, total: probe.total, pages: null, annotations: null, titles: [] };
    const result = await parser.getText();
    const pages = new Array(result.total).fill('');
    for (const page of result.pages) pages[page.num - 1] = page.text;
    const annotations = await readAnnotations(parser.doc, result.total, AnnotationType);
    return { type: 'result', id, total: result.total, pages, annotations, titles: await readTitles(parser) };
  } catch (err) {
    const e = /** @type {{ name?: unknown, message?: unknown }} */ (err ?? {});
    return { type: 'failure', id, name: String(e.name ?? 'Error'), message: String(e.message ?? err) };
  } finally {
    await parser?.destroy().catch(() => undefined);
  }
}

/**
 * Per page, the fields of each annotation that pdf-annotations.ts turns into text. One
 * getAnnotationsByType call for the whole document, not page.getAnnotations per page: the latter
 * extracts the page's text a second time to find what each link covers, which doubled the parse time
 * of documents with links on every page. Links and popups (which repeat their parent) are not asked for.
 */
async function readAnnotations(doc, total, AnnotationType) {
  const out = Array.from({ length: total }, () => []);
  const types = new Set(Object.entries(AnnotationType).filter(([name]) => name !== 'LINK' && name !== 'POPUP').map(([, code]) => code));
  // A damaged annotation costs the document its notes, never the text already read.
  const items = await doc.getAnnotationsByType(types).catch(() => []);
  for (const a of items ?? []) {
    const page = out[a?.pageIndex];
    if (page && page.length < MAX_ANNOTATIONS_PER_PAGE) page.push(projectAnnotation(a));
  }
  return out;
}

function clip(v) {
  if (typeof v === 'string') return v.slice(0, MAX_ANNOTATION_STRING);
  if (Array.isArray(v)) return v.slice(0, MAX_ANNOTATIONS_PER_PAGE).map(clip);
  return undefined;
}

function projectAnnotation(a) {
  return {
    subtype: String(a.subtype ?? ''),
    flags: Number.isInteger(a.annotationFlags) ? a.annotationFlags : 0,
    contents: clip(a.contentsObj?.str),
    appearanceText: a.subtype === 'FreeText' ? clip(a.textContent) : undefined,
    fieldType: typeof a.fieldType === 'string' ? a.fieldType : undefined,
    fieldValue: clip(a.fieldValue),
    password: a.password === true,
    options: Array.isArray(a.options)
      ? a.options.slice(0, MAX_ANNOTATIONS_PER_PAGE).map((o) => ({ exportValue: clip(o?.exportValue), displayValue: clip(o?.displayValue) }))
      : undefined,
  };
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
