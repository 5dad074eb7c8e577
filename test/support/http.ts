import type { Config } from '../../src/config.js';
import { createMetrics } from '../../src/obs/metrics.js';
import { openIndex, openStore } from '../../src/runtime.js';
import { startApi } from '../../src/http/server.js';
import type { JobProgress } from '../../src/domain/ingest.js';
import type { Stack } from './stack.js';

export { createMetrics };

/** The real API over a stack (read-only index, real model, real Temporal). */
export async function startStackApi(stack: Stack, config: Config = stack.config): Promise<{ url: string; close: () => Promise<void> }> {
  const index = await openIndex(config, { readOnly: true, logger: stack.logger });
  const { url, close } = await startApi({
    config,
    client: stack.client,
    store: openStore(config),
    index,
    embedder: stack.embedder,
    pipeline: stack.pipeline,
    logger: stack.logger,
  });
  return {
    url,
    close: async () => {
      await close();
      await index.close();
    },
  };
}

export async function postJson<T = unknown>(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as T };
}

export async function waitForJob(
  url: string,
  jobId: string,
  until: (p: JobProgress) => boolean = (p) => p.status !== 'running',
  timeoutMs = 600_000,
  headers: Record<string, string> = {},
): Promise<JobProgress> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${url}/v1/jobs/${jobId}`, { headers });
    if (res.ok) {
      const p = (await res.json()) as JobProgress;
      if (until(p)) return p;
    }
    if (Date.now() > deadline) throw new Error(`job ${jobId} did not reach the expected state in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
