/**
 * Type detection from the bytes first, the file name second.
 *
 * Decisions worth knowing:
 * - `%PDF-` at offset 0 is a PDF. Further into the first 1024 bytes (junk before the header, which
 *   pdf.js tolerates) it counts only when the file is not clean text or ends like a PDF, so a text
 *   that merely mentions `%PDF-` stays text.
 * - A file named `.pdf` without a PDF header is CORRUPT ("not a PDF"), unless its bytes are another
 *   known format (a renamed ZIP, an image): then UNSUPPORTED_TYPE naming that format. This also catches
 *   the HTML error page saved as `report.pdf`, which would otherwise be indexed as if it were the report.
 * - Text formats need valid UTF-8 without NUL bytes; anything else is UNSUPPORTED_TYPE.
 * - `.jsonl`/`.ndjson` must be in BEIR layout (first non-empty line an object with `_id` and `text`);
 *   a file without such an extension is JSONL when its first line is.
 */
import type { DocType } from '../domain/types.js';
import { DocumentError } from '../errors.js';
import { findPdfHeader, hasPdfTrailer } from './pdf-magic.js';
import { detectUnsupportedFormat } from './signatures.js';
import { decodeUtf8Text } from './text-decode.js';
import { looksLikeBeirJsonl, looksLikeHtml, looksLikeMarkdown } from './text-kind.js';

/** The sniffed type; text formats carry the decoded text (BOM removed) so it is decoded only once. */
export type Sniffed = { type: 'pdf' } | { type: Exclude<DocType, 'pdf'>; text: string };

const EXTENSION_TYPES: Record<string, Exclude<DocType, 'pdf' | 'jsonl'>> = {
  md: 'markdown',
  markdown: 'markdown',
  mdown: 'markdown',
  mkd: 'markdown',
  mkdn: 'markdown',
  html: 'html',
  htm: 'html',
  xhtml: 'html',
  txt: 'text',
  text: 'text',
};
const JSONL_EXTENSIONS = new Set(['jsonl', 'ndjson']);

export function extensionOf(filename: string | undefined): string {
  if (!filename) return '';
  const base = filename.split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}

function unsupported(what: string): DocumentError {
  return new DocumentError('UNSUPPORTED_TYPE', `unsupported file type: ${what}`);
}

export function sniff(bytes: Uint8Array, filename?: string): Sniffed {
  if (bytes.length === 0) throw new DocumentError('EMPTY_FILE', 'file is empty (0 bytes)');
  const ext = extensionOf(filename);
  const pdfAt = findPdfHeader(bytes);
  if (pdfAt === 0) return { type: 'pdf' };

  const text = decodeUtf8Text(bytes);
  if (pdfAt > 0 && (text === undefined || hasPdfTrailer(bytes))) return { type: 'pdf' };

  const format = detectUnsupportedFormat(bytes, text !== undefined);
  if (format) throw unsupported(ext === 'pdf' ? `named .pdf but the content is ${format}` : format);
  if (ext === 'pdf') {
    const hint = text !== undefined && looksLikeHtml(text) ? ' (the content is an HTML page)' : '';
    throw new DocumentError('CORRUPT', `file is named .pdf but is not a PDF: no %PDF- header${hint}`);
  }
  if (text === undefined) throw unsupported('binary content or text that is not valid UTF-8');

  if (looksLikeHtml(text)) return { type: 'html', text };
  if (JSONL_EXTENSIONS.has(ext)) {
    if (looksLikeBeirJsonl(text)) return { type: 'jsonl', text };
    throw unsupported('JSONL that is not a BEIR corpus (the first line needs "_id" and "text")');
  }
  const byExtension = EXTENSION_TYPES[ext];
  if (byExtension) return { type: byExtension, text };
  if (looksLikeBeirJsonl(text)) return { type: 'jsonl', text };
  if (looksLikeMarkdown(text)) return { type: 'markdown', text };
  return { type: 'text', text };
}

/** The document type of `bytes`; throws DocumentError EMPTY_FILE, UNSUPPORTED_TYPE or CORRUPT (see above). */
export function sniffType(bytes: Uint8Array, filename?: string): DocType {
  return sniff(bytes, filename).type;
}
