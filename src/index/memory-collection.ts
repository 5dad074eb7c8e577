import { endianness } from 'node:os';
import type { ChunkPayload } from '../domain/types.js';
import type { CompiledFilter } from './filter.js';
import { TopK } from './top-k.js';

const LITTLE_ENDIAN = endianness() === 'LE';

export interface SlotHit {
  id: string;
  score: number;
  payload: ChunkPayload;
}

/**
 * The in-memory state of one collection. Live points occupy slots [0, size) of one dense row-major
 * Float32Array: a delete moves the last row into the hole, so a scan never meets a gap and memory
 * stays proportional to live points. Per-document id sets make document-scoped operations O(chunks).
 */
export class MemoryCollection {
  private matrix: Float32Array;
  private matrixBytes: Uint8Array;
  private ids: string[] = [];
  private payloads: ChunkPayload[] = [];
  private readonly slotOf = new Map<string, number>();
  private readonly byDocument = new Map<string, Set<string>>();
  private live = 0;

  constructor(readonly dimension: number, initialCapacity = 1024) {
    this.matrix = new Float32Array(Math.max(1, initialCapacity) * dimension);
    this.matrixBytes = new Uint8Array(this.matrix.buffer);
  }

  get size(): number {
    return this.live;
  }

  has(id: string): boolean {
    return this.slotOf.has(id);
  }

  private ensureCapacity(rows: number): void {
    const capacity = this.matrix.length / this.dimension;
    if (rows <= capacity) return;
    let next = capacity;
    while (next < rows) next = Math.ceil(next * 1.5) + 16;
    const grown = new Float32Array(next * this.dimension);
    grown.set(this.matrix.subarray(0, this.live * this.dimension));
    this.matrix = grown;
    this.matrixBytes = new Uint8Array(grown.buffer);
  }

  /** Returns the slot the vector should be written to, after indexing id and payload. */
  private place(id: string, payload: ChunkPayload): number {
    const existing = this.slotOf.get(id);
    if (existing !== undefined) {
      const old = this.payloads[existing];
      if (old.documentId !== payload.documentId) this.unindexDocument(old.documentId, id);
      this.payloads[existing] = payload;
      this.indexDocument(payload.documentId, id);
      return existing;
    }
    this.ensureCapacity(this.live + 1);
    const slot = this.live++;
    this.ids[slot] = id;
    this.payloads[slot] = payload;
    this.slotOf.set(id, slot);
    this.indexDocument(payload.documentId, id);
    return slot;
  }

  upsert(id: string, vector: Float32Array, payload: ChunkPayload): void {
    const slot = this.place(id, payload);
    this.matrix.set(vector, slot * this.dimension);
  }

  /** Upsert with the vector read straight from little-endian f32 bytes (log replay, no temp array). */
  upsertFromBytes(id: string, bytes: Uint8Array, offset: number, payload: ChunkPayload): void {
    const slot = this.place(id, payload);
    const dim = this.dimension;
    if (LITTLE_ENDIAN) {
      this.matrixBytes.set(bytes.subarray(offset, offset + dim * 4), slot * dim * 4);
    } else {
      const view = new DataView(bytes.buffer, bytes.byteOffset + offset, dim * 4);
      for (let j = 0; j < dim; j++) this.matrix[slot * dim + j] = view.getFloat32(j * 4, true);
    }
  }

  delete(id: string): boolean {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return false;
    this.unindexDocument(this.payloads[slot].documentId, id);
    this.slotOf.delete(id);
    const last = --this.live;
    if (slot !== last) {
      const dim = this.dimension;
      this.matrix.copyWithin(slot * dim, last * dim, last * dim + dim);
      this.ids[slot] = this.ids[last];
      this.payloads[slot] = this.payloads[last];
      this.slotOf.set(this.ids[slot], slot);
    }
    this.ids.length = last;
    this.payloads.length = last;
    return true;
  }

  private indexDocument(documentId: string, id: string): void {
    let set = this.byDocument.get(documentId);
    if (!set) this.byDocument.set(documentId, (set = new Set()));
    set.add(id);
  }

  private unindexDocument(documentId: string, id: string): void {
    const set = this.byDocument.get(documentId);
    if (!set) return;
    set.delete(id);
    if (set.size === 0) this.byDocument.delete(documentId);
  }

  /** Visits matching slots; document bounds come from the per-document sets, not a scan. */
  private forEachMatch(filter: CompiledFilter, visit: (slot: number) => void): void {
    const { predicate } = filter;
    if (filter.documentIds) {
      for (const documentId of new Set(filter.documentIds)) {
        const set = this.byDocument.get(documentId);
        if (!set) continue;
        for (const id of set) {
          const slot = this.slotOf.get(id)!;
          if (!predicate || predicate(this.payloads[slot])) visit(slot);
        }
      }
      return;
    }
    for (let slot = 0; slot < this.live; slot++) {
      if (!predicate || predicate(this.payloads[slot])) visit(slot);
    }
  }

  matchingIds(filter: CompiledFilter): string[] {
    const out: string[] = [];
    this.forEachMatch(filter, (slot) => out.push(this.ids[slot]));
    return out;
  }

  count(filter: CompiledFilter): number {
    if (!filter.documentIds && !filter.predicate) return this.live;
    let n = 0;
    this.forEachMatch(filter, () => n++);
    return n;
  }

  scroll(filter: CompiledFilter, visit: (id: string, payload: ChunkPayload) => void): void {
    // Collect first so a visitor that triggers writes cannot disturb the iteration.
    const slots: number[] = [];
    this.forEachMatch(filter, (slot) => slots.push(slot));
    const entries = slots.map((slot) => [this.ids[slot], this.payloads[slot]] as const);
    for (const [id, payload] of entries) visit(id, payload);
  }

  get(id: string): { id: string; payload: ChunkPayload; vector: Float32Array } | undefined {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return undefined;
    const dim = this.dimension;
    return { id, payload: this.payloads[slot], vector: this.matrix.slice(slot * dim, slot * dim + dim) };
  }

  /** Live points in slot order; vectors are views valid until the next write. */
  *entries(): Generator<{ id: string; payload: ChunkPayload; vector: Float32Array }> {
    const dim = this.dimension;
    for (let slot = 0; slot < this.live; slot++) {
      yield { id: this.ids[slot], payload: this.payloads[slot], vector: this.matrix.subarray(slot * dim, slot * dim + dim) };
    }
  }

  /** Exact top-k by dot product; the filter is applied while scanning, before any vector is read. */
  search(query: Float32Array, k: number, filter: CompiledFilter): SlotHit[] {
    if (k <= 0 || this.live === 0) return [];
    const top = new TopK(Math.min(k, this.live));
    const m = this.matrix;
    const dim = this.dimension;
    if (!filter.documentIds && !filter.predicate) {
      // Hot path: one sequential pass over the dense matrix.
      let threshold = -Infinity;
      for (let slot = 0, n = this.live; slot < n; slot++) {
        const s = dot(m, slot * dim, query, dim);
        if (s > threshold) {
          top.offer(s, slot);
          threshold = top.threshold();
        }
      }
    } else {
      this.forEachMatch(filter, (slot) => {
        const s = dot(m, slot * dim, query, dim);
        if (s > top.threshold()) top.offer(s, slot);
      });
    }
    return top
      .sorted()
      .map(({ score: s, slot }) => ({ id: this.ids[slot], score: s, payload: this.payloads[slot] }))
      .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}

/** Dot product of row `m[base, base + dim)` with `q`; four accumulators let the CPU pipeline the adds. */
function dot(m: Float32Array, base: number, q: Float32Array, dim: number): number {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let j = 0;
  let i = base;
  for (; j + 4 <= dim; j += 4, i += 4) {
    a0 += m[i] * q[j];
    a1 += m[i + 1] * q[j + 1];
    a2 += m[i + 2] * q[j + 2];
    a3 += m[i + 3] * q[j + 3];
  }
  for (; j < dim; j++, i++) a0 += m[i] * q[j];
  return a0 + a1 + a2 + a3;
}
