import type { PiiPolicy } from '../domain/ingest.js';
import type { DocType } from '../domain/types.js';
import type { BlobStore } from './port.js';

/**
 * The document catalog: one record per document, in the store beside its source bytes. It is the
 * system of record for who may read what (the ACL) and where a document comes from, so any vector
 * collection can be rebuilt from the store alone; index payloads are a projection of it.
 */
export interface CatalogRecord {
  documentId: string;
  /** Stable key of the source (`file:/abs/path`, `upload:<owner>:<name>`, `text:<owner>:<title>`, or a corpus key). */
  sourceKey: string;
  /** Content hash of the bytes the document is parsed from (the whole corpus file for a corpus record). */
  sourceHash: string;
  /** The name the bytes were parsed under (type sniffing uses it). */
  sourceName: string;
  /** The record id inside a corpus file. */
  externalId?: string;
  /** Hash of the document's own content: part of its chunk ids. */
  contentHash: string;
  owner: string;
  title: string;
  type: DocType;
  pages?: number;
  acl: string[];
  /** The PII policy its text was indexed under (a rebuild applies the same). */
  pii: PiiPolicy;
  /** Per pipeline version: the collection, how many chunks, and whether all of them are indexed. */
  pipelines: Record<string, { collection: string; chunks: number; state: 'indexing' | 'indexed' }>;
  updatedAt: string;
}

export function catalogKey(documentId: string): string {
  // Fan-out by the id's first hex characters keeps directories small at millions of documents.
  return `catalog/${documentId.slice(4, 6) || '00'}/${documentId}.json`;
}

export async function readCatalogRecord(store: BlobStore, documentId: string): Promise<CatalogRecord | undefined> {
  const raw = await store.tryGet(catalogKey(documentId));
  return raw ? (JSON.parse(raw.toString('utf8')) as CatalogRecord) : undefined;
}

/** Writes a record, keeping the other pipelines' entries of an existing one (a document lives in several collections). */
export async function putCatalogRecord(store: BlobStore, record: CatalogRecord): Promise<void> {
  const existing = await readCatalogRecord(store, record.documentId);
  const merged: CatalogRecord = existing && existing.contentHash === record.contentHash ? { ...record, pipelines: { ...existing.pipelines, ...record.pipelines } } : record;
  await store.put(catalogKey(record.documentId), JSON.stringify(merged));
}

/** Marks a document fully indexed in one pipeline (its last chunk is in the index). */
export async function markIndexed(store: BlobStore, documentId: string, version: string, contentHash: string, now: Date = new Date()): Promise<void> {
  const record = await readCatalogRecord(store, documentId);
  const entry = record?.pipelines[version];
  if (!record || !entry || record.contentHash !== contentHash || entry.state === 'indexed') return;
  record.pipelines[version] = { ...entry, state: 'indexed' };
  record.updatedAt = now.toISOString();
  await store.put(catalogKey(documentId), JSON.stringify(record));
}

export async function deleteCatalogRecord(store: BlobStore, documentId: string): Promise<boolean> {
  const key = catalogKey(documentId);
  if (!(await store.has(key))) return false;
  await store.delete(key);
  return true;
}

/** Every record, in key order. */
export async function listCatalog(store: BlobStore): Promise<CatalogRecord[]> {
  const out: CatalogRecord[] = [];
  for (const key of (await store.list('catalog/')).sort()) {
    const raw = await store.tryGet(key);
    if (raw) out.push(JSON.parse(raw.toString('utf8')) as CatalogRecord);
  }
  return out;
}
