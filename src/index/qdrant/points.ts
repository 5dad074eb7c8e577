import type { Schemas } from '@qdrant/js-client-rest';
import type { ChunkPayload } from '../../domain/types.js';
import { AppError } from '../../errors.js';
import type { SparseVector } from '../../domain/sparse-bm25.js';
import type { IndexPoint, ScoredPoint } from '../port.js';
import { SPARSE_VECTOR } from './collection.js';

/** Qdrant accepts UUIDs (any case) or unsigned integers as ids; srag's chunk ids are UUIDs. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Checked before anything is sent, so a bad point fails the call with a typed error and nothing half-written. */
export function toPointStruct(point: IndexPoint, collection: string): Schemas['PointStruct'] {
  if (typeof point.id !== 'string' || !UUID.test(point.id)) {
    throw new AppError('INVALID_INPUT', 'point id must be a UUID', { details: { collection } });
  }
  const vector = point.vector;
  if (!vector || typeof vector.length !== 'number') {
    throw new AppError('INVALID_INPUT', 'point vector is missing', { details: { collection, id: point.id } });
  }
  const values = Array.from(vector);
  if (!values.every(Number.isFinite)) {
    throw new AppError('INVALID_INPUT', 'vector holds a non-finite value', { details: { collection, id: point.id } });
  }
  if (!point.payload || typeof point.payload.documentId !== 'string') {
    throw new AppError('INVALID_INPUT', 'point payload needs a string documentId', { details: { collection, id: point.id } });
  }
  // A JSON round trip drops undefined fields, exactly as the embedded adapter stores them.
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(JSON.stringify(point.payload)) as Record<string, unknown>;
  } catch (err) {
    throw new AppError('INVALID_INPUT', 'point payload is not JSON-serialisable', { cause: err, details: { collection, id: point.id } });
  }
  return { id: point.id, vector: values, payload };
}

/**
 * The point with its BM25 sparse vector stored beside the dense one (a point whose text has no terms
 * keeps the dense vector alone). Once named vectors sit beside it, the unnamed dense vector is ''.
 */
export function withSparse(struct: Schemas['PointStruct'], terms: SparseVector): Schemas['PointStruct'] {
  if (terms.indices.length === 0 || !Array.isArray(struct.vector)) return struct;
  return { ...struct, vector: { '': struct.vector as number[], [SPARSE_VECTOR]: terms } };
}

/** The vector of a query, as JSON-ready numbers. */
export function queryVector(vector: Float32Array, collection: string): number[] {
  const values = Array.from(vector ?? []);
  if (values.length === 0 || !values.every(Number.isFinite)) {
    throw new AppError('INVALID_INPUT', 'query vector must be non-empty and finite', { details: { collection } });
  }
  return values;
}

/** A point read back: ids as strings, payload as stored (ChunkPayload is what srag writes). */
export function fromRecord(record: { id: string | number; score?: number; payload?: Record<string, unknown> | null }): ScoredPoint {
  return {
    id: String(record.id),
    // Reads by id have no query, so no similarity: 0 by convention, as in the embedded adapter.
    score: record.score ?? 0,
    payload: (record.payload ?? {}) as unknown as ChunkPayload,
  };
}

/** The name Qdrant gives the unnamed dense vector once named vectors sit beside it. */
export const DENSE_VECTOR = '';

/** The dense vector of a point read back with its vectors: a plain array, or the unnamed entry of a map. */
export function denseOf(vector: unknown, collection: string, id: string | number): Float32Array {
  const raw = Array.isArray(vector) ? vector : vector && typeof vector === 'object' ? (vector as Record<string, unknown>)[DENSE_VECTOR] : undefined;
  if (!Array.isArray(raw) || raw.length === 0 || !raw.every((x) => typeof x === 'number')) {
    throw new AppError('INDEX_ERROR', 'a point came back without its dense vector', { details: { collection, id: String(id) } });
  }
  return Float32Array.from(raw as number[]);
}
