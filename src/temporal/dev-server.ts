import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname } from 'node:path';
import { AppError } from '../errors.js';
import type { Logger } from '../obs/logger.js';

export interface DevServerOptions {
  cliPath: string;
  /** SQLite file: jobs survive restarts. Omit for an in-memory server (tests). */
  dbFile?: string;
  host?: string;
  port: number;
  uiPort: number;
  namespace: string;
  headless?: boolean;
  logger: Logger;
  startTimeoutMs?: number;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  stop(): Promise<void>;
}

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolveOpen) => {
    const socket = createConnection({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolveOpen(true);
    });
    socket.once('error', () => resolveOpen(false));
  });
}

/** Starts `temporal server start-dev` and resolves once its frontend accepts connections. */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const host = opts.host ?? '127.0.0.1';
  if (await portOpen(host, opts.port)) {
    throw new AppError(
      'TEMPORAL_UNAVAILABLE',
      `port ${opts.port} is already in use: another Temporal server (or srag) is running. ` +
        `Set TEMPORAL_ADDRESS=${host}:${opts.port} to use it, or SRAG_TEMPORAL_PORT to pick another port.`,
    );
  }
  const args = ['server', 'start-dev', '--ip', host, '--port', String(opts.port), '--namespace', opts.namespace, '--log-level', 'error'];
  if (opts.dbFile) {
    mkdirSync(dirname(opts.dbFile), { recursive: true });
    args.push('--db-filename', opts.dbFile);
  }
  if (opts.headless) args.push('--headless');
  else args.push('--ui-port', String(opts.uiPort));

  const child: ChildProcess = spawn(opts.cliPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderrTail = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderrTail = (stderrTail + d.toString('utf8')).slice(-4000);
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });

  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  while (!(await portOpen(host, opts.port))) {
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new AppError('TEMPORAL_UNAVAILABLE', `Temporal dev server did not start: ${stderrTail.trim().slice(-500) || 'timed out'}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  opts.logger.info('temporal: dev server started', { address: `${host}:${opts.port}`, db: opts.dbFile ?? 'memory' });

  return {
    address: `${host}:${opts.port}`,
    uiUrl: opts.headless ? undefined : `http://${host}:${opts.uiPort}`,
    stop: async () => {
      if (exited) return;
      const done = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await done;
      clearTimeout(timer);
    },
  };
}
