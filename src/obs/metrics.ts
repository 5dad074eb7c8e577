import { statfs } from 'node:fs/promises';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Metric names are a contract: deploy/prometheus/rules and deploy/grafana/dashboards use them, and
 * test/integration/metrics.test.ts scrapes every process to prove each name they use exists.
 */
export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  queryStage: Histogram<'stage'>;
  audited: Counter<'route'>;
  authFailures: Counter;
  rateLimited: Counter<'budget'>;
  answerFallbacks: Counter<'reason'>;
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
    answerFallbacks: new Counter({
      name: 'srag_answer_fallbacks_total',
      help: 'Answers that fell back to extraction (the model failed, was unreachable or its answer failed verification)',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}

/** What the lifecycle gauges read at scrape time (drills and snapshots run in a worker; their outcome is in the store). */
export interface LifecycleMetricsSource {
  drills(): Promise<{ latest?: { finishedAt: string; passed: boolean; rtoSeconds: number; rpoSeconds: number }; lastSuccess?: { finishedAt: string } }>;
  /** When the newest snapshot in the backup location was taken (copies there are verified on arrival). */
  lastVerifiedSnapshot?(): Promise<string | undefined>;
}

/** `run` at most once per `ttlMs`; concurrent callers share the pending result. */
export function cachedFor<T>(run: () => Promise<T>, ttlMs: number): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    const now = Date.now();
    if (!last || now - last.at > ttlMs) last = { at: now, value: run() };
    return last.value;
  };
}

/**
 * Callers that overlap share one pending `run`; once it settles the next call runs again. A scrape
 * collects its gauges concurrently, so gauges fed by one source read it once per scrape, never stale.
 */
export function sharedWhilePending<T>(run: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () =>
    (pending ??= run().finally(() => {
      pending = undefined;
    }));
}

/** A gauge whose value is read when Prometheus scrapes; a failing read reports `fallback`. */
export function scrapeGauge(registry: Registry, name: string, help: string, read: () => Promise<number>, fallback = 0): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    async collect() {
      this.set(await read().catch(() => fallback));
    },
  });
}

const seconds = (iso?: string) => (iso ? Date.parse(iso) / 1000 : 0);

/**
 * Lifecycle gauges, read from the store at each scrape: the last successful drill's time (alert when
 * it is too old), the RTO and RPO it measured, whether the latest drill passed, and when the newest
 * verified backup was taken.
 */
export function registerLifecycleMetrics(registry: Registry, source: LifecycleMetricsSource): void {
  const drills = sharedWhilePending(() => source.drills());
  scrapeGauge(registry, 'srag_restore_drill_last_success_timestamp_seconds', 'When the last restore drill that passed finished (0: none yet)', async () =>
    seconds((await drills()).lastSuccess?.finishedAt),
  );
  scrapeGauge(registry, 'srag_restore_drill_last_run_timestamp_seconds', 'When the latest restore drill finished, passed or not (0: none yet)', async () =>
    seconds((await drills()).latest?.finishedAt),
  );
  scrapeGauge(registry, 'srag_restore_drill_rto_seconds', 'Restore time measured by the latest restore drill', async () => (await drills()).latest?.rtoSeconds ?? 0);
  scrapeGauge(registry, 'srag_restore_drill_rpo_seconds', 'Age of the snapshot the latest restore drill restored', async () => (await drills()).latest?.rpoSeconds ?? 0);
  scrapeGauge(registry, 'srag_restore_drill_last_passed', '1 when the latest restore drill passed, 0 when it failed or none ran', async () =>
    (await drills()).latest?.passed ? 1 : 0,
  );
  const lastSnapshot = source.lastVerifiedSnapshot;
  if (lastSnapshot) {
    scrapeGauge(registry, 'srag_snapshot_last_verified_timestamp_seconds', 'When the newest snapshot in the backup location was taken (0: none yet)', async () =>
      seconds(await lastSnapshot()),
    );
  }
}

/**
 * Free and total bytes of the filesystems that hold the data dir and the backups, at scrape time:
 * "disk nearly full" is an alert on srag's own series, with no node exporter needed.
 */
export function registerDiskMetrics(registry: Registry, dirs: Record<string, string>): void {
  const read = async (dir: string) => {
    const s = await statfs(dir);
    return { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
  };
  const gauge = (name: string, help: string, pick: (s: { free: number; total: number }) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['volume'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const [volume, dir] of Object.entries(dirs)) {
          const s = await read(dir).catch(() => undefined);
          if (s) this.set({ volume }, pick(s));
        }
      },
    });
  gauge('srag_volume_free_bytes', 'Bytes available to srag on the filesystem of a volume (data, backup)', (s) => s.free);
  gauge('srag_volume_size_bytes', 'Size of the filesystem of a volume (data, backup)', (s) => s.total);
}
