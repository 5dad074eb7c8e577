/** PDF -> ParsedDocument: text per page (pdf.js in a capped child process), page spans, metadata title. */
import type { ParsedDocument } from '../domain/types.js';
import { DocumentError } from '../errors.js';
import type { PdfExtractor } from './pdf-extractor.js';
import { cleanPdfTitle, layoutPages, normalizePageText, titleFitsText } from './pdf-text.js';

/** Pages a metadata title is checked against: a cover page, and the page after it for a title page. */
const TITLE_PAGES = 2;

export interface PdfParseOptions {
  maxPages: number;
  timeoutMs: number;
  extractor: PdfExtractor;
}

export async function parsePdf(bytes: Uint8Array, opts: PdfParseOptions): Promise<ParsedDocument> {
  const raw = await opts.extractor.extract(bytes, { maxPages: opts.maxPages, timeoutMs: opts.timeoutMs });
  if (raw.pages === null) {
    throw new DocumentError('TOO_MANY_PAGES', `PDF has ${raw.total} pages; the limit is ${opts.maxPages}`, {
      details: { pages: raw.total, maxPages: opts.maxPages },
    });
  }
  const pageTexts = raw.pages.map(normalizePageText);
  const { text, pages } = layoutPages(pageTexts);
  if (text === '') {
    throw new DocumentError('NO_TEXT', `PDF has no extractable text on any of its ${raw.total} pages (scanned or image-only?)`, {
      details: { pages: raw.total },
    });
  }
  const title = cleanPdfTitle(raw.titles);
  const fits = title !== undefined && titleFitsText(title, pageTexts.slice(0, TITLE_PAGES).join('\n'));
  return { type: 'pdf', text, title: fits ? title : undefined, pages, headings: [] };
}
