import { Router, type Response } from 'express';
import type { DocType, ParsedDocument, ParseResult } from '../domain/types.js';
import { AppError } from '../errors.js';
import { recordDocument } from '../ingest/prepare.js';
import { readCatalogRecord, type CatalogRecord } from '../store/catalog.js';
import type { BlobStore } from '../store/port.js';
import { auditNote } from './gateway/audit-trail.js';
import { requireScope } from './gateway/authenticate.js';
import type { DocumentSummary } from '../query/documents.js';

export interface DocumentSourceDeps {
  store: BlobStore;
  /** The document as the caller may see it, or NOT_FOUND (the same ACL check as GET /documents/:id). */
  findReadable: (res: Response, documentId: string) => Promise<DocumentSummary>;
  /** The ingest parser: citation offsets point into its output, so the text is parsed again, not approximated. */
  parse: (bytes: Uint8Array, filename: string) => Promise<ParseResult>;
}

const CONTENT_TYPES: Record<DocType, string> = {
  pdf: 'application/pdf',
  markdown: 'text/markdown; charset=utf-8',
  html: 'text/html; charset=utf-8',
  text: 'text/plain; charset=utf-8',
  jsonl: 'application/jsonl; charset=utf-8',
};

/** RFC 6266 / 5987: the name survives any character set, and no quote or newline reaches the header. */
function inlineDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `inline; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** The text and page spans that this document's citation offsets index into. */
async function parsedText(deps: DocumentSourceDeps, record: CatalogRecord): Promise<ParsedDocument> {
  const bytes = await deps.store.get(deps.store.contentKey(record.sourceHash));
  const parsed = await deps.parse(bytes, record.sourceName);
  if (parsed.kind === 'document') return parsed.document;
  const entry = parsed.records.find((r) => r.externalId === record.externalId);
  if (!entry) throw new AppError('NOT_FOUND', `record ${record.externalId ?? '?'} is no longer in its corpus file`);
  return recordDocument(entry.title, entry.text);
}

/**
 * GET /documents/:id/content (the parsed text and page spans citations point into) and
 * GET /documents/:id/source (the original bytes), for the answer page's "verify this citation".
 * Both answer only callers who may read the document; anyone else gets the 404 of a missing one.
 */
export function createDocumentSourceRouter(deps: DocumentSourceDeps): Router {
  const router = Router();
  const readable = async (res: Response, documentId: string): Promise<CatalogRecord> => {
    const doc = await deps.findReadable(res, documentId);
    auditNote(res).documentIds = [doc.documentId];
    const record = await readCatalogRecord(deps.store, doc.documentId);
    if (!record) throw new AppError('NOT_FOUND', `no document ${documentId}`);
    // The index holds the redacted text only; the original would hand out what redaction removed.
    if (record.pii === 'redact') {
      auditNote(res).outcome = 'denied';
      throw new AppError('FORBIDDEN', 'this document was indexed with PII redaction: its original is not served');
    }
    return record;
  };

  router.get('/documents/:documentId/content', requireScope('query'), async (req, res) => {
    const record = await readable(res, String(req.params.documentId));
    const doc = await parsedText(deps, record);
    res.json({ documentId: record.documentId, title: record.title, type: doc.type, text: doc.text, pages: doc.pages });
  });

  router.get('/documents/:documentId/source', requireScope('query'), async (req, res) => {
    const record = await readable(res, String(req.params.documentId));
    // A corpus record shares its file with every other record, some of which this caller may not read.
    if (record.externalId !== undefined) throw new AppError('FORBIDDEN', 'a corpus record has no source file of its own; its text is at /content');
    const bytes = await deps.store.get(deps.store.contentKey(record.sourceHash));
    res.set({
      'Content-Type': CONTENT_TYPES[record.type] ?? 'application/octet-stream',
      'Content-Disposition': inlineDisposition(record.sourceName),
      'X-Content-Type-Options': 'nosniff',
      // Opened directly, an uploaded HTML page must not run as this origin (where tokens live).
      'Content-Security-Policy': "default-src 'none'; sandbox",
    });
    res.send(bytes);
  });
  return router;
}
