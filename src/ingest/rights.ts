import type { IngestPolicy } from '../domain/ingest.js';
import type { VectorIndex } from '../index/port.js';

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

/** The current ACL and owner of each document that already has chunks in the collection. */
export async function existingDocuments(index: VectorIndex, collection: string, documentIds: string[]): Promise<Map<string, ExistingDocument>> {
  const out = new Map<string, ExistingDocument>();
  for (let i = 0; i < documentIds.length; i += 1000) {
    const slice = documentIds.slice(i, i + 1000);
    await index.scroll(collection, { documentIds: slice }, (_id, p) => {
      if (!out.has(p.documentId)) out.set(p.documentId, { documentId: p.documentId, acl: p.acl ?? [], owner: p.owner });
    });
  }
  return out;
}
