import { endianness } from 'node:os';
import type { ChunkPayload } from '../domain/types.js';
import type { CompiledFilter } from './filter.js';
import { Int8Rows } from './int8-rows.js';
import { TopK } from './top-k.js';
import { VectorMatrix } from './vector-matrix.js';

const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * How many int8 candidates are rescored on f32 per result wanted (and at least RESCORE_MIN): enough
 * that the exact top-k survives quantization error (bench:scale and the index tests measure recall).
 */
const RESCORE_FACTOR = 8;
const RESCORE_MIN = 100;

export interface MemoryCollectionOptions {
  /** Keep int8 codes of every vector and scan those first, rescoring the best candidates on f32. */
  int8?: boolean;
}

export interface SlotHit {
  id: string;
  score: number;
  payload: ChunkPayload;
}

/**
 * The in-memory state of one collection. Live points occupy rows [0, size) of one dense matrix: a
 * delete moves the last row into the hole, so a scan never meets a gap and memory stays proportional
 * to live points. Per-document id sets make document-scoped operations O(chunks of the document).
 */
export class MemoryCollection {
  private readonly matrix: VectorMatrix;
  private readonly codes?: Int8Rows;
  private ids: string[] = [];
  private payloads: ChunkPayload[] = [];
  private readonly slotOf = new Map<string, number>();
  private readonly byDocument = new Map<string, Set<string>>();
  private live = 0;
  private writes = 0;
  /** Distinguishes this incarnation from a dropped-and-recreated collection of the same name. */
  private readonly incarnation = Math.random().toString(36).slice(2, 10);

  constructor(readonly dimension: number, initialCapacity = 1024, useSimd = true, options: MemoryCollectionOptions = {}) {
    this.matrix = new VectorMatrix(dimension, initialCapacity, useSimd);
    if (options.int8) this.codes = new Int8Rows(dimension, initialCapacity, useSimd);
  }

  /** Whether searches scan int8 codes first (rescoring on f32). */
  get int8(): boolean {
    return this.codes !== undefined;
  }

  /** Whether search runs in the WebAssembly SIMD kernel (else a JS loop). */
  get simd(): boolean {
    return this.matrix.simd;
  }

  get size(): number {
    return this.live;
  }

  /** Changes with every write (an upsert that keeps the count, too) and with every new incarnation. */
  get revision(): string {
    return `${this.incarnation}:${this.writes}`;
  }

  has(id: string): boolean {
    return this.slotOf.has(id);
  }

  /** Returns the slot the vector should be written to, after indexing id and payload. */
  private place(id: string, payload: ChunkPayload): number {
    this.writes++;
    const existing = this.slotOf.get(id);
    if (existing !== undefined) {
      const old = this.payloads[existing];
      if (old.documentId !== payload.documentId) this.unindexDocument(old.documentId, id);
      this.payloads[existing] = payload;
      this.indexDocument(payload.documentId, id);
      return existing;
    }
    this.matrix.ensureRows(this.live + 1);
    this.codes?.ensureRows(this.live + 1);
    const slot = this.live++;
    this.ids[slot] = id;
    this.payloads[slot] = payload;
    this.slotOf.set(id, slot);
    this.indexDocument(payload.documentId, id);
    return slot;
  }

  upsert(id: string, vector: Float32Array, payload: ChunkPayload): void {
    const slot = this.place(id, payload);
    this.matrix.setRow(slot, vector);
    this.codes?.setRow(slot, vector);
  }

  /** Upsert with the vector read straight from little-endian f32 bytes (log replay, no temp array). */
  upsertFromBytes(id: string, bytes: Uint8Array, offset: number, payload: ChunkPayload): void {
    const slot = this.place(id, payload);
    const dim = this.dimension;
    if (LITTLE_ENDIAN) {
      this.matrix.bytes().set(bytes.subarray(offset, offset + dim * 4), slot * this.matrix.stride * 4);
    } else {
      const view = new DataView(bytes.buffer, bytes.byteOffset + offset, dim * 4);
      const row = this.matrix.row(slot);
      for (let j = 0; j < dim; j++) row[j] = view.getFloat32(j * 4, true);
    }
    this.codes?.setRow(slot, this.matrix.row(slot));
  }

  delete(id: string): boolean {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return false;
    this.writes++;
    this.unindexDocument(this.payloads[slot].documentId, id);
    this.slotOf.delete(id);
    const last = --this.live;
    if (slot !== last) {
      this.matrix.moveRow(last, slot);
      this.codes?.moveRow(last, slot);
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
    return { id, payload: this.payloads[slot], vector: this.matrix.row(slot).slice() };
  }

  /** Live points in slot order; vectors are views valid until the next write. */
  *entries(): Generator<{ id: string; payload: ChunkPayload; vector: Float32Array }> {
    for (let slot = 0; slot < this.live; slot++) {
      yield { id: this.ids[slot], payload: this.payloads[slot], vector: this.matrix.row(slot) };
    }
  }

  /**
   * Top-k by dot product; the filter is applied while scanning, before any vector is read. Exact, or
   * with int8 codes a quantized first pass whose best candidates are rescored exactly (`exact` skips it).
   */
  search(query: Float32Array, k: number, filter: CompiledFilter, opts: { exact?: boolean } = {}): SlotHit[] {
    if (k <= 0 || this.live === 0) return [];
    const top = new TopK(Math.min(k, this.live));
    const matrix = this.matrix;
    matrix.setQuery(query);
    const depth = Math.max(RESCORE_FACTOR * k, RESCORE_MIN);
    if (this.codes && !opts.exact && !filter.documentIds && this.live > depth) {
      for (const slot of this.int8Candidates(this.codes, query, depth, filter)) top.offer(matrix.scoreRow(slot), slot);
    } else if (filter.documentIds) {
      // Bounded by a few documents: score just their rows.
      this.forEachMatch(filter, (slot) => {
        const s = matrix.scoreRow(slot);
        if (s > top.threshold()) top.offer(s, slot);
      });
    } else {
      // One kernel call scores every row; the filter then decides which rows may enter the heap.
      const scores = matrix.scoreAll(this.live);
      const payloads = this.payloads;
      const predicate = filter.predicate;
      let threshold = -Infinity;
      for (let slot = 0, n = this.live; slot < n; slot++) {
        const s = scores[slot];
        if (s > threshold && (!predicate || predicate(payloads[slot]))) {
          top.offer(s, slot);
          threshold = top.threshold();
        }
      }
    }
    return this.hitsOf(top);
  }

  /** Slots of the `depth` best rows by quantized score that pass the filter. */
  private int8Candidates(codes: Int8Rows, query: Float32Array, depth: number, filter: CompiledFilter): Int32Array {
    const candidates = new TopK(depth);
    codes.setQuery(query);
    const { dots, scales } = codes.scoreAll(this.live);
    const payloads = this.payloads;
    const predicate = filter.predicate;
    let threshold = -Infinity;
    for (let slot = 0, n = this.live; slot < n; slot++) {
      const s = dots[slot] * scales[slot];
      if (s > threshold && (!predicate || predicate(payloads[slot]))) {
        candidates.offer(s, slot);
        threshold = candidates.threshold();
      }
    }
    return candidates.slots.subarray(0, candidates.size);
  }

  private hitsOf(top: TopK): SlotHit[] {
    return top
      .sorted()
      .map(({ score: s, slot }) => ({ id: this.ids[slot], score: s, payload: this.payloads[slot] }))
      .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}

