import type { ChunkPayload } from '../domain/types.js';
import type { VectorIndex } from '../index/port.js';
import { viewerFilter, type Viewer } from './search.js';

export interface DocumentSummary {
  documentId: string;
  title: string;
  source: string;
  type: ChunkPayload['type'];
  contentHash: string;
  chunks: number;
  pages?: number;
  acl: string[];
  externalId?: string;
  owner?: string;
}

/** The document catalog is derived from the index itself: every indexed document, grouped from its chunks. */
export async function listDocuments(index: VectorIndex, collection: string, viewer: Viewer, documentId?: string): Promise<DocumentSummary[]> {
  const docs = new Map<string, DocumentSummary>();
  const filter = { ...viewerFilter(viewer), ...(documentId ? { documentId } : {}) };
  await index.scroll(collection, filter, (_id, p) => {
    let d = docs.get(p.documentId);
    if (!d) {
      d = { documentId: p.documentId, title: p.title, source: p.source, type: p.type, contentHash: p.contentHash, chunks: 0, acl: p.acl, externalId: p.externalId, owner: p.owner };
      docs.set(p.documentId, d);
    }
    d.chunks += 1;
    if (p.page !== undefined) d.pages = Math.max(d.pages ?? 0, p.page);
  });
  return [...docs.values()].sort((a, b) => (a.title < b.title ? -1 : a.title > b.title ? 1 : a.documentId < b.documentId ? -1 : 1));
}
