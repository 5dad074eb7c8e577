import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import type { Logger } from '../obs/logger.js';
import { startWorkerProcess, type WorkerKind } from '../temporal/worker-process.js';

/**
 * `srag worker ingest|embed`: one worker in the foreground, for hosts that run workers apart from the
 * API (GPU hosts run `embed`). SIGINT/SIGTERM drain it: in-flight activities finish first.
 */
export async function runWorker(config: Config, kind: string | undefined, env: Record<string, string | undefined>, logger: Logger, out: (line: string) => void): Promise<number> {
  if (kind !== 'ingest' && kind !== 'embed') throw new AppError('INVALID_INPUT', 'srag worker needs a kind: ingest or embed');
  if (!config.temporal.address) throw new AppError('INVALID_INPUT', 'srag worker needs TEMPORAL_ADDRESS (srag up starts a local server with its own workers)');
  const worker = await startWorkerProcess(kind as WorkerKind, env, logger, 600_000);
  out(`srag ${kind} worker is up (metrics http://${config.metrics.host}:${worker.metricsPort ?? '?'}/metrics)`);
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= worker.stop());
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop());
  await worker.exited;
  await stopping;
  return stopping ? 0 : 1;
}
