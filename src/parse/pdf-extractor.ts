/**
 * PdfExtractor: runs pdf.js in child processes, each held under a memory cap. Starting a process and
 * loading pdf.js costs a few hundred ms, so long-lived callers (ingest workers) create one extractor,
 * reuse its processes and close() it at shutdown. A process that timed out, crashed or went over the
 * cap is killed and replaced on demand, and so is one that stays large after a parse.
 */
import { PdfProcess, type PdfRawText } from './pdf-process.js';
import { pdfjsData, type PdfjsData } from './pdfjs-data.js';

export type { PdfRawText } from './pdf-process.js';

export interface PdfExtractor {
  extract(bytes: Uint8Array, opts: { maxPages: number; timeoutMs: number }): Promise<PdfRawText>;
  close(): Promise<void>;
}

export interface PdfExtractorOptions {
  /** Processes parsing at once; further calls wait for a free one. Default 1. */
  threads?: number;
  /**
   * Memory cap of each parser process (resident set, ArrayBuffers included). A PDF that needs more
   * fails alone as RESOURCE_LIMIT. An idle parser takes ~100 MB, so caps far below 256 MB fail every
   * file. Default 768 MB (config `limits.parseMaxBytes`).
   */
  maxBytes?: number;
  /**
   * A process whose RSS after a parse is above this is retired rather than reused: the next file
   * would have little room left, and an idle parser should not sit on memory a big file left behind.
   * Default half of maxBytes.
   */
  retireAboveBytes?: number;
  /**
   * Where pdf.js finds its CMaps and standard fonts. Default: the installed pdfjs-dist's, checked
   * here, so a broken install fails at start-up with a ConfigError. null runs without them, which
   * garbles CJK text: only benchmarks use it, to measure what the data adds.
   */
  pdfjsData?: PdfjsData | null;
}

export const DEFAULT_PARSE_MAX_BYTES = 768 * 1024 * 1024;

export function createPdfExtractor(options: PdfExtractorOptions = {}): PdfExtractor {
  const maxProcesses = Math.max(1, options.threads ?? 1);
  const maxBytes = options.maxBytes ?? DEFAULT_PARSE_MAX_BYTES;
  const retireAbove = options.retireAboveBytes ?? maxBytes / 2;
  const fontData = options.pdfjsData === undefined ? pdfjsData() : options.pdfjsData;
  const idle: PdfProcess[] = [];
  const waiting: Array<{ resolve: (proc: PdfProcess) => void; reject: (err: Error) => void }> = [];
  let live = 0;
  let closed = false;

  const spawn = (): PdfProcess => {
    live++;
    return new PdfProcess(maxBytes, fontData);
  };

  const acquire = (): Promise<PdfProcess> => {
    while (idle.length > 0) {
      const proc = idle.pop() as PdfProcess;
      if (proc.alive) return Promise.resolve(proc);
      live--;
    }
    if (live < maxProcesses) return Promise.resolve(spawn());
    return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  };

  const release = (proc: PdfProcess): void => {
    if (closed || !proc.alive || proc.lastRss > retireAbove) {
      live--;
      void proc.terminate();
      if (!closed) waiting.shift()?.resolve(spawn());
      return;
    }
    const next = waiting.shift();
    if (next) next.resolve(proc);
    else idle.push(proc);
  };

  return {
    async extract(bytes, opts) {
      if (closed) throw new Error('PDF extractor is closed');
      const proc = await acquire();
      try {
        return await proc.run(bytes, opts);
      } finally {
        release(proc);
      }
    },
    async close() {
      closed = true;
      for (const w of waiting.splice(0)) w.reject(new Error('PDF extractor is closed'));
      const procs = idle.splice(0);
      live -= procs.length;
      await Promise.all(procs.map((p) => p.terminate()));
    },
  };
}
