/**
 * PdfExtractor: runs pdf.js in worker threads. Starting a thread and loading pdf.js costs a few hundred
 * ms, so long-lived callers (ingest workers) create one extractor, reuse its threads and close() it at
 * shutdown. A thread that timed out or crashed is discarded and replaced on demand.
 */
import { PdfThread, type PdfRawText } from './pdf-thread.js';

export type { PdfRawText } from './pdf-thread.js';

export interface PdfExtractor {
  extract(bytes: Uint8Array, opts: { maxPages: number; timeoutMs: number }): Promise<PdfRawText>;
  close(): Promise<void>;
}

export interface PdfExtractorOptions {
  /** Threads parsing at once; further calls wait for a free one. Default 1. */
  threads?: number;
  /** Heap limit of each thread; a PDF that needs more fails as CORRUPT. Default 1024 MB. */
  maxHeapMb?: number;
}

export function createPdfExtractor(options: PdfExtractorOptions = {}): PdfExtractor {
  const maxThreads = Math.max(1, options.threads ?? 1);
  const maxHeapMb = options.maxHeapMb ?? 1024;
  const idle: PdfThread[] = [];
  const waiting: Array<{ resolve: (thread: PdfThread) => void; reject: (err: Error) => void }> = [];
  let live = 0;
  let closed = false;

  const spawn = (): PdfThread => {
    live++;
    return new PdfThread(maxHeapMb);
  };

  const acquire = (): Promise<PdfThread> => {
    while (idle.length > 0) {
      const thread = idle.pop() as PdfThread;
      if (thread.alive) return Promise.resolve(thread);
      live--;
    }
    if (live < maxThreads) return Promise.resolve(spawn());
    return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  };

  const release = (thread: PdfThread): void => {
    if (closed) {
      live--;
      void thread.terminate();
      return;
    }
    if (!thread.alive) {
      live--;
      waiting.shift()?.resolve(spawn());
      return;
    }
    const next = waiting.shift();
    if (next) next.resolve(thread);
    else idle.push(thread);
  };

  return {
    async extract(bytes, opts) {
      if (closed) throw new Error('PDF extractor is closed');
      const thread = await acquire();
      try {
        return await thread.run(bytes, opts);
      } finally {
        release(thread);
      }
    },
    async close() {
      closed = true;
      for (const w of waiting.splice(0)) w.reject(new Error('PDF extractor is closed'));
      const threads = idle.splice(0);
      live -= threads.length;
      await Promise.all(threads.map((t) => t.terminate()));
    },
  };
}
