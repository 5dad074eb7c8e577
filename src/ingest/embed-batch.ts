import { sha256Hex } from '../domain/ids.js';
import type { ChunkBatchRef, PipelineRef } from '../domain/ingest.js';
import type { Embedder } from '../embed/port.js';
import type { BlobStore } from '../store/port.js';
import { AppError } from '../errors.js';
import type { StoredBatch } from './prepare.js';

/** Chunks per stored piece of vectors: the unit of resume after a retry. */
export const PIECE_CHUNKS = 64;

export function vectorsKeyFor(batch: ChunkBatchRef): string {
  return `vectors/${sha256Hex(batch.key).slice(0, 32)}`;
}

export function pieceKey(vectorsKey: string, piece: number): string {
  return `${vectorsKey}/${piece}.f32`;
}

export interface EmbedDeps {
  store: BlobStore;
  embedder: Embedder;
  /** Progress after each piece (an activity heartbeats it). */
  onPiece?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * Embeds a stored batch piece by piece. Each finished piece is written to the store and reported in
 * a heartbeat, so a retry after a crash resumes at the first missing piece instead of starting over.
 */
export async function embedStoredBatch(deps: EmbedDeps, batch: ChunkBatchRef, pipeline: PipelineRef): Promise<{ vectorsKey: string; count: number }> {
  const { embedder, store } = deps;
  if (embedder.modelId !== pipeline.modelId || embedder.dimension !== pipeline.dimension) {
    throw new AppError(
      'PIPELINE_MISMATCH',
      `this worker embeds with ${embedder.modelId} (${embedder.dimension}d) but the job needs ${pipeline.modelId} (${pipeline.dimension}d)`,
    );
  }
  const stored = JSON.parse((await store.get(batch.key)).toString('utf8')) as StoredBatch;
  const texts = stored.points.map((p) => p.payload.text);
  const vectorsKey = vectorsKeyFor(batch);
  const pieces = Math.ceil(texts.length / PIECE_CHUNKS);
  for (let piece = 0; piece < pieces; piece++) {
    deps.signal?.throwIfAborted();
    const key = pieceKey(vectorsKey, piece);
    if (!(await store.has(key))) {
      const vectors = await embedder.embedDocuments(texts.slice(piece * PIECE_CHUNKS, (piece + 1) * PIECE_CHUNKS));
      const flat = new Float32Array(vectors.length * embedder.dimension);
      vectors.forEach((v, i) => flat.set(v, i * embedder.dimension));
      await store.put(key, new Uint8Array(flat.buffer));
    }
    deps.onPiece?.(piece + 1, pieces);
  }
  return { vectorsKey, count: texts.length };
}

export async function loadVectors(store: BlobStore, vectorsKey: string, count: number, dimension: number): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let piece = 0; out.length < count; piece++) {
    const buf = await store.get(pieceKey(vectorsKey, piece));
    const flat = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    for (let i = 0; i + dimension <= flat.length; i += dimension) out.push(flat.subarray(i, i + dimension));
  }
  if (out.length !== count) throw new Error(`vectors ${vectorsKey}: expected ${count}, found ${out.length}`);
  return out;
}
