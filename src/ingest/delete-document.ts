import type { VectorIndex } from '../index/port.js';
import { deleteCatalogRecord, readCatalogRecord } from '../store/catalog.js';
import { listPipelines } from '../store/pipelines.js';
import type { BlobStore } from '../store/port.js';

export interface DeletionDeps {
  index: VectorIndex;
  store: BlobStore;
  /** The deployment's collection prefix: its collections are named `<prefix>_…`. */
  prefix?: string;
}

/**
 * The collections of this deployment: named with its prefix, or recorded in its store. An index server
 * may hold other deployments' collections (a shared Qdrant); a deletion never reaches into those.
 * Without a prefix, every collection of the index.
 */
export async function ownCollections(deps: DeletionDeps): Promise<string[]> {
  const names = (await deps.index.listCollections()).map((c) => c.name);
  if (!deps.prefix) return names;
  const recorded = new Set((await listPipelines(deps.store)).map((r) => r.ref.collection));
  return names.filter((name) => name.startsWith(`${deps.prefix}_`) || recorded.has(name));
}

export interface DeletionResult {
  documentId: string;
  pointsRemoved: number;
  sourcesRemoved: number;
  /** Source bytes kept because another indexed document (or a whole corpus file) still needs them. */
  sourcesRetained: number;
  /** Whether the document's catalog record was removed (false: there was none). */
  catalogRemoved?: boolean;
}

/**
 * Removes a document's chunks from every collection of this deployment and its source bytes from the
 * store, unless the same bytes back another indexed document. Idempotent: a retry finds nothing left.
 */
export async function deleteDocumentEverywhere(deps: DeletionDeps, documentId: string, sourceHashes: string[]): Promise<DeletionResult> {
  let pointsRemoved = 0;
  const collections = await ownCollections(deps);
  for (const c of collections) pointsRemoved += await deps.index.deleteWhere(c, { documentId });
  let sourcesRemoved = 0;
  let sourcesRetained = 0;
  for (const hash of sourceHashes) {
    let stillUsed = false;
    for (const c of collections) if ((await deps.index.count(c, { contentHash: hash })) > 0) stillUsed = true;
    if (stillUsed) sourcesRetained += 1;
    else if (await deps.store.has(deps.store.contentKey(hash))) {
      await deps.store.delete(deps.store.contentKey(hash));
      sourcesRemoved += 1;
    }
  }
  // Last: while the record exists a rebuild would bring the document back, so it goes once the
  // chunks and bytes are gone (a retry after a crash still finds it and finishes).
  const catalogRemoved = await deleteCatalogRecord(deps.store, documentId);
  return { documentId, pointsRemoved, sourcesRemoved, sourcesRetained, catalogRemoved };
}

/** What a deletion must leave: no chunk in any collection, no removed source in the store. */
export async function verifyDocumentGone(
  deps: DeletionDeps,
  documentId: string,
  removedHashes: string[],
): Promise<{ gone: boolean; remainingPoints: number; remainingSources: number; catalogRecord: boolean }> {
  let remainingPoints = 0;
  for (const c of await ownCollections(deps)) remainingPoints += await deps.index.count(c, { documentId });
  let remainingSources = 0;
  for (const h of removedHashes) if (await deps.store.has(deps.store.contentKey(h))) remainingSources += 1;
  const catalogRecord = (await readCatalogRecord(deps.store, documentId)) !== undefined;
  return { gone: remainingPoints === 0 && remainingSources === 0 && !catalogRecord, remainingPoints, remainingSources, catalogRecord };
}

/** The content hashes of a document's indexed versions (its source bytes, for file sources). */
export async function documentSourceHashes(deps: DeletionDeps, documentId: string): Promise<{ hashes: string[]; shared: boolean }> {
  const hashes = new Set<string>();
  let shared = false;
  for (const c of await ownCollections(deps)) {
    await deps.index.scroll(c, { documentId }, (_id, p) => {
      hashes.add(p.contentHash);
      // A corpus record's bytes live inside the corpus file: they go with the corpus, not the record.
      if (p.externalId !== undefined) shared = true;
    });
  }
  return { hashes: shared ? [] : [...hashes], shared };
}
