import type { ChunkBatchRef, PipelineRef } from '../domain/ingest.js';
import type { VectorIndex } from '../index/port.js';
import { markIndexed } from '../store/catalog.js';
import type { BlobStore } from '../store/port.js';
import { loadVectors, pieceKey, PIECE_CHUNKS } from './embed-batch.js';
import type { StoredBatch } from './prepare.js';

/**
 * Upserts a batch (idempotent: point ids are deterministic), then removes chunks of older contents
 * of the same documents. New chunks land before old ones go, so a document never vanishes mid-update.
 */
export async function indexStoredBatch(
  deps: { store: BlobStore; index: VectorIndex },
  batch: ChunkBatchRef,
  vectorsKey: string,
  pipeline: PipelineRef,
): Promise<{ points: number }> {
  const raw = await deps.store.tryGet(batch.key);
  // Batch files are removed only after their upsert succeeded: a retry that finds none is done.
  if (!raw) return { points: batch.chunks };
  const stored = JSON.parse(raw.toString('utf8')) as StoredBatch;
  const vectors = await loadVectors(deps.store, vectorsKey, stored.points.length, pipeline.dimension).catch(async (err) => {
    // A retry after the pieces were cleaned up: the batch is already in the index, nothing to do.
    const ids = stored.points.map((p) => p.id);
    if ((await deps.index.retrieve(pipeline.collection, ids)).length === ids.length) return undefined;
    throw err;
  });
  if (!vectors) return { points: stored.points.length };
  await deps.index.ensureCollection(pipeline.collection, pipeline.dimension);
  await deps.index.upsert(
    pipeline.collection,
    stored.points.map((p, i) => ({ id: p.id, vector: vectors[i], payload: p.payload })),
  );
  const latest = new Map<string, string>();
  for (const p of stored.points) latest.set(p.payload.documentId, p.payload.contentHash);
  // A document whose last chunk is in this batch is now fully in the index.
  for (const p of stored.points) {
    if (p.payload.chunkIndex === p.payload.chunkCount - 1) await markIndexed(deps.store, p.payload.documentId, pipeline.version, p.payload.contentHash);
  }
  for (const [documentId, contentHash] of latest) {
    await deps.index.deleteWhere(pipeline.collection, { documentId, notContentHash: contentHash });
  }
  // Batches and vectors are work products: the source bytes stay the system of record, and a deleted
  // document leaves no copy of its text behind in the store.
  const pieces = Math.ceil(stored.points.length / PIECE_CHUNKS);
  for (let i = 0; i < pieces; i++) await deps.store.delete(pieceKey(vectorsKey, i)).catch(() => undefined);
  await deps.store.delete(batch.key).catch(() => undefined);
  return { points: stored.points.length };
}
