/**
 * Opens a citation's source beside the answer. PDFs: the cited page rendered with pdf.js (served from
 * this server), the span marked in the text layer from the citation's offsets via page-text.js (no
 * text search). Other types: the parsed text with the span marked. Either way the marked words are
 * the ones the citation's offsets name.
 */
import { getBytes, getJson } from './api.js';
import { itemRanges, locateCitation, trackedPageText } from './page-text.js';

const PDFJS = '/assets/pdfjs/build';
/** @type {Promise<any> | undefined} */
let pdfjsLoaded;
const loadPdfjs = () =>
  (pdfjsLoaded ??= import(`${PDFJS}/pdf.min.mjs`).then((pdfjs) => {
    pdfjs.GlobalWorkerOptions.workerSrc = `${PDFJS}/pdf.worker.min.mjs`;
    return pdfjs;
  }));

/** Per document: its parsed text and pages, and the PDF once loaded (a second citation reuses them). */
const contentCache = new Map();
const pdfCache = new Map();

function content(/** @type {string} */ documentId) {
  if (!contentCache.has(documentId)) {
    const p = getJson(`/v1/documents/${encodeURIComponent(documentId)}/content`);
    p.catch(() => contentCache.delete(documentId));
    contentCache.set(documentId, p);
  }
  return contentCache.get(documentId);
}

function pdfDocument(/** @type {string} */ documentId) {
  if (!pdfCache.has(documentId)) {
    const p = Promise.all([loadPdfjs(), getBytes(`/v1/documents/${encodeURIComponent(documentId)}/source`)]).then(
      ([pdfjs, data]) =>
        pdfjs.getDocument({
          data,
          // As srag's extractor loads it: font programs are never compiled to functions (and the CSP forbids eval).
          isEvalSupported: false,
          cMapUrl: '/assets/pdfjs/cmaps/',
          cMapPacked: true,
          standardFontDataUrl: '/assets/pdfjs/standard_fonts/',
          // WebAssembly would need 'wasm-unsafe-eval' in the CSP; pdf.js's JavaScript decoders do without.
          useWasm: false,
          iccUrl: '/assets/pdfjs/iccs/',
        }).promise,
    );
    p.catch(() => pdfCache.delete(documentId));
    pdfCache.set(documentId, p);
  }
  return pdfCache.get(documentId);
}

export function forgetDocuments() {
  contentCache.clear();
  for (const p of pdfCache.values()) p.then((d) => d.destroy()).catch(() => {});
  pdfCache.clear();
}

/** Marks characters [from, to) of a text layer span, keeping its text (pdf.js measured it whole). */
function markInSpan(/** @type {HTMLElement} */ span, /** @type {number} */ item, /** @type {number} */ from, /** @type {number} */ to) {
  const text = span.textContent ?? '';
  // Which text item it is: lets a check compare the marks with the offsets, not with the words.
  span.dataset.item = String(item);
  const mark = document.createElement('mark');
  mark.className = 'highlight';
  mark.textContent = text.slice(from, to);
  span.replaceChildren(document.createTextNode(text.slice(0, from)), mark, document.createTextNode(text.slice(to)));
  return mark;
}

/**
 * @param {HTMLElement} body where the source goes
 * @param {{ documentId: string, page?: number, start: number, end: number }} citation
 * @param {(text: string) => void} status
 * @returns {Promise<HTMLElement[]>} the marks, first one scrolled into view
 */
export async function showCitation(body, citation, status) {
  const doc = await content(citation.documentId);
  if (doc.type === 'pdf') return showPdfPage(body, doc, citation, status);
  return showText(body, doc, citation);
}

function showText(/** @type {HTMLElement} */ body, /** @type {{ text: string, type: string }} */ doc, /** @type {{ start: number, end: number }} */ c) {
  const pre = document.createElement('pre');
  pre.className = 'source-text';
  pre.tabIndex = 0;
  pre.setAttribute('aria-label', 'Document text');
  const mark = document.createElement('mark');
  mark.className = 'highlight';
  mark.textContent = doc.text.slice(c.start, c.end);
  pre.append(doc.text.slice(0, c.start), mark, doc.text.slice(c.end));
  body.replaceChildren(pre);
  mark.scrollIntoView({ block: 'center' });
  body.dataset.state = 'ready';
  return [mark];
}

async function showPdfPage(
  /** @type {HTMLElement} */ body,
  /** @type {{ text: string, pages: Array<{ page: number, start: number, end: number }> }} */ doc,
  /** @type {{ documentId: string, page?: number, start: number, end: number }} */ c,
  /** @type {(text: string) => void} */ status,
) {
  const [pdfjs, pdf] = await Promise.all([loadPdfjs(), pdfDocument(c.documentId)]);
  const at = locateCitation(doc.pages, c.start, c.end, c.page);
  const page = await pdf.getPage(at.page);
  // Fit the panel's width; draw at device resolution so small print stays legible.
  const base = page.getViewport({ scale: 1 });
  const scale = Math.max(0.5, Math.min(2, (body.clientWidth || 600) / base.width));
  const viewport = page.getViewport({ scale });
  const ratio = window.devicePixelRatio || 1;

  const wrap = document.createElement('div');
  wrap.className = 'pdf-page';
  wrap.dataset.page = String(at.page);
  wrap.style.setProperty('--scale-factor', String(scale));
  wrap.style.setProperty('--total-scale-factor', String(scale));
  wrap.style.setProperty('--scale-round-x', '1px');
  wrap.style.setProperty('--scale-round-y', '1px');
  wrap.style.width = `${Math.floor(viewport.width)}px`;
  wrap.style.height = `${Math.floor(viewport.height)}px`;
  const canvas = document.createElement('canvas');
  canvas.width = Math.floor(viewport.width * ratio);
  canvas.height = Math.floor(viewport.height * ratio);
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `Page ${at.page} of ${pdf.numPages}`);
  const layer = document.createElement('div');
  layer.className = 'textLayer';
  wrap.append(canvas, layer);
  body.replaceChildren(wrap);

  await page.render({ canvasContext: canvas.getContext('2d'), canvas, viewport, transform: ratio === 1 ? null : [ratio, 0, 0, ratio, 0, 0] }).promise;
  // The same call, with the same options, as srag's extractor: the items it built the indexed text from.
  const textContent = await page.getTextContent();
  const textLayer = new pdfjs.TextLayer({ textContentSource: textContent, container: layer, viewport });
  await textLayer.render();

  const unit = page.getViewport({ scale: 1 });
  const items = textContent.items
    .filter((/** @type {any} */ it) => 'str' in it)
    .map((/** @type {any} */ it) => {
      const [x, y] = unit.convertToViewportPoint(it.transform[4], it.transform[5]);
      return { str: it.str, hasEOL: it.hasEOL, width: it.width, height: it.height, x, y };
    });
  const tracked = trackedPageText(items);
  // A cross-check, not the source of the marks: the rebuilt page should be the text srag indexed.
  const span = doc.pages.find((p) => p.page === at.page);
  const indexed = span ? doc.text.slice(span.start, span.end).replace(/\n\n$/, '') : '';
  wrap.dataset.consistent = String(tracked.text === indexed);
  if (tracked.text !== indexed) status('This page reads differently now than when it was indexed: the marked words may be off.');

  const marks = [];
  for (const r of itemRanges(tracked, at.start, at.end)) {
    const div = textLayer.textDivs[r.item];
    if (div) marks.push(markInSpan(div, r.item, r.from, r.to));
  }
  if (at.end > tracked.text.length) status(`The quote continues on page ${at.page + 1}.`);
  marks[0]?.scrollIntoView({ block: 'center' });
  body.dataset.state = 'ready';
  return marks;
}
