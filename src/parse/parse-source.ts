/** parseSource: bytes -> sniffed type -> the matching parser, with size, page and time limits. */
import type { ParsedDocument, ParseResult } from '../domain/types.js';
import { DocumentError } from '../errors.js';
import { parseHtml } from './html.js';
import { parseJsonl } from './jsonl.js';
import { parseMarkdown } from './markdown.js';
import { parsePdf } from './pdf.js';
import { createPdfExtractor, type PdfExtractor } from './pdf-extractor.js';
import { sniff } from './sniff.js';
import { normalizeNewlines } from './text-decode.js';

export interface ParseLimits {
  maxFileBytes: number;
  maxPages: number;
}

export interface ParseSourceOptions {
  filename?: string;
  limits: ParseLimits;
  /** Wall-clock limit for one PDF; default 60 s. Other formats parse in linear time. */
  timeoutMs?: number;
  /**
   * Reusable PDF parser processes (see createPdfExtractor). Without one, each PDF starts and stops its
   * own process, which costs a few hundred ms.
   */
  pdfExtractor?: PdfExtractor;
  /** Told how long each parse took, by detected type and outcome (metrics). */
  observe?: (type: string, seconds: number, ok: boolean) => void;
}

export const DEFAULT_PDF_TIMEOUT_MS = 60_000;

/** Bumped whenever parser output can change for the same bytes: it is part of the pipeline version. */
export const PARSER_ID = 'srag-parse/2';

function requireText(doc: ParsedDocument): ParsedDocument {
  if (doc.text.trim() === '') throw new DocumentError('NO_TEXT', `${doc.type} document has no text (empty or whitespace only)`);
  return doc;
}

async function withPdfExtractor<T>(given: PdfExtractor | undefined, fn: (e: PdfExtractor) => Promise<T>): Promise<T> {
  if (given) return fn(given);
  const own = createPdfExtractor();
  try {
    return await fn(own);
  } finally {
    await own.close();
  }
}

export async function parseSource(bytes: Uint8Array, opts: ParseSourceOptions): Promise<ParseResult> {
  const { limits } = opts;
  if (bytes.length > limits.maxFileBytes) {
    throw new DocumentError('FILE_TOO_LARGE', `file is ${bytes.length} bytes; the limit is ${limits.maxFileBytes}`, {
      details: { bytes: bytes.length, maxFileBytes: limits.maxFileBytes },
    });
  }
  const sniffed = sniff(bytes, opts.filename);
  if (!opts.observe) return parseSniffed(bytes, sniffed, opts);
  const started = performance.now();
  let ok = false;
  try {
    const result = await parseSniffed(bytes, sniffed, opts);
    ok = true;
    return result;
  } finally {
    opts.observe(sniffed.type, (performance.now() - started) / 1000, ok);
  }
}

async function parseSniffed(bytes: Uint8Array, sniffed: ReturnType<typeof sniff>, opts: ParseSourceOptions): Promise<ParseResult> {
  const { limits } = opts;
  switch (sniffed.type) {
    case 'pdf': {
      const timeoutMs = opts.timeoutMs ?? DEFAULT_PDF_TIMEOUT_MS;
      const document = await withPdfExtractor(opts.pdfExtractor, (extractor) =>
        parsePdf(bytes, { maxPages: limits.maxPages, timeoutMs, extractor }),
      );
      return { kind: 'document', document };
    }
    case 'jsonl':
      return parseJsonl(sniffed.text);
    case 'markdown':
      return { kind: 'document', document: requireText(parseMarkdown(normalizeNewlines(sniffed.text))) };
    case 'html':
      return { kind: 'document', document: requireText(parseHtml(sniffed.text)) };
    case 'text':
      return { kind: 'document', document: requireText({ type: 'text', text: normalizeNewlines(sniffed.text), pages: [], headings: [] }) };
  }
}
