/**
 * A tiny hand-assembled WebAssembly module with one SIMD kernel:
 *
 *   scores(q, m, stride, n, out): for each of n rows of `stride` f32 starting at byte offset m,
 *   out[i] = dot(row_i, q), with two f32x4 accumulators (stride must be a positive multiple of 8).
 *
 * It imports its memory, so the caller owns the layout. Assembled here from opcodes rather than
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
const v128zero = [SIMD, 0x0c, ...new Array<number>(16).fill(0)];

// Params: 0 q, 1 m, 2 stride, 3 n, 4 out. Locals: 5 j, 6 qp (i32); 7 acc0, 8 acc1 (v128).
const body = [
  0x02, 0x40, // block $done
  0x03, 0x40, //   loop $rows
  ...get(3), 0x45, 0x0d, 0x01, // if n == 0 break $done
  ...v128zero, ...set(7),
  ...v128zero, ...set(8),
  ...get(0), ...set(6),
  ...get(2), ...set(5),
  0x03, 0x40, //     loop $cols (8 floats per turn)
  ...get(7), ...get(1), ...v128load(0), ...get(6), ...v128load(0), ...f32x4mul, ...f32x4add, ...set(7),
  ...get(8), ...get(1), ...v128load(16), ...get(6), ...v128load(16), ...f32x4mul, ...f32x4add, ...set(8),
  ...get(1), ...i32const(32), 0x6a, ...set(1),
  ...get(6), ...i32const(32), 0x6a, ...set(6),
  ...get(5), ...i32const(8), 0x6b, ...tee(5),
  0x0d, 0x00, //       br_if $cols while j != 0
  0x0b, //           end $cols
  ...get(4),
  ...get(7), ...get(8), ...f32x4add, ...set(7),
  ...get(7), ...extractLane(0),
  ...get(7), ...extractLane(1), 0x92,
  ...get(7), ...extractLane(2), 0x92,
  ...get(7), ...extractLane(3), 0x92,
  0x38, 0x02, 0x00, // f32.store
  ...get(4), ...i32const(4), 0x6a, ...set(4),
  ...get(3), ...i32const(1), 0x6b, ...set(3),
  0x0c, 0x00, //     br $rows
  0x0b, //         end $rows
  0x0b, //       end $done
  0x0b, //     end function
];

const locals = [0x02, 0x02, I32, 0x02, V128];
const functionBody = [...locals, ...body];

const MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, [0x01, 0x60, 0x05, I32, I32, I32, I32, I32, 0x00]),
  ...section(2, [0x01, ...name('env'), ...name('memory'), 0x02, 0x00, 0x01]),
  ...section(3, [0x01, 0x00]),
  ...section(7, [0x01, ...name('scores'), 0x00, 0x00]),
  ...section(10, [0x01, ...uleb(functionBody.length), ...functionBody]),
]);

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

// Compiled once per process: the bytes are a constant, so this is a cache, not shared state.
let compiled: WasmModule | null | undefined;

/** The compiled module, or null where this runtime lacks WebAssembly SIMD (callers fall back to JS). */
export function simdModule(): WasmModule | null {
  if (compiled === undefined) {
    try {
      compiled = wasm && wasm.validate(MODULE) ? new wasm.Module(MODULE) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** A memory of `pages` 64 KiB pages with the kernel bound to it. */
export function createKernel(module: WasmModule, pages: number): { memory: WasmMemory; scores: ScoresKernel } {
  const memory = new wasm!.Memory({ initial: pages });
  const instance = new wasm!.Instance(module, { env: { memory } });
  return { memory, scores: instance.exports.scores as ScoresKernel };
}
