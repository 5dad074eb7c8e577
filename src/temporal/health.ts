import { AppError } from '../errors.js';
import type { Logger } from '../obs/logger.js';

/**
 * What the health wait needs of a connection. Both the client's `Connection` and the worker's
 * `NativeConnection` have this shape, so one wait serves the API, the workers and the tests.
 */
export interface TemporalServices {
  healthService: { check(request: { service?: string }): Promise<{ status?: number | null }> };
  workflowService: {
    getSystemInfo(request: Record<string, never>): Promise<unknown>;
    describeNamespace(request: { namespace: string }): Promise<unknown>;
  };
}

export interface HealthWaitOptions {
  namespace: string;
  /** Overall deadline. A dev server on a loaded machine can take a minute before its frontend serves. */
  timeoutMs?: number;
  logger?: Logger;
  /** Shown in logs and in the final error. */
  address?: string;
  /** Limit of one probe call: a frontend that accepts but never answers must not stall the wait. */
  probeTimeoutMs?: number;
  /** What to check, appended to the final error. */
  hint?: string;
  /** Stops the wait early, e.g. when the server process it waits for has exited. */
  signal?: AbortSignal;
}

export const DEFAULT_HEALTH_TIMEOUT_MS = 120_000;
const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 2_000;
/** grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING */
const SERVING = 1;

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolveSleep) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolveSleep();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * One probe, the way a worker will use the server: the frontend reports SERVING, answers
 * GetSystemInfo (what Worker.create calls first) and knows the namespace. A port that accepts is not
 * enough: a starting dev server answers "Frontend is not healthy yet" for a while after it listens.
 */
async function probe(connection: TemporalServices, namespace: string, probeTimeoutMs: number): Promise<void> {
  const health = await withTimeout(connection.healthService.check({}), probeTimeoutMs, 'health check');
  if (health.status !== SERVING) throw new Error(`frontend health status is ${health.status ?? 'unknown'}, not SERVING`);
  await withTimeout(connection.workflowService.getSystemInfo({}), probeTimeoutMs, 'GetSystemInfo');
  await withTimeout(connection.workflowService.describeNamespace({ namespace }), probeTimeoutMs, `namespace ${namespace}`);
}

function deadlineError(opts: HealthWaitOptions, timeoutMs: number, last: string): AppError {
  const where = opts.address ? ` at ${opts.address}` : '';
  return new AppError(
    'TEMPORAL_UNAVAILABLE',
    `Temporal${where} is not healthy after ${Math.round(timeoutMs / 1000)} s (namespace ${opts.namespace}): ${last}` + (opts.hint ? `; ${opts.hint}` : ''),
    { details: { address: opts.address, namespace: opts.namespace } },
  );
}

async function retrying<T>(opts: HealthWaitOptions, attempt: () => Promise<T>): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
  const started = Date.now();
  const deadline = started + timeoutMs;
  let delay = FIRST_DELAY_MS;
  let tries = 0;
  for (;;) {
    tries += 1;
    try {
      const out = await attempt();
      if (tries > 1) opts.logger?.info('temporal: frontend healthy', { address: opts.address, namespace: opts.namespace, waitedMs: Date.now() - started });
      return out;
    } catch (err) {
      const last = describe(err);
      if (tries === 1) opts.logger?.info('temporal: waiting for the frontend to become healthy', { address: opts.address, namespace: opts.namespace, reason: last });
      if (opts.signal?.aborted) throw new AppError('TEMPORAL_UNAVAILABLE', `stopped waiting for Temporal: ${describe(opts.signal.reason)}`, { cause: err });
      const left = deadline - Date.now();
      if (left <= 0) throw deadlineError(opts, timeoutMs, last);
      await sleep(Math.min(delay, left), opts.signal);
      delay = Math.min(MAX_DELAY_MS, Math.round(delay * 1.6));
    }
  }
}

/**
 * Resolves once Temporal serves `namespace` through this connection, retrying with backoff; after
 * `timeoutMs` it throws AppError TEMPORAL_UNAVAILABLE with the last reason.
 */
export async function waitForTemporalHealthy(connection: TemporalServices, opts: HealthWaitOptions): Promise<void> {
  const probeTimeoutMs = opts.probeTimeoutMs ?? 5_000;
  await retrying(opts, () => probe(connection, opts.namespace, probeTimeoutMs));
}

/**
 * Connects and waits for health within one deadline: a frontend that is not listening yet (a worker
 * started before its cluster) is retried like one that is not serving yet.
 */
export async function connectWhenHealthy<C extends TemporalServices & { close(): Promise<void> }>(
  connect: () => Promise<C>,
  opts: HealthWaitOptions,
): Promise<C> {
  const probeTimeoutMs = opts.probeTimeoutMs ?? 5_000;
  let connection: C | undefined;
  try {
    return await retrying(opts, async () => {
      connection ??= await connect();
      await probe(connection, opts.namespace, probeTimeoutMs);
      return connection;
    });
  } catch (err) {
    await connection?.close().catch(() => undefined);
    throw err;
  }
}
