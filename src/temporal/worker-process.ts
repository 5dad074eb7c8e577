import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../config.js';
import { AppError } from '../errors.js';
import type { Logger } from '../obs/logger.js';

export type WorkerKind = 'ingest' | 'embed';

export interface WorkerProcess {
  readonly kind: WorkerKind;
  readonly pid: number | undefined;
  /** Where its Prometheus endpoint listens (reported by the worker once ready). */
  readonly metricsPort: number | undefined;
  alive(): boolean;
  /** Resolves when the process has exited, for whatever reason. */
  readonly exited: Promise<void>;
  /** Graceful: SIGTERM lets in-flight activities finish or be retried elsewhere. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
}

/** What the lifecycle needs of a Temporal Worker. */
export interface RunnableWorker {
  run(): Promise<void>;
  shutdown(): void;
  getState(): string;
}

export interface WorkerLifecycle {
  /** Aborted once a stop is asked for: start-up waits (Temporal health) end early with it. */
  readonly signal: AbortSignal;
  /** Polls until a stop is asked for, then drains: resolves once in-flight tasks are done. */
  run(worker: RunnableWorker): Promise<void>;
}

/**
 * Stop requests of a worker process: SIGINT, SIGTERM, or its parent going away (the IPC channel
 * closes). Ctrl-C in a terminal reaches the whole process group, so a worker usually gets SIGINT
 * directly and then SIGTERM from its parent: shutdown is asked for once, and later requests are only
 * noted, never an error. The handlers stay installed until the process exits (the worker's entrypoint
 * exits once it has closed what it opened), so a late signal (the parent's SIGTERM while the worker
 * closes its index) cannot fall through to Node's default, an abrupt exit. A stop before the worker
 * polls exits at once: nothing is in flight yet.
 */
export function workerLifecycle(
  logger: Logger,
  opts: { events?: NodeJS.EventEmitter; exit?: (code: number) => void } = {},
): WorkerLifecycle {
  const events = opts.events ?? process;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const controller = new AbortController();
  let target: RunnableWorker | undefined;
  const stopWorker = (worker: RunnableWorker) => {
    // The SDK's own signal hook may have asked first; asking a stopping worker again would throw.
    if (worker.getState() !== 'RUNNING') return;
    try {
      worker.shutdown();
    } catch (err) {
      logger.debug('worker: shutdown already under way', { err });
    }
  };
  const request = (reason: string) => {
    if (controller.signal.aborted) {
      logger.debug('worker: stop already requested', { reason });
      return;
    }
    logger.info('worker: stopping', { reason });
    controller.abort(new Error(`stop requested (${reason})`));
    if (target) stopWorker(target);
    else exit(0);
  };
  events.on('SIGINT', () => request('SIGINT'));
  events.on('SIGTERM', () => request('SIGTERM'));
  // Only a forked worker has a parent to lose. (The listener holds the IPC channel open: the
  // entrypoint ends with process.exit.)
  const forked = events === process ? typeof process.send === 'function' : true;
  if (forked) events.on('disconnect', () => request('parent gone'));
  return {
    signal: controller.signal,
    async run(worker) {
      target = worker;
      const running = worker.run();
      if (controller.signal.aborted) stopWorker(worker);
      await running;
    },
  };
}

/** Starts `workers/<kind>.ts` as its own process and resolves once it polls its task queue. */
export async function startWorkerProcess(
  kind: WorkerKind,
  env: Record<string, string | undefined>,
  logger: Logger,
  readyTimeoutMs = 120_000,
): Promise<WorkerProcess> {
  const child: ChildProcess = fork(join(PROJECT_ROOT, 'workers', `${kind}.ts`), [], {
    cwd: PROJECT_ROOT,
    env,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let exited = false;
  const exit = new Promise<void>((r) =>
    child.once('exit', (code, signal) => {
      exited = true;
      logger.info('worker: process exited', { kind, code, signal });
      r();
    }),
  );
  let metricsPort: number | undefined;
  await new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new AppError('INTERNAL', `${kind} worker did not start within ${readyTimeoutMs} ms`)), readyTimeoutMs);
    child.on('message', (m: { ready?: boolean; metricsPort?: number }) => {
      if (m?.ready) {
        metricsPort = m.metricsPort;
        clearTimeout(timer);
        resolveReady();
      }
    });
    void exit.then(() => {
      clearTimeout(timer);
      reject(new AppError('INTERNAL', `${kind} worker exited during start-up (see its log above)`));
    });
  });
  const signalAndWait = async (signal: NodeJS.Signals, graceMs: number) => {
    if (exited) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exit;
    clearTimeout(timer);
  };
  return {
    kind,
    pid: child.pid,
    metricsPort,
    alive: () => !exited,
    exited: exit,
    stop: () => signalAndWait('SIGTERM', 30_000),
    kill: () => signalAndWait('SIGKILL', 5_000),
  };
}
