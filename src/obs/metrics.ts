import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
