import { createServer } from 'node:net';
import { DefaultLogger, Runtime } from '@temporalio/worker';

/** A port free on loopback right now (the system picks it). */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolvePort(port));
    });
  });
}

/**
 * Installs the Temporal SDK runtime of a worker process with its Prometheus exporter on a private
 * loopback port, and returns a function that reads it: the worker's own /metrics appends those series
 * (task slots, poll and schedule-to-start latencies, workflow and activity outcomes), so each process
 * has one scrape target. Counters end in `_total` and durations are in seconds, as Prometheus expects.
 */
export async function installWorkerRuntime(sdkLogLevel: 'ERROR' | 'WARN' = 'ERROR'): Promise<() => Promise<string>> {
  const port = await freeLoopbackPort();
  Runtime.install({
    logger: new DefaultLogger(sdkLogLevel),
    telemetryOptions: {
      metrics: {
        prometheus: { bindAddress: `127.0.0.1:${port}`, countersTotalSuffix: true, useSecondsForDurations: true },
      },
    },
  });
  return async () => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`SDK metrics exporter answered ${res.status}`);
    return res.text();
  };
}
