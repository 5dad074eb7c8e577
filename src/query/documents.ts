import type { ChunkPayload } from '../domain/types.js';
import { listCatalog, readCatalogRecord, type CatalogRecord } from '../store/catalog.js';
import type { BlobStore } from '../store/port.js';
import type { Viewer } from './search.js';

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
  /** `indexing` until the document's last chunk is in the collection. */
  state: 'indexing' | 'indexed';
  /** When its current content was last ingested (ISO 8601). */
  ingestedAt?: string;
}

/** The viewer may read it: a public document, a group in common, or an unrestricted viewer. */
function readable(record: CatalogRecord, viewer: Viewer): boolean {
  return viewer.unrestricted || record.acl.length === 0 || record.acl.some((g) => viewer.groups.includes(g));
}

/** The served collection, and its pipeline version (a restored collection has a new name, the same version). */
export interface ServedRef {
  collection: string;
  version?: string;
}

function summaryOf(record: CatalogRecord, served: ServedRef): DocumentSummary | undefined {
  const entry = Object.values(record.pipelines).find((p) => p.collection === served.collection) ?? (served.version ? record.pipelines[served.version] : undefined);
  if (!entry) return undefined;
  const out: DocumentSummary = {
    documentId: record.documentId,
    title: record.title,
    // As the chunks carry it: a path without its `file:` scheme, other keys as they are.
    source: record.sourceKey.startsWith('file:') ? record.sourceKey.slice(5) : record.sourceKey,
    type: record.type,
    contentHash: record.contentHash,
    chunks: entry.chunks,
    acl: record.acl,
    owner: record.owner,
    state: entry.state,
    ingestedAt: record.updatedAt,
  };
  if (record.pages !== undefined) out.pages = record.pages;
  if (record.externalId !== undefined) out.externalId = record.externalId;
  return out;
}

/**
 * The documents of a collection, from the catalog in the store (the system of record), not from the
 * index: what the viewer may read, sorted by title. With `documentId`, that one document or none.
 */
export async function listDocuments(store: BlobStore, served: ServedRef, viewer: Viewer, documentId?: string): Promise<DocumentSummary[]> {
  const records = documentId ? [await readCatalogRecord(store, documentId)].filter((r) => r !== undefined) : await listCatalog(store);
  const out: DocumentSummary[] = [];
  for (const record of records) {
    if (!readable(record, viewer)) continue;
    const summary = summaryOf(record, served);
    if (summary) out.push(summary);
  }
  return out.sort((a, b) => (a.title < b.title ? -1 : a.title > b.title ? 1 : a.documentId < b.documentId ? -1 : 1));
}
