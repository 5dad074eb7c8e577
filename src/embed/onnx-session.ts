/**
 * An ONNX Runtime session on its own worker thread.
 *
 * onnxruntime-node's `session.run` returns a promise but computes synchronously on the calling thread
 * (measured here: about 1.7 s for 32 x 256 tokens on 2 cores), which would stall HTTP requests and
 * Temporal heartbeats. On a worker thread only the worker waits. The worker's source is inline so it
 * loads the same way under tsx, vitest and plain node.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { AppError } from '../errors.js';

export type ExecutionProvider = 'cpu' | 'cuda';

export interface OnnxSessionOptions {
  modelPath: string;
  providers: ExecutionProvider[];
  /** intraOpNumThreads; 0 leaves ORT's default (one per physical core). */
  threads: number;
}

export interface OnnxBatch {
  batch: number;
  seqLen: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
}

export interface OnnxOutput {
  data: Float32Array;
  dims: number[];
}

export interface OnnxSession {
  readonly inputNames: readonly string[];
  readonly outputName: string;
  /** Declared shape of the output; symbolic dimensions are strings. */
  readonly outputShape: readonly (number | string)[];
  run(batch: OnnxBatch): Promise<OnnxOutput>;
  close(): Promise<void>;
}

const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
// A failed CUDA attempt is reported by the caller as one JSON line; keep ORT's own stderr quiet.
ort.env.logLevel = 'fatal';
let session;
let outputName;
async function handle(msg) {
  if (msg.type === 'open') {
    session = await ort.InferenceSession.create(msg.modelPath, msg.options);
    outputName = session.outputNames.includes('last_hidden_state') ? 'last_hidden_state' : session.outputNames[0];
    const meta = session.outputMetadata[session.outputNames.indexOf(outputName)];
    return { inputNames: session.inputNames, outputName, outputShape: (meta && meta.shape) || [] };
  }
  if (msg.type === 'run') {
    const dims = [msg.batch, msg.seqLen];
    const feeds = {};
    for (const name of session.inputNames) {
      if (name === 'input_ids') feeds[name] = new ort.Tensor('int64', msg.inputIds, dims);
      else if (name === 'attention_mask') feeds[name] = new ort.Tensor('int64', msg.attentionMask, dims);
      else if (name === 'token_type_ids') feeds[name] = new ort.Tensor('int64', new BigInt64Array(msg.inputIds.length), dims);
      else throw new Error('unsupported model input ' + name);
    }
    const out = (await session.run(feeds, [outputName]))[outputName];
    // Copy into a buffer we own so it can be transferred instead of cloned.
    const data = new Float32Array(out.data);
    const result = { data, dims: Array.from(out.dims) };
    if (typeof out.dispose === 'function') out.dispose();
    return [result, [data.buffer]];
  }
  if (msg.type === 'close') {
    if (session) await session.release();
    session = undefined;
    return {};
  }
  throw new Error('unknown message ' + msg.type);
}
parentPort.on('message', (msg) => {
  handle(msg).then(
    (res) => {
      if (Array.isArray(res)) parentPort.postMessage({ id: msg.id, ok: true, value: res[0] }, res[1]);
      else parentPort.postMessage({ id: msg.id, ok: true, value: res });
    },
    (err) => parentPort.postMessage({ id: msg.id, ok: false, error: String((err && err.message) || err) }),
  );
});
`;

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

/** Thrown when ORT rejects the session or a run; `reason` is ORT's message. */
export class OnnxWorkerError extends AppError {
  constructor(
    readonly reason: string,
    what: string,
  ) {
    super('MODEL_ERROR', `${what}: ${reason}`, { details: { reason } });
    this.name = 'OnnxWorkerError';
  }
}

export async function openOnnxSession(opts: OnnxSessionOptions): Promise<OnnxSession> {
  const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ortPath } });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; what: string }>();
  let nextId = 0;
  let dead: Error | undefined;

  // Keep the process alive only while work is in flight, so a forgotten close() cannot hang an exit.
  worker.unref();
  const fail = (err: Error) => {
    dead ??= err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  worker.on('message', (reply: Reply) => {
    const p = pending.get(reply.id);
    if (!p) return;
    pending.delete(reply.id);
    if (pending.size === 0) worker.unref();
    if (reply.ok) p.resolve(reply.value);
    else p.reject(new OnnxWorkerError(reply.error, p.what));
  });
  worker.on('error', (err) => fail(new AppError('MODEL_ERROR', `ONNX worker crashed: ${err.message}`, { cause: err })));
  worker.on('exit', (code) => fail(new AppError('MODEL_ERROR', `ONNX worker exited (code ${code})`)));

  const call = <T>(what: string, msg: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<T> => {
    if (dead) return Promise.reject(dead);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject, what });
      worker.ref();
      worker.postMessage({ ...msg, id }, transfer);
    });
  };

  const options: Record<string, unknown> = {
    executionProviders: opts.providers,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  };
  if (opts.threads > 0) options.intraOpNumThreads = opts.threads;

  let info: { inputNames: string[]; outputName: string; outputShape: (number | string)[] };
  try {
    info = await call('cannot create ONNX session', { type: 'open', modelPath: opts.modelPath, options });
  } catch (err) {
    await worker.terminate();
    throw err;
  }

  let closing: Promise<void> | undefined;
  return {
    inputNames: info.inputNames,
    outputName: info.outputName,
    outputShape: info.outputShape,
    run: (b) =>
      call<OnnxOutput>(
        'ONNX inference failed',
        { type: 'run', batch: b.batch, seqLen: b.seqLen, inputIds: b.inputIds, attentionMask: b.attentionMask },
        [b.inputIds.buffer as ArrayBuffer, b.attentionMask.buffer as ArrayBuffer],
      ),
    close: () =>
      (closing ??= (async () => {
        try {
          if (!dead) await call('closing ONNX session failed', { type: 'close' });
        } finally {
          dead ??= new AppError('MODEL_ERROR', 'ONNX session is closed');
          await worker.terminate();
        }
      })()),
  };
}
