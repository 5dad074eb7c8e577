import { createKernel, grownCapacity, growMemory, PAGE, simdModule, type ScoresKernel, type WasmMemory } from './simd-kernel.js';

/**
 * Scalar-quantized copies of a collection's vectors for a fast first pass: each row is scaled by its
 * own largest magnitude to int8 (a quarter of the f32 bytes to stream per query), and the query to
 * i16. Scores are approximate (row scale x integer dot), so the caller rescores the best candidates on
 * the f32 rows; the on-disk log keeps f32 and these codes are rebuilt on load.
 *
 * With SIMD the codes live in a WebAssembly memory laid out as
 *   [ query: stride i16 | rows: capacity x stride i8 | dots: capacity i32 ]
 * elsewhere in plain arrays scored by a JS loop.
 */
export class Int8Rows {
  /** Row length in bytes, padded to 16 with zeros so the kernel needs no tail loop. */
  readonly stride: number;
  private capacity: number;
  private readonly memory?: WasmMemory;
  private readonly kernel?: ScoresKernel;
  private codes: Int8Array;
  private query: Int16Array;
  private dots: Int32Array;
  private scales: Float32Array;
  /** Largest query code such that no i32 sum over a row can overflow. */
  private readonly queryMax: number;

  constructor(readonly dimension: number, initialRows: number, useSimd = true) {
    this.stride = Math.ceil(dimension / 16) * 16;
    this.capacity = Math.max(1, initialRows);
    this.queryMax = Math.min(32767, Math.floor(2 ** 31 / (127 * this.stride)) - 1);
    const module = useSimd ? simdModule('int8') : null;
    if (module) {
      const { memory, scores } = createKernel(module, Math.ceil(this.bytesFor(this.capacity) / PAGE));
      this.memory = memory;
      this.kernel = scores;
    }
    this.codes = new Int8Array(this.memory ? 0 : this.capacity * this.stride);
    this.query = new Int16Array(this.stride);
    this.dots = new Int32Array(this.memory ? 0 : this.capacity);
    this.scales = new Float32Array(this.capacity);
    this.remap();
  }

  get simd(): boolean {
    return this.kernel !== undefined;
  }

  private get rowsOffset(): number {
    return this.stride * 2;
  }

  private get dotsOffset(): number {
    return this.rowsOffset + this.capacity * this.stride;
  }

  private bytesFor(rows: number): number {
    return this.stride * 2 + rows * this.stride + rows * 4;
  }

  private remap(): void {
    if (!this.memory) return;
    this.query = new Int16Array(this.memory.buffer, 0, this.stride);
    this.codes = new Int8Array(this.memory.buffer, this.rowsOffset, this.capacity * this.stride);
    this.dots = new Int32Array(this.memory.buffer, this.dotsOffset, this.capacity);
  }

  ensureRows(rows: number): void {
    if (rows <= this.capacity) return;
    const next = grownCapacity(this.capacity, rows);
    const scales = new Float32Array(next);
    scales.set(this.scales);
    if (this.memory) {
      // The dots region sits after the rows, so it moves; it holds nothing between searches.
      growMemory(this.memory, this.bytesFor(next), 'the int8 codes of the embedded index (4 GiB)', { rows: next, dimension: this.dimension });
      this.capacity = next;
      this.remap();
    } else {
      const codes = new Int8Array(next * this.stride);
      codes.set(this.codes);
      this.codes = codes;
      this.dots = new Int32Array(next);
      this.capacity = next;
    }
    this.scales = scales;
  }

  /** Quantizes `vector` into row `slot`. */
  setRow(slot: number, vector: Float32Array): void {
    let max = 0;
    for (let j = 0; j < this.dimension; j++) max = Math.max(max, Math.abs(vector[j]));
    const base = slot * this.stride;
    const factor = max > 0 ? 127 / max : 0;
    for (let j = 0; j < this.dimension; j++) this.codes[base + j] = Math.round(vector[j] * factor);
    this.scales[slot] = max / 127;
  }

  moveRow(from: number, to: number): void {
    this.codes.copyWithin(to * this.stride, from * this.stride, from * this.stride + this.stride);
    this.scales[to] = this.scales[from];
  }

  setQuery(query: Float32Array): void {
    let max = 0;
    for (let j = 0; j < this.dimension; j++) max = Math.max(max, Math.abs(query[j]));
    const factor = max > 0 ? this.queryMax / max : 0;
    for (let j = 0; j < this.dimension; j++) this.query[j] = Math.round(query[j] * factor);
  }

  /**
   * Integer dot products of rows [0, n) with the loaded query, and the rows' scales: dots[i] x
   * scales[i] orders rows as their true dot products do, up to quantization error (the query's own
   * factor is left out, so it is not on the cosine scale). Views reused by the next call.
   */
  scoreAll(n: number): { dots: Int32Array; scales: Float32Array } {
    const { dots, stride } = this;
    if (this.kernel) this.kernel(0, this.rowsOffset, stride, n, this.dotsOffset);
    else {
      for (let slot = 0; slot < n; slot++) {
        let sum = 0;
        for (let j = 0, i = slot * stride; j < this.dimension; j++, i++) sum += this.codes[i] * this.query[j];
        dots[slot] = sum;
      }
    }
    return { dots: dots.subarray(0, n), scales: this.scales.subarray(0, n) };
  }
}
