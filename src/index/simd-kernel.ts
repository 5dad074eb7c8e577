import { AppError } from '../errors.js';

/**
 * Two tiny hand-assembled WebAssembly modules, each with one SIMD kernel of the same signature:
 *
 *   f32: scores(q, m, stride, n, out): for each of n rows of `stride` f32 starting at byte offset m,
 *   out[i] = dot(row_i, q), with two f32x4 accumulators (stride must be a positive multiple of 8).
 *
 *   int8: scores(q, m, stride, n, out): for each of n rows of `stride` int8 starting at byte offset m,
 *   out[i] = dot(row_i, q) as i32, q being `stride` i16 (stride must be a positive multiple of 16).
 *
 * Each imports its memory, so the caller owns the layout. Assembled here from opcodes rather than
 * shipped as a binary so that it stays reviewable and dependency-free.
 */

function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function name(text: string): number[] {
  const bytes = [...Buffer.from(text, 'utf8')];
  return [...uleb(bytes.length), ...bytes];
}

const I32 = 0x7f;
const V128 = 0x7b;
const SIMD = 0xfd;
const get = (i: number) => [0x20, i];
const set = (i: number) => [0x21, i];
const tee = (i: number) => [0x22, i];
const i32const = (v: number) => [0x41, v]; // small non-negative constants (< 64) only
const v128load = (offset: number) => [SIMD, 0x00, 0x00, offset]; // align hint 0, offset < 128
const f32x4mul = [SIMD, 0xe6, 0x01];
const f32x4add = [SIMD, 0xe4, 0x01];
const extractLane = (lane: number) => [SIMD, 0x1f, lane];
const i16x8ExtendLowI8 = [SIMD, 0x87, 0x01];
const i16x8ExtendHighI8 = [SIMD, 0x88, 0x01];
const i32x4DotI16 = [SIMD, 0xba, 0x01];
const i32x4add = [SIMD, 0xae, 0x01];
const i32ExtractLane = (lane: number) => [SIMD, 0x1b, lane];
const v128zero = [SIMD, 0x0c, ...new Array<number>(16).fill(0)];

/**
 * The loop both kernels share: for each of n rows, `init` the accumulators, run `columns` (which must
 * advance m by `rowBytesPerTurn` and q by 32 bytes) until `valuesPerTurn` divides the stride away,
 * then store what `reduce` leaves on the stack with `store` at out, and step out by 4 bytes.
 * Params: 0 q, 1 m, 2 stride, 3 n, 4 out. Locals: 5 j, 6 qp (i32); 7, 8 (v128).
 */
function rowLoop(init: number[], columns: number[], rowBytesPerTurn: number, valuesPerTurn: number, reduce: number[], store: number): number[] {
  return [
    0x02, 0x40, // block $done
    0x03, 0x40, //   loop $rows
    ...get(3), 0x45, 0x0d, 0x01, // if n == 0 break $done
    ...init,
    ...get(0), ...set(6),
    ...get(2), ...set(5),
    0x03, 0x40, //     loop $cols
    ...columns,
    ...get(1), ...i32const(rowBytesPerTurn), 0x6a, ...set(1),
    ...get(6), ...i32const(32), 0x6a, ...set(6),
    ...get(5), ...i32const(valuesPerTurn), 0x6b, ...tee(5),
    0x0d, 0x00, //       br_if $cols while j != 0
    0x0b, //           end $cols
    ...get(4),
    ...reduce,
    store, 0x02, 0x00, // f32.store / i32.store
    ...get(4), ...i32const(4), 0x6a, ...set(4),
    ...get(3), ...i32const(1), 0x6b, ...set(3),
    0x0c, 0x00, //     br $rows
    0x0b, //         end $rows
    0x0b, //       end $done
    0x0b, //     end function
  ];
}

// f32: two f32x4 accumulators (locals 7, 8), 8 floats per turn.
const body = rowLoop(
  [...v128zero, ...set(7), ...v128zero, ...set(8)],
  [
    ...get(7), ...get(1), ...v128load(0), ...get(6), ...v128load(0), ...f32x4mul, ...f32x4add, ...set(7),
    ...get(8), ...get(1), ...v128load(16), ...get(6), ...v128load(16), ...f32x4mul, ...f32x4add, ...set(8),
  ],
  32,
  8,
  [
    ...get(7), ...get(8), ...f32x4add, ...set(7),
    ...get(7), ...extractLane(0),
    ...get(7), ...extractLane(1), 0x92,
    ...get(7), ...extractLane(2), 0x92,
    ...get(7), ...extractLane(3), 0x92,
  ],
  0x38,
);

// int8: one i32x4 accumulator (local 7), the 16 row bytes of a turn in local 8, widened to two i16x8
// halves; i32x4.dot_i16x8_s multiplies each half by 8 query i16 and adds pairs.
const int8Body = rowLoop(
  [...v128zero, ...set(7)],
  [
    ...get(1), ...v128load(0), ...set(8),
    ...get(7), ...get(8), ...i16x8ExtendLowI8, ...get(6), ...v128load(0), ...i32x4DotI16, ...i32x4add, ...set(7),
    ...get(7), ...get(8), ...i16x8ExtendHighI8, ...get(6), ...v128load(16), ...i32x4DotI16, ...i32x4add, ...set(7),
  ],
  16,
  16,
  [
    ...get(7), ...i32ExtractLane(0),
    ...get(7), ...i32ExtractLane(1), 0x6a,
    ...get(7), ...i32ExtractLane(2), 0x6a,
    ...get(7), ...i32ExtractLane(3), 0x6a,
  ],
  0x36,
);

// Both kernels use two i32 and two v128 locals.
const locals = [0x02, 0x02, I32, 0x02, V128];

function moduleOf(kernelBody: number[]): Uint8Array {
  const functionBody = [...locals, ...kernelBody];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [0x01, 0x60, 0x05, I32, I32, I32, I32, I32, 0x00]),
    ...section(2, [0x01, ...name('env'), ...name('memory'), 0x02, 0x00, 0x01]),
    ...section(3, [0x01, 0x00]),
    ...section(7, [0x01, ...name('scores'), 0x00, 0x00]),
    ...section(10, [0x01, ...uleb(functionBody.length), ...functionBody]),
  ]);
}

const MODULES = { f32: moduleOf(body), int8: moduleOf(int8Body) };

export type ScoresKernel = (q: number, m: number, stride: number, n: number, out: number) => void;

// The project compiles without the DOM lib, so describe the few WebAssembly members used here.
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(deltaPages: number): number;
}
type WasmModule = object;
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number }) => WasmMemory;
}

const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

// Compiled once per process: the bytes are constants, so this is a cache, not shared state.
const compiled = new Map<keyof typeof MODULES, WasmModule | null>();

/**
 * The compiled module of a kernel (f32 by default), or null where this runtime lacks WebAssembly SIMD
 * (callers fall back to JS).
 */
export function simdModule(kind: keyof typeof MODULES = 'f32'): WasmModule | null {
  let module = compiled.get(kind);
  if (module === undefined) {
    const bytes = MODULES[kind];
    try {
      module = wasm && wasm.validate(bytes) ? new wasm.Module(bytes) : null;
    } catch {
      module = null;
    }
    compiled.set(kind, module);
  }
  return module;
}

/** Row capacity after growing `capacity` to hold at least `rows` (by half again, so appends stay amortised). */
export function grownCapacity(capacity: number, rows: number): number {
  let next = capacity;
  while (next < rows) next = Math.ceil(next * 1.5) + 16;
  return next;
}

/** Grows `memory` to at least `bytes`; a wasm32 memory stops at 4 GiB, which is an INDEX_ERROR naming `what`. */
export function growMemory(memory: WasmMemory, bytes: number, what: string, details: Record<string, unknown>): void {
  const pages = Math.ceil(bytes / PAGE) - memory.buffer.byteLength / PAGE;
  try {
    if (pages > 0) memory.grow(pages);
  } catch (err) {
    throw new AppError('INDEX_ERROR', `collection outgrew ${what}; use Qdrant`, { cause: err, details });
  }
}

export const PAGE = 64 * 1024;

/** A memory of `pages` 64 KiB pages with the kernel bound to it. */
export function createKernel(module: WasmModule, pages: number): { memory: WasmMemory; scores: ScoresKernel } {
  const memory = new wasm!.Memory({ initial: pages });
  const instance = new wasm!.Instance(module, { env: { memory } });
  return { memory, scores: instance.exports.scores as ScoresKernel };
}
