import { SEARCH_ATTRIBUTES } from '../domain/search-attributes.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname } from 'node:path';
import { Connection } from '@temporalio/client';
import { AppError } from '../errors.js';
import type { Logger } from '../obs/logger.js';
import { connectWhenHealthy, DEFAULT_HEALTH_TIMEOUT_MS } from './health.js';

export interface DevServerOptions {
  cliPath: string;
  /** SQLite file: jobs survive restarts. Omit for an in-memory server (tests). */
  dbFile?: string;
  host?: string;
  port: number;
  uiPort: number;
  namespace: string;
  headless?: boolean;
  /**
   * Its own process group: a terminal's Ctrl-C then reaches only its owner, which stops it after the
   * workers have drained (they still talk to it while they drain). The owner must stop it.
   */
  ownProcessGroup?: boolean;
  logger: Logger;
  /** Until the frontend serves the namespace; generous, since a loaded machine starts it slowly. */
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

/** Starts `temporal server start-dev` and resolves once its frontend is healthy and serves the namespace. */
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
  // srag's lifecycle search attributes exist from the first start (a real cluster gets them at `srag up`).
  for (const key of Object.values(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${key.name}=Keyword`);
  if (opts.headless) args.push('--headless');
  else args.push('--ui-port', String(opts.uiPort));

  const child: ChildProcess = spawn(opts.cliPath, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: opts.ownProcessGroup ?? false });
  let stderrTail = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderrTail = (stderrTail + d.toString('utf8')).slice(-4000);
  });
  let exited = false;
  const exitedEarly = new AbortController();
  child.once('exit', (code, signal) => {
    exited = true;
    exitedEarly.abort(new Error(`temporal exited (${signal ?? `code ${code}`}): ${stderrTail.trim().slice(-500)}`));
  });
  const stop = async () => {
    if (exited) return;
    const done = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await done;
    clearTimeout(timer);
  };

  const address = `${host}:${opts.port}`;
  const timeoutMs = opts.startTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  // The port first (cheap, and it notices a server that exits at once), then health: a listening
  // frontend still refuses work until its services and the namespace are ready.
  while (!(await portOpen(host, opts.port))) {
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new AppError('TEMPORAL_UNAVAILABLE', `Temporal dev server did not start: ${stderrTail.trim().slice(-500) || 'timed out'}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    const connection = await connectWhenHealthy(() => Connection.connect({ address, connectTimeout: '5s' }), {
      namespace: opts.namespace,
      timeoutMs: Math.max(1_000, deadline - Date.now()),
      logger: opts.logger,
      address,
      signal: exitedEarly.signal,
    });
    await connection.close();
  } catch (err) {
    await stop();
    throw err;
  }
  opts.logger.info('temporal: dev server started', { address, db: opts.dbFile ?? 'memory' });

  return {
    address,
    uiUrl: opts.headless ? undefined : `http://${host}:${opts.uiPort}`,
    stop,
  };
}
