import type { IngestPolicy } from '../domain/ingest.js';
import type { VectorIndex } from '../index/port.js';
import { readCatalogRecord } from '../store/catalog.js';
import type { BlobStore } from '../store/port.js';

/**
 * Who may write a document. ACLs are owned, not chosen: re-ingesting a document needs every group of
 * its current ACL (or admin), and giving it a different ACL is an explicit admin action. The same
 * rule runs at the API (fast 403 for named sources) and inside ingestion (every document, including
 * records of a corpus file), so a request cannot route around it.
 */

export interface ExistingDocument {
  documentId: string;
  acl: string[];
  owner?: string;
}

export type WriteVerdict = { ok: true } | { ok: false; reason: 'acl_not_held' | 'acl_change_needs_admin' };

function sameAcl(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const sa = [...a].sort();
  const sb = [...b].sort();
  return sa.every((g, i) => g === sb[i]);
}

export function canWriteDocument(policy: IngestPolicy, existing: ExistingDocument | undefined, acl: readonly string[]): WriteVerdict {
  if (!existing) return { ok: true };
  const { owner } = policy;
  if (!owner.admin && !existing.acl.every((g) => owner.groups.includes(g))) return { ok: false, reason: 'acl_not_held' };
  if (!sameAcl(existing.acl, acl) && !(owner.admin && policy.replaceAcl)) return { ok: false, reason: 'acl_change_needs_admin' };
  return { ok: true };
}

export function verdictMessage(reason: 'acl_not_held' | 'acl_change_needs_admin'): string {
  return reason === 'acl_not_held'
    ? 'this document is restricted to groups you do not hold'
    : "this would change the document's ACL: an admin re-ingests with replaceAcl to do that";
}

/**
 * The current ACL and owner of each document that exists. The catalog (the store) is the authority: a
 * collection being built may not hold a document yet, and writing there must not dodge the rights the
 * served one enforces. A document indexed before the catalog existed is looked up in the collection.
 */
export async function existingDocuments(
  deps: { store: BlobStore; index: VectorIndex },
  collection: string,
  documentIds: string[],
): Promise<Map<string, ExistingDocument>> {
  const out = new Map<string, ExistingDocument>();
  const unknown: string[] = [];
  // Read in parallel slices: a corpus file holds thousands of records, each its own catalog file.
  const ids = [...new Set(documentIds)];
  for (let i = 0; i < ids.length; i += 64) {
    const slice = ids.slice(i, i + 64);
    const records = await Promise.all(slice.map((id) => readCatalogRecord(deps.store, id)));
    records.forEach((record, j) => {
      if (record) out.set(slice[j], { documentId: slice[j], acl: record.acl, owner: record.owner });
      else unknown.push(slice[j]);
    });
  }
  for (let i = 0; i < unknown.length; i += 1000) {
    const slice = unknown.slice(i, i + 1000);
    await deps.index.scroll(collection, { documentIds: slice }, (_id, p) => {
      if (!out.has(p.documentId)) out.set(p.documentId, { documentId: p.documentId, acl: p.acl ?? [], owner: p.owner });
    });
  }
  return out;
}
