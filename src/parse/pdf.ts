/** PDF -> ParsedDocument: text per page (pdf.js in a capped child process), page spans, metadata title. */
import type { ParsedDocument } from '../domain/types.js';
import { DocumentError } from '../errors.js';
import type { PdfExtractor } from './pdf-extractor.js';
import { cleanPdfTitle, layoutPages, normalizePageText } from './pdf-text.js';

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
  const { text, pages } = layoutPages(raw.pages.map(normalizePageText));
  if (text === '') {
    throw new DocumentError('NO_TEXT', `PDF has no extractable text on any of its ${raw.total} pages (scanned or image-only?)`, {
      details: { pages: raw.total },
    });
  }
  return { type: 'pdf', text, title: cleanPdfTitle(raw.titles), pages, headings: [] };
}
