import { createHash } from 'node:crypto';
import type { PipelineSettings } from './types.js';

// Hashing is pure (same input, same output), so these stay in domain/ and are safe for workflows
// only through their results, never by import: workflows must not pull node:crypto into the bundle.

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Fixed namespace for chunk point ids, so ids are stable across machines and releases. */
const CHUNK_NAMESPACE = 'b6f1c0de-5a1e-4c3a-9e7b-2f0d8e6a4c11';

function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

/** RFC 4122 version-5 UUID (SHA-1, name-based). */
export function uuidV5(name: string, namespace: string = CHUNK_NAMESPACE): string {
  const hash = createHash('sha1').update(uuidBytes(namespace)).update(name, 'utf8').digest();
  const b = Buffer.from(hash.subarray(0, 16));
  b[6] = (b[6] & 0x0f) | 0x50;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Document id: stable key of the source (an absolute path, an upload key, or corpus + record id). */
export function documentIdFor(sourceKey: string): string {
  return `doc_${sha256Hex(sourceKey).slice(0, 24)}`;
}

export function chunkId(documentId: string, contentHash: string, chunkIndex: number, pipelineVersion: string): string {
  return uuidV5(`${documentId}\u0000${contentHash}\u0000${chunkIndex}\u0000${pipelineVersion}`);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Short, stable version of everything that shapes the vectors. */
export function pipelineVersion(settings: PipelineSettings): string {
  return `v${sha256Hex(canonicalJson(settings)).slice(0, 12)}`;
}

/** Collection name for a pipeline version: one collection per version, an alias picks the served one. */
export function collectionName(prefix: string, version: string): string {
  return `${prefix}_${version}`;
}
