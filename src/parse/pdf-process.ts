/**
 * One child process running pdf-worker.mjs: parses one PDF at a time within a memory cap, and can be
 * killed mid-parse. The cap holds the whole process (ArrayBuffers included), not only the V8 heap:
 * a V8 heap flag, an RSS poll here, and a guard thread in the child that polls too.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DocumentError } from '../errors.js';
import { withAnnotationText, type PdfAnnotation } from './pdf-annotations.js';
import { pdfFailureToError } from './pdf-errors.js';
import type { PdfjsData } from './pdfjs-data.js';
import { readRssBytes } from './process-rss.js';

const WORKER_PATH = fileURLToPath(new URL('./pdf-worker.mjs', import.meta.url));
const MiB = 1024 * 1024;
/** Often enough that a stream inflating at ~1 GB/s overshoots the cap by tens of MB at most. */
const WATCH_INTERVAL_MS = 20;
const STDERR_TAIL_CHARS = 4096;
/** Written by the child's guard thread (pdf-worker.mjs) just before it kills the process. */
const GUARD_MARK = /srag-pdf-rss-limit (\d+)/;
/** What V8 prints when the heap flag stops it. */
const HEAP_OOM = /heap out of memory|Reached heap limit|Fatal process out of memory/i;

/**
 * Raw per-page text as pdf.js gives it, each page's annotation text appended after its content;
 * `pages` is null when the page count is over the limit.
 */
export interface PdfRawText {
  total: number;
  pages: string[] | null;
  titles: string[];
}

type ChildMessage =
  | { type: 'ready' }
  | ({ type: 'result'; id: number; rss: number; annotations: PdfAnnotation[][] | null } & PdfRawText)
  | { type: 'failure'; id: number; name: string; message: string; rss: number };

interface PendingJob {
  id: number;
  resolve: (value: PdfRawText) => void;
  reject: (err: unknown) => void;
}

interface Refable {
  ref?(): void;
  unref?(): void;
}

export class PdfProcess {
  private readonly child: ChildProcess;
  private readonly ready: Promise<void>;
  private markReady!: () => void;
  private failStart!: (err: unknown) => void;
  private started = false;
  private current?: PendingJob;
  private nextId = 1;
  private stderrTail = '';
  private readonly exited: Promise<void>;
  alive = true;
  /** RSS the child reported after its last parse: the pool retires a process that stays large. */
  lastRss = 0;

  /** `fontData` null runs pdf.js without CMaps and standard fonts (only to measure what they add). */
  constructor(
    private readonly maxBytes: number,
    fontData: PdfjsData | null,
  ) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.markReady = resolve;
      this.failStart = reject;
    });
    // Handled here so a process that dies while idle leaves no unhandled rejection; run() still sees it.
    this.ready.catch(() => undefined);
    // The heap flag stops runaway JS objects early with a clean V8 error; the RSS polls catch the rest.
    const heapMb = Math.max(64, Math.floor(maxBytes / MiB));
    this.child = fork(WORKER_PATH, [String(maxBytes), fontData?.cMapDir ?? '', fontData?.standardFontDir ?? ''], {
      // Not the parent's flags: loaders and inspector ports are not wanted there.
      execArgv: [`--max-old-space-size=${heapMb}`],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
    });
    this.child.on('message', (msg: ChildMessage) => this.onMessage(msg));
    this.child.on('error', (err) => {
      if (!this.started) this.onCrash(err);
      else this.fail(new DocumentError('CORRUPT', 'PDF parser process failed on this file', { cause: err }));
    });
    this.exited = new Promise((resolve) => {
      // 'close' comes after stderr is drained, so the guard's last line has been read.
      this.child.once('close', (code, signal) => {
        this.onCrash(new Error(`PDF parser process exited (${signal ?? `code ${code}`})`));
        resolve();
      });
    });
    this.hold(false);
  }

  async run(bytes: Uint8Array, opts: { maxPages: number; timeoutMs: number }): Promise<PdfRawText> {
    // Held from the start: a caller awaiting only this parse must not see its process exit under it.
    this.hold(true);
    let watch: NodeJS.Timeout | undefined;
    try {
      await this.ready;
      if (!this.alive) throw new Error('PDF parser process is not running');
      const id = this.nextId++;
      return await new Promise<PdfRawText>((resolve, reject) => {
        // The clock starts once the process is up, so a slow start is not the document's fault.
        const timer = setTimeout(() => {
          this.fail(new DocumentError('CORRUPT', `PDF parsing timed out after ${opts.timeoutMs} ms`, { details: { timeoutMs: opts.timeoutMs } }));
        }, opts.timeoutMs);
        watch = setInterval(() => this.checkRss(), WATCH_INTERVAL_MS);
        const settle = <T>(fn: (v: T) => void) => (v: T) => {
          clearTimeout(timer);
          clearInterval(watch);
          this.current = undefined;
          fn(v);
        };
        this.current = { id, resolve: settle(resolve), reject: settle(reject) };
        // Advanced serialization copies the bytes once into the channel, as binary; the caller's buffer
        // is left as it was.
        this.child.send({ id, data: bytes, maxPages: opts.maxPages }, (err) => {
          if (err) this.fail(new Error('could not send the PDF to its parser process', { cause: err }));
        });
      });
    } finally {
      clearInterval(watch);
      // An idle child must not keep this process alive.
      if (this.alive) this.hold(false);
    }
  }

  /** Kills the process; resolves once it has exited and its memory is returned. */
  async terminate(): Promise<void> {
    this.alive = false;
    // A process that never spawned has nothing to wait for.
    if (this.child.pid === undefined) return;
    // Referenced until it has exited: a caller awaiting this as its last work (a benchmark's close())
    // must not see its event loop empty out first and Node quit with an unsettled await.
    this.hold(true);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  private checkRss(): void {
    const rss = readRssBytes(this.child.pid ?? -1);
    if (rss !== undefined && rss > this.maxBytes) this.fail(this.overLimit(rss));
  }

  private overLimit(rssBytes: number): DocumentError {
    const mb = (n: number) => Math.round(n / MiB);
    return new DocumentError('RESOURCE_LIMIT', `PDF needs more memory than the parser may use (${mb(rssBytes)} MB > ${mb(this.maxBytes)} MB)`, {
      details: { rssBytes, maxBytes: this.maxBytes },
    });
  }

  /** Rejects the current job with `err` and kills the process, which cannot be trusted afterwards. */
  private fail(err: unknown): void {
    const job = this.current;
    this.current = undefined;
    void this.terminate();
    job?.reject(err);
  }

  private onMessage(msg: ChildMessage): void {
    if (msg.type === 'ready') {
      this.started = true;
      this.markReady();
      return;
    }
    this.lastRss = msg.rss;
    const job = this.current;
    if (!job || job.id !== msg.id) return;
    if (msg.type === 'failure') job.reject(pdfFailureToError(msg.name, msg.message));
    else {
      const pages = msg.pages?.map((text, i) => withAnnotationText(text, msg.annotations?.[i] ?? [])) ?? null;
      job.resolve({ total: msg.total, pages, titles: msg.titles });
    }
  }

  private onCrash(err: unknown): void {
    this.alive = false;
    if (!this.started) {
      // The process never came up: a deployment problem, not the document's fault.
      this.failStart(err);
      return;
    }
    const job = this.current;
    if (!job) return;
    const guard = GUARD_MARK.exec(this.stderrTail);
    if (guard) job.reject(this.overLimit(Number(guard[1])));
    else if (HEAP_OOM.test(this.stderrTail)) job.reject(this.overLimit(this.maxBytes));
    else job.reject(new DocumentError('CORRUPT', 'PDF parser crashed on this file', { cause: err }));
  }

  private hold(on: boolean): void {
    for (const handle of [this.child, this.child.channel, this.child.stderr] as Array<Refable | null | undefined>) {
      if (on) handle?.ref?.();
      else handle?.unref?.();
    }
  }
}
