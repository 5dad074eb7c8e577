import { createKernel, grownCapacity, growMemory, PAGE, simdModule, type ScoresKernel, type WasmMemory } from './simd-kernel.js';

/**
 * Row-major f32 storage for one collection's vectors plus the scoring kernel. Rows are padded to a
 * multiple of 8 floats with zeros so the WebAssembly SIMD kernel needs no tail loop. Where SIMD is
 * available the rows live in a WebAssembly memory laid out as
 *   [ query: stride f32 | rows: capacity x stride f32 | scores: capacity f32 ]
 * (wasm32 caps that at 4 GiB: about 2.7 million 384-d vectors); elsewhere in a plain Float32Array
 * scored by a JS loop.
 */
export class VectorMatrix {
  readonly stride: number;
  /** Row storage; valid until the next `ensureRows` (growth replaces the buffer). */
  data: Float32Array;
  private capacity: number;
  private readonly memory?: WasmMemory;
  private readonly kernel?: ScoresKernel;
  private query: Float32Array;
  /** Score output: in wasm memory after the rows, or a plain array for the JS path. */
  private scores: Float32Array;

  constructor(readonly dimension: number, initialRows: number, useSimd = true) {
    this.stride = Math.ceil(dimension / 8) * 8;
    this.capacity = Math.max(1, initialRows);
    const module = useSimd ? simdModule() : null;
    if (module) {
      const { memory, scores } = createKernel(module, Math.ceil(this.bytesFor(this.capacity) / PAGE));
      this.memory = memory;
      this.kernel = scores;
    }
    this.query = new Float32Array(this.stride);
    this.data = new Float32Array(this.memory ? 0 : this.capacity * this.stride);
    this.scores = new Float32Array(this.memory ? 0 : this.capacity);
    this.remap();
  }

  /** Whether scoring runs in the WebAssembly SIMD kernel. */
  get simd(): boolean {
    return this.kernel !== undefined;
  }

  private get rowsOffset(): number {
    return this.stride * 4;
  }

  private get scoresOffset(): number {
    return this.rowsOffset + this.capacity * this.stride * 4;
  }

  private bytesFor(rows: number): number {
    return this.stride * 4 + rows * this.stride * 4 + rows * 4;
  }

  private remap(): void {
    if (this.memory) {
      this.query = new Float32Array(this.memory.buffer, 0, this.stride);
      this.data = new Float32Array(this.memory.buffer, this.rowsOffset, this.capacity * this.stride);
      this.scores = new Float32Array(this.memory.buffer, this.scoresOffset, this.capacity);
    }
  }

  ensureRows(rows: number): void {
    if (rows <= this.capacity) return;
    const next = grownCapacity(this.capacity, rows);
    if (this.memory) {
      growMemory(this.memory, this.bytesFor(next), 'the embedded index (4 GiB of vectors)', { rows: next, dimension: this.dimension });
      this.capacity = next;
      this.remap();
    } else {
      const grown = new Float32Array(next * this.stride);
      grown.set(this.data);
      this.data = grown;
      this.scores = new Float32Array(next);
      this.capacity = next;
    }
  }

  /** Row `slot` as a view (dimension floats, padding excluded). */
  row(slot: number): Float32Array {
    return this.data.subarray(slot * this.stride, slot * this.stride + this.dimension);
  }

  setRow(slot: number, vector: Float32Array): void {
    this.data.set(vector, slot * this.stride);
  }

  /** Raw bytes of the row storage, for copying little-endian vectors straight in. */
  bytes(): Uint8Array {
    return new Uint8Array(this.data.buffer, this.data.byteOffset, this.data.byteLength);
  }

  moveRow(from: number, to: number): void {
    this.data.copyWithin(to * this.stride, from * this.stride, from * this.stride + this.stride);
  }

  /** Loads the query for the score calls that follow. */
  setQuery(query: Float32Array): void {
    this.query.set(query);
  }

  /** Scores of rows [0, n) against the loaded query; the result is a view reused by the next call. */
  scoreAll(n: number): Float32Array {
    if (this.kernel) this.kernel(0, this.rowsOffset, this.stride, n, this.scoresOffset);
    else for (let slot = 0; slot < n; slot++) this.scores[slot] = jsDot(this.data, slot * this.stride, this.query, this.stride);
    return this.scores.subarray(0, n);
  }

  /** Score of one row against the loaded query (same arithmetic as scoreAll). */
  scoreRow(slot: number): number {
    if (this.kernel) {
      this.kernel(0, this.rowsOffset + slot * this.stride * 4, this.stride, 1, this.scoresOffset);
      return this.scores[0];
    }
    return Math.fround(jsDot(this.data, slot * this.stride, this.query, this.stride));
  }
}

/** Four accumulators let the CPU pipeline the adds. */
function jsDot(m: Float32Array, base: number, q: Float32Array, length: number): number {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  for (let j = 0, i = base; j < length; j += 4, i += 4) {
    a0 += m[i] * q[j];
    a1 += m[i + 1] * q[j + 1];
    a2 += m[i + 2] * q[j + 2];
    a3 += m[i + 3] * q[j + 3];
  }
  return a0 + a1 + a2 + a3;
}
