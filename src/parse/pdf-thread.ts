/** One worker thread running pdf-worker.mjs; runs one PDF at a time and can be killed mid-parse. */
import { Worker } from 'node:worker_threads';
import { DocumentError } from '../errors.js';
import { pdfFailureToError } from './pdf-errors.js';

const WORKER_URL = new URL('./pdf-worker.mjs', import.meta.url);

/** Raw per-page text as pdf.js gives it; `pages` is null when the page count is over the limit. */
export interface PdfRawText {
  total: number;
  pages: string[] | null;
  titles: string[];
}

type WorkerMessage =
  | { type: 'ready' }
  | ({ type: 'result'; id: number } & PdfRawText)
  | { type: 'failure'; id: number; name: string; message: string };

interface PendingJob {
  id: number;
  resolve: (value: PdfRawText) => void;
  reject: (err: unknown) => void;
}

export class PdfThread {
  private readonly worker: Worker;
  private readonly ready: Promise<void>;
  private markReady!: () => void;
  private failStart!: (err: unknown) => void;
  private started = false;
  private current?: PendingJob;
  private nextId = 1;
  alive = true;

  constructor(maxHeapMb: number) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.markReady = resolve;
      this.failStart = reject;
    });
    // Handled here so a thread that dies while idle leaves no unhandled rejection; run() still sees it.
    this.ready.catch(() => undefined);
    this.worker = new Worker(WORKER_URL, { resourceLimits: { maxOldGenerationSizeMb: maxHeapMb } });
    this.worker.on('message', (msg: WorkerMessage) => this.onMessage(msg));
    this.worker.on('error', (err) => this.onCrash(err));
    this.worker.on('exit', (code) => this.onCrash(new Error(`PDF worker thread exited with code ${code}`)));
  }

  async run(bytes: Uint8Array, opts: { maxPages: number; timeoutMs: number }): Promise<PdfRawText> {
    await this.ready;
    if (!this.alive) throw new Error('PDF worker thread is not running');
    // A private copy is transferred, so the caller's buffer is never detached.
    const data = new Uint8Array(bytes);
    const id = this.nextId++;
    this.worker.ref();
    try {
      return await new Promise<PdfRawText>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.current = undefined;
          void this.terminate();
          reject(new DocumentError('CORRUPT', `PDF parsing timed out after ${opts.timeoutMs} ms`, { details: { timeoutMs: opts.timeoutMs } }));
        }, opts.timeoutMs);
        const settle = <T>(fn: (v: T) => void) => (v: T) => {
          clearTimeout(timer);
          this.current = undefined;
          fn(v);
        };
        this.current = { id, resolve: settle(resolve), reject: settle(reject) };
        this.worker.postMessage({ id, data: data.buffer, maxPages: opts.maxPages }, [data.buffer]);
      });
    } finally {
      // An idle thread must not keep the process alive.
      if (this.alive) this.worker.unref();
    }
  }

  async terminate(): Promise<void> {
    this.alive = false;
    await this.worker.terminate();
  }

  private onMessage(msg: WorkerMessage): void {
    if (msg.type === 'ready') {
      this.started = true;
      this.markReady();
      return;
    }
    const job = this.current;
    if (!job || job.id !== msg.id) return;
    if (msg.type === 'failure') job.reject(pdfFailureToError(msg.name, msg.message));
    else job.resolve({ total: msg.total, pages: msg.pages, titles: msg.titles });
  }

  private onCrash(err: unknown): void {
    this.alive = false;
    if (!this.started) {
      // The thread never came up: a deployment problem, not the document's fault.
      this.failStart(err);
      return;
    }
    const job = this.current;
    if (!job) return;
    const outOfMemory = (err as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY';
    job.reject(
      new DocumentError('CORRUPT', outOfMemory ? 'PDF needs more memory than the parser may use' : 'PDF parser crashed on this file', {
        cause: err,
      }),
    );
  }
}
