import { AppError } from '../errors.js';
import { MAX_ID_BYTES } from './log-format.js';
import type { IndexPoint } from './port.js';

/** Collection and alias names: safe as directory names, never dot-prefixed (temp names are). */
export const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export function checkName(name: string, what: string): void {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new AppError('INVALID_INPUT', `${what} name must match ${NAME.source}`, { details: { name } });
  }
}

export function checkVector(vector: Float32Array, dimension: number, collection: string): void {
  if (!vector || vector.length !== dimension) {
    throw new AppError('INDEX_ERROR', `vector has dimension ${vector?.length}, collection expects ${dimension}`, {
      details: { collection, expected: dimension, actual: vector?.length },
    });
  }
}

export function checkPoint(point: IndexPoint, dimension: number, collection: string): void {
  if (typeof point.id !== 'string' || point.id.length === 0 || Buffer.byteLength(point.id, 'utf8') > MAX_ID_BYTES) {
    throw new AppError('INVALID_INPUT', 'point id must be a non-empty string of at most 1024 bytes', { details: { collection } });
  }
  checkVector(point.vector, dimension, collection);
  for (let j = 0; j < dimension; j++) {
    if (!Number.isFinite(point.vector[j])) {
      throw new AppError('INVALID_INPUT', 'vector holds a non-finite value', { details: { collection, id: point.id } });
    }
  }
  if (!point.payload || typeof point.payload.documentId !== 'string') {
    throw new AppError('INVALID_INPUT', 'point payload needs a string documentId', { details: { collection, id: point.id } });
  }
}
