import { sha256Hex } from '../domain/ids.js';
import type { ChunkBatchRef, PipelineRef, SourceSpec } from '../domain/ingest.js';
import type { VectorIndex } from '../index/port.js';
import { listCatalog, type CatalogRecord } from '../store/catalog.js';
import { manifestKeyFor } from '../store/manifest.js';
import type { BlobStore } from '../store/port.js';
import type { ProbeResult } from '../domain/probe.js';
import { loadVectors, pieceKey, PIECE_CHUNKS } from './embed-batch.js';
import type { StoredBatch } from './prepare.js';

/**
 * Rebuilding a collection from the store alone: the catalog names every document, its source bytes,
 * ACL, owner and PII policy; re-ingesting those sources with those settings gives the same chunk ids
 * (document id, content hash, chunk index and pipeline version are all in the catalog or the config).
 * A probe taken before the drop and again after the rebuild proves it: the same point ids, and the same
 * top-10 for fixed probe vectors.
 */

export interface RebuildPlan {
  manifestKey: string;
  sources: number;
  documents: number;
}

/** One source per catalog record, carrying that record's ACL, owner and PII policy. */
export async function writeRebuildManifest(store: BlobStore, jobId: string, only?: (r: CatalogRecord) => boolean): Promise<RebuildPlan> {
  const records = (await listCatalog(store)).filter((r) => !only || only(r));
  const sources: SourceSpec[] = [];
  // Records of one corpus file are rebuilt from one pass over that file, grouped by their settings.
  const corpora = new Map<string, SourceSpec & { kind: 'stored' }>();
  for (const r of records) {
    const settings = { acl: [...r.acl].sort(), owner: r.owner, pii: r.pii };
    if (r.externalId !== undefined) {
      const key = JSON.stringify([r.sourceHash, r.sourceKey, settings]);
      let source = corpora.get(key);
      if (!source) {
        source = { kind: 'stored', hash: r.sourceHash, name: r.sourceName, sourceKey: r.sourceKey, ...settings, externalIds: [] };
        corpora.set(key, source);
        sources.push(source);
      }
      source.externalIds!.push(r.externalId);
    } else {
      sources.push({ kind: 'stored', hash: r.sourceHash, name: r.sourceName, sourceKey: r.sourceKey, title: r.title, ...settings });
    }
  }
  const manifestKey = manifestKeyFor(jobId);
  await store.put(manifestKey, JSON.stringify({ sources, owner: 'rebuild' }));
  return { manifestKey, sources: sources.length, documents: records.length };
}

/** A fixed probe: texts of evenly spaced chunks (by id order), written as a batch to embed. */
export async function writeProbeBatch(deps: { store: BlobStore; index: VectorIndex }, collection: string, key: string, size: number): Promise<ChunkBatchRef | undefined> {
  const all: StoredBatch['points'] = [];
  await deps.index.scroll(collection, undefined, (id, payload) => all.push({ id, payload }));
  if (all.length === 0) return undefined;
  all.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const step = Math.max(1, Math.floor(all.length / size));
  const points = all.filter((_, i) => i % step === 0).slice(0, size);
  await deps.store.put(key, JSON.stringify({ points, documentsCompleted: 0 } satisfies StoredBatch));
  return { key, chunks: points.length, documentsCompleted: 0 };
}

/** Point ids of the collection and, given embedded probe chunks, the top-k for each probe vector. */
export async function runProbe(
  deps: { store: BlobStore; index: VectorIndex },
  pipeline: PipelineRef,
  probe?: { batch: ChunkBatchRef; vectorsKey: string },
  k = 10,
): Promise<ProbeResult> {
  const ids: string[] = [];
  await deps.index.scroll(pipeline.collection, undefined, (id) => ids.push(id));
  ids.sort();
  const vectors = probe ? await loadVectors(deps.store, probe.vectorsKey, probe.batch.chunks, pipeline.dimension) : [];
  const topK: string[][] = [];
  for (const v of vectors) topK.push((await deps.index.search(pipeline.collection, v, k)).map((h) => h.id));
  return { points: ids.length, idsDigest: sha256Hex(ids.join('\n')), topK };
}

export async function removeProbe(store: BlobStore, batch: ChunkBatchRef, vectorsKey: string): Promise<void> {
  for (let i = 0; i < Math.ceil(batch.chunks / PIECE_CHUNKS); i++) await store.delete(pieceKey(vectorsKey, i)).catch(() => undefined);
  await store.delete(batch.key).catch(() => undefined);
}

/**
 * A catch-up after a restore: one source per catalog record whose document has no chunk in the
 * collection (added to the store after the snapshot was taken), so the restored collection ends up
 * holding everything the store holds.
 */
export async function writeCatchUpManifest(deps: { store: BlobStore; index: VectorIndex }, jobId: string, collection: string): Promise<RebuildPlan> {
  const present = new Set<string>();
  await deps.index.scroll(collection, undefined, (_id, p) => present.add(p.documentId));
  return writeRebuildManifest(deps.store, jobId, (r) => !present.has(r.documentId));
}
