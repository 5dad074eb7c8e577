import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  queryStage: Histogram<'stage'>;
  audited: Counter<'route'>;
  authFailures: Counter;
  rateLimited: Counter<'budget'>;
}

/** One registry per app instance (no global state), Prometheus text on /metrics. */
export function createMetrics(opts: { defaults?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaults !== false) collectDefaultMetrics({ register: registry, prefix: 'srag_' });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'srag_http_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    queryStage: new Histogram({
      name: 'srag_query_stage_seconds',
      help: 'Time per query stage (embed, retrieve, generate)',
      labelNames: ['stage'],
      buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    audited: new Counter({ name: 'srag_audited_requests_total', help: 'Audited requests', labelNames: ['route'], registers: [registry] }),
    authFailures: new Counter({ name: 'srag_auth_failures_total', help: 'Requests refused for a missing or invalid credential', registers: [registry] }),
    rateLimited: new Counter({ name: 'srag_rate_limited_total', help: 'Requests refused by a rate limit', labelNames: ['budget'], registers: [registry] }),
  };
}

/** What the lifecycle gauges read at scrape time (the drill runs in a worker; its outcome is in the store). */
export interface LifecycleMetricsSource {
  drills(): Promise<{ latest?: { finishedAt: string; passed: boolean; rtoSeconds: number; rpoSeconds: number }; lastSuccess?: { finishedAt: string } }>;
}

/**
 * Restore drill gauges, read from the store at each scrape: the last successful drill's time (alert when
 * it is too old), the RTO and RPO it measured, and whether the latest drill passed.
 */
export function registerLifecycleMetrics(registry: Registry, source: LifecycleMetricsSource): void {
  const read = async () => source.drills().catch(() => ({}) as Awaited<ReturnType<LifecycleMetricsSource['drills']>>);
  const seconds = (iso?: string) => (iso ? Date.parse(iso) / 1000 : 0);
  new Gauge({
    name: 'srag_restore_drill_last_success_timestamp_seconds',
    help: 'When the last restore drill that passed finished (0: none yet)',
    registers: [registry],
    async collect() {
      this.set(seconds((await read()).lastSuccess?.finishedAt));
    },
  });
  new Gauge({
    name: 'srag_restore_drill_rto_seconds',
    help: 'Restore time measured by the latest restore drill',
    registers: [registry],
    async collect() {
      this.set((await read()).latest?.rtoSeconds ?? 0);
    },
  });
  new Gauge({
    name: 'srag_restore_drill_rpo_seconds',
    help: 'Age of the snapshot the latest restore drill restored',
    registers: [registry],
    async collect() {
      this.set((await read()).latest?.rpoSeconds ?? 0);
    },
  });
  new Gauge({
    name: 'srag_restore_drill_last_passed',
    help: '1 when the latest restore drill passed, 0 when it failed or none ran',
    registers: [registry],
    async collect() {
      this.set((await read()).latest?.passed ? 1 : 0);
    },
  });
}
