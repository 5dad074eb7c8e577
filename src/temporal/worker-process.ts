import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../config.js';
import { AppError } from '../errors.js';
import type { Logger } from '../obs/logger.js';

export type WorkerKind = 'ingest' | 'embed';

export interface WorkerProcess {
  readonly kind: WorkerKind;
  readonly pid: number | undefined;
  alive(): boolean;
  /** Graceful: SIGTERM lets in-flight activities finish or be retried elsewhere. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
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
  await new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new AppError('INTERNAL', `${kind} worker did not start within ${readyTimeoutMs} ms`)), readyTimeoutMs);
    child.on('message', (m: { ready?: boolean }) => {
      if (m?.ready) {
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
    alive: () => !exited,
    stop: () => signalAndWait('SIGTERM', 30_000),
    kill: () => signalAndWait('SIGKILL', 5_000),
  };
}
