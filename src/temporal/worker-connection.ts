import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config.js';
import type { Logger } from '../obs/logger.js';
import { temporalTls } from './connection.js';
import { connectWhenHealthy } from './health.js';
import { workerLifecycle, type WorkerLifecycle } from './worker-process.js';

/**
 * What every worker process does first: take over its signals (one clean shutdown), then connect to
 * Temporal (mTLS when configured) and wait until the frontend serves the namespace — a port that
 * accepts is not enough to start polling.
 */
export async function connectWorker(config: Config, logger: Logger): Promise<{ address: string; connection: NativeConnection; lifecycle: WorkerLifecycle }> {
  const address = config.temporal.address ?? `127.0.0.1:${config.temporal.port}`;
  const tls = temporalTls(config.temporal.tls);
  const lifecycle = workerLifecycle(logger);
  const connection = await connectWhenHealthy(() => NativeConnection.connect({ address, ...(tls ? { tls } : {}) }), {
    namespace: config.temporal.namespace,
    address,
    logger,
    signal: lifecycle.signal,
  });
  return { address, connection, lifecycle };
}
