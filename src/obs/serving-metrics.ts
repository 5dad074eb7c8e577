import { Gauge, type Counter, type Registry } from 'prom-client';
import type { Client } from '@temporalio/client';
import type { Answerer } from '../generate/answer.js';
import type { GeneratedAnswer } from '../generate/port.js';
import { sharedWhilePending } from './metrics.js';

// Temporal API enum values (temporal.api.enums.v1): TaskQueueKind NORMAL, TaskQueueType ACTIVITY.
const TASK_QUEUE_KIND_NORMAL = 1;
const TASK_QUEUE_TYPE_ACTIVITY = 2;

export interface QueueStats {
  backlog: number;
  pollers: number;
}

/** Backlog and pollers of one task queue's activity side, from Temporal (`reportStats`). */
export function temporalQueueStats(client: Client, namespace: string): (queue: string) => Promise<QueueStats> {
  return async (queue) => {
    const res = await client.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: queue, kind: TASK_QUEUE_KIND_NORMAL },
      taskQueueType: TASK_QUEUE_TYPE_ACTIVITY,
      reportStats: true,
    });
    return { backlog: Number(res.stats?.approximateBacklogCount ?? 0), pollers: res.pollers?.length ?? 0 };
  };
}

/**
 * Gauges the API reads when Prometheus scrapes: points in the served collection, and for each task
 * queue (ingest, embed) the activity backlog and how many workers poll it (0 pollers: a worker is down).
 */
export function registerServingMetrics(
  registry: Registry,
  source: { points: () => Promise<{ collection: string; points: number }>; queues: Record<string, string>; queueStats: (queue: string) => Promise<QueueStats> },
): void {
  new Gauge({
    name: 'srag_index_points',
    help: 'Points (chunks) in the collection the alias serves',
    labelNames: ['collection'],
    registers: [registry],
    async collect() {
      this.reset();
      const p = await source.points().catch(() => undefined);
      if (p) this.set({ collection: p.collection }, p.points);
    },
  });
  // Backlog and pollers come from one DescribeTaskQueue per queue and scrape.
  const stats = sharedWhilePending(() =>
    Promise.all(Object.entries(source.queues).map(async ([role, queue]) => ({ role, queue, stats: await source.queueStats(queue).catch(() => undefined) }))),
  );
  const queueGauge = (name: string, help: string, pick: (s: QueueStats) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['role', 'queue'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const { role, queue, stats: s } of await stats()) if (s) this.set({ role, queue }, pick(s));
      },
    });
  queueGauge('srag_task_queue_backlog', 'Activity tasks waiting in a task queue (approximate, from Temporal)', (s) => s.backlog);
  queueGauge('srag_task_queue_pollers', 'Workers polling a task queue for activities (0: no worker serves it)', (s) => s.pollers);
}

/** The answerer, counting every answer that fell back to extraction, by reason. */
export function countingFallbacks(answerer: Answerer, fallbacks: Counter<'reason'>): Answerer {
  const note = (a: GeneratedAnswer) => {
    if (a.fallbackReason) fallbacks.inc({ reason: a.fallbackReason });
  };
  return {
    async answer(input, signal) {
      const a = await answerer.answer(input, signal);
      note(a);
      return a;
    },
    async *stream(input, signal) {
      for await (const event of answerer.stream(input, signal)) {
        if (event.type === 'done') note(event.answer);
        yield event;
      }
    },
  };
}

/** Phases a rollout reports (src/domain/rollout.ts), plus `failed` (the workflow failed) and `none`. */
export const ROLLOUT_PHASES = [
  'none',
  'building',
  'gating',
  'awaiting_approval',
  'awaiting_window',
  'switching',
  'checking',
  'serving',
  'rejected',
  'aborted',
  'rolled_back',
  'done',
  'failed',
] as const;

/**
 * `srag_rollout_phase{phase}`: 1 for the phase of this deployment's latest rollout (asked of Temporal at
 * scrape time, so it is right whichever worker runs the rollout), 0 for the others.
 */
export function registerRolloutMetrics(registry: Registry, phase: () => Promise<string>, timeoutMs = 3000): void {
  new Gauge({
    name: 'srag_rollout_phase',
    help: "1 for the phase of the latest rollout (none: never ran; failed: its workflow failed), 0 for the others",
    labelNames: ['phase'],
    registers: [registry],
    async collect() {
      this.reset();
      let timer: NodeJS.Timeout | undefined;
      const current = await Promise.race([
        phase().catch(() => undefined),
        new Promise<undefined>((r) => {
          timer = setTimeout(() => r(undefined), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      // Unknown (Temporal unreachable, the query timed out): no series rather than a wrong one.
      if (current === undefined) return;
      for (const p of ROLLOUT_PHASES) this.set({ phase: p }, p === current ? 1 : 0);
    },
  });
}

/** `srag_ready{check}`: the API's readiness checks (Temporal, index, model, pipeline, workers) as 1/0. */
export function registerReadinessMetrics(registry: Registry, checks: () => Promise<Record<string, { ok: boolean }>>): void {
  new Gauge({
    name: 'srag_ready',
    help: 'Readiness checks of the API (temporal, index, model, pipeline; workers under srag up): 1 ok, 0 failing',
    labelNames: ['check'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [check, c] of Object.entries(await checks().catch(() => ({})))) this.set({ check }, c.ok ? 1 : 0);
    },
  });
}
