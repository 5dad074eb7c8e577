/** Parsing: bytes in, ParsedDocument or BEIR records out; every bad input is a typed DocumentError. */
export { PARSER_ID, DEFAULT_PDF_TIMEOUT_MS, parseSource } from './parse-source.js';
export type { ParseLimits, ParseSourceOptions } from './parse-source.js';
export { sniffType } from './sniff.js';
export { createPdfExtractor } from './pdf-extractor.js';
export type { PdfExtractor, PdfExtractorOptions } from './pdf-extractor.js';
