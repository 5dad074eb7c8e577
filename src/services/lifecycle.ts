import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type ScheduleOptions,
} from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import { restoreDrill, type RestoreDrillInput } from '../../workflows/maintenance/restore-drill.js';
import { restoreIndex } from '../../workflows/maintenance/restore-index.js';
import { snapshotIndex, type SnapshotIndexInput, type SnapshotIndexResult } from '../../workflows/maintenance/snapshot-index.js';
import { rolloutPipeline, type RolloutInput } from '../../workflows/maintenance/rollout-pipeline.js';
import { rolloutDecisionUpdate, rolloutRollbackUpdate, rolloutStatusQuery } from '../../workflows/definitions.js';
import type { RolloutState } from '../domain/rollout.js';
import type { DrillReport, RestoreReport } from '../domain/snapshots.js';
import { rootMessage } from '../domain/failures.js';
import { SEARCH_ATTRIBUTES, type LifecycleKind } from '../domain/search-attributes.js';
import { AppError } from '../errors.js';
import type { Logger } from '../obs/logger.js';

/**
 * Starting the lifecycle workflows (snapshotIndex, restoreDrill) now or on Temporal Schedules. Used by
 * `srag up` (schedules created idempotently from config), the CLI and the tests alike.
 */
export interface LifecycleDeps {
  client: Client;
  taskQueue: string;
  /** The served alias (collection prefix): schedule and workflow ids carry it, so two deployments sharing a namespace do not collide. */
  alias: string;
}

export type ScheduleKind = 'snapshot' | 'drill';

const WORKFLOW: Record<ScheduleKind | 'restore' | 'rollout', LifecycleKind> = { snapshot: 'snapshotIndex', drill: 'restoreDrill', restore: 'restoreIndex', rollout: 'rolloutPipeline' };

export function scheduleIdFor(alias: string, kind: ScheduleKind | 'restore'): string {
  return `srag-${alias}-${kind}`;
}

/** `30s`, `90m`, `24h`, `7d` in seconds; INVALID_INPUT otherwise. */
export function durationSeconds(text: string, what = 'interval'): number {
  const m = /^(\d+)([smhd])$/.exec(text);
  if (!m) throw new AppError('INVALID_INPUT', `not an ${what}: ${text} (use e.g. 24h, 90m, 7d)`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

/** `24h`, `90m`, `30s`, `7d` as Temporal's duration strings (days become hours). */
export function intervalOf(every: string): string {
  const seconds = durationSeconds(every);
  if (seconds < 1) throw new AppError('INVALID_INPUT', `not an interval: ${every} (use e.g. 24h, 90m, 7d)`);
  return every.endsWith('d') ? `${seconds / 3600}h` : every;
}

/** The workflow functions themselves: started by reference, so their arguments are type-checked here. */
const FUNCTIONS = { snapshot: snapshotIndex, drill: restoreDrill, restore: restoreIndex } as const;

/** Runs a workflow now and waits for its result; a failed run is an AppError carrying the root cause. */
async function runNow<K extends keyof typeof FUNCTIONS>(
  deps: LifecycleDeps,
  kind: K,
  args: Parameters<(typeof FUNCTIONS)[K]>,
  now: Date,
): Promise<{ workflowId: string; result: Awaited<ReturnType<(typeof FUNCTIONS)[K]>> }> {
  const workflowId = `${scheduleIdFor(deps.alias, kind)}-manual-${now.toISOString().replace(/[-:.]/g, '')}`;
  const handle = await deps.client.workflow.start(FUNCTIONS[kind] as (...a: unknown[]) => Promise<unknown>, {
    workflowId,
    taskQueue: deps.taskQueue,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    args,
    typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.kind, value: WORKFLOW[kind] }],
  });
  try {
    return { workflowId, result: (await handle.result()) as Awaited<ReturnType<(typeof FUNCTIONS)[K]>> };
  } catch (err) {
    if (err instanceof WorkflowFailedError) {
      throw new AppError('INTERNAL', `${WORKFLOW[kind]} failed: ${rootMessage(err)} (workflow ${workflowId})`, { cause: err, details: { workflowId } });
    }
    throw err;
  }
}

/** The collection a restore creates: the snapshot's collection with a time suffix (an earlier suffix replaced). */
export function restoredCollectionName(collection: string, now: Date): string {
  return `${collection.replace(/_r\d{14}$/, '')}_r${now.toISOString().replace(/[-:TZ.]/g, '').slice(0, 14)}`;
}

export function restoreNow(deps: LifecycleDeps & { embedTaskQueue: string; concurrency: number }, snapshotId: string, collection: string, now = new Date()) {
  return runNow(deps, 'restore', [{ snapshotId, collection, embedTaskQueue: deps.embedTaskQueue, concurrency: deps.concurrency }], now);
}

export function snapshotNow(deps: LifecycleDeps, input: SnapshotIndexInput = {}, now = new Date()) {
  return runNow(deps, 'snapshot', [input], now);
}

export function drillNow(deps: LifecycleDeps, input: RestoreDrillInput = {}, now = new Date()) {
  return runNow(deps, 'drill', [input], now);
}

function scheduleOptions(deps: LifecycleDeps, kind: ScheduleKind, every: string): ScheduleOptions {
  return {
    scheduleId: scheduleIdFor(deps.alias, kind),
    // A five-field cron expression (`0 3 * * *`, UTC) or an interval (`24h`).
    spec: /\s/.test(every.trim()) ? { cronExpressions: [every.trim()] } : { intervals: [{ every: intervalOf(every) }] },
    action: {
      type: 'startWorkflow',
      workflowType: FUNCTIONS[kind] as (...a: unknown[]) => Promise<unknown>,
      args: [{}],
      taskQueue: deps.taskQueue,
      workflowId: scheduleIdFor(deps.alias, kind),
      typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.kind, value: WORKFLOW[kind] }],
    },
    policies: {
      // One at a time; a run missed while the cluster was down is taken within a day, not replayed for weeks.
      overlap: 'SKIP',
      catchupWindow: '1 day',
      // A failed snapshot or drill pauses its schedule: someone must look, and the pause note says why.
      pauseOnFailure: true,
    },
  };
}

/**
 * Creates the snapshot and drill schedules from config, or brings existing ones to the configured
 * interval; an interval of undefined (`off`) deletes that schedule. Idempotent: `srag up` calls it at
 * every start. A schedule paused by an operator or by a failure stays paused.
 */
export async function ensureSchedules(deps: LifecycleDeps, every: Partial<Record<ScheduleKind, string>>, logger: Logger): Promise<void> {
  for (const kind of ['snapshot', 'drill'] as const) {
    const id = scheduleIdFor(deps.alias, kind);
    const interval = every[kind];
    if (!interval) {
      await deps.client.schedule
        .getHandle(id)
        .delete()
        .catch((err: unknown) => {
          if (!(err instanceof ScheduleNotFoundError)) throw err;
        });
      continue;
    }
    const options = scheduleOptions(deps, kind, interval);
    try {
      await deps.client.schedule.create(options);
      logger.info('lifecycle: schedule created', { scheduleId: id, every: interval });
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      await deps.client.schedule.getHandle(id).update((current) => ({ ...current, spec: options.spec, action: options.action }));
      logger.debug('lifecycle: schedule kept, interval brought to config', { scheduleId: id, every: interval });
    }
  }
}

/**
 * Registers srag's search attributes on a cluster that lacks them (the local dev server gets them at
 * start). Idempotent: attributes already there are left alone.
 */
export async function ensureSearchAttributes(client: Client, namespace: string, logger: Logger): Promise<void> {
  const KEYWORD = 2; // temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
  const existing = await client.connection.operatorService.listSearchAttributes({ namespace });
  const missing = Object.values(SEARCH_ATTRIBUTES).filter((k) => !(k.name in (existing.customAttributes ?? {})));
  if (missing.length === 0) return;
  await client.connection.operatorService.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(missing.map((k) => [k.name, KEYWORD])) });
  logger.info('lifecycle: search attributes registered', { names: missing.map((k) => k.name) });
}

export interface ScheduleSummary {
  kind: ScheduleKind;
  scheduleId: string;
  every?: string;
  paused: boolean;
  note?: string;
  nextRun?: string;
  lastRun?: { workflowId: string; startedAt: string };
}

export async function listSchedules(deps: LifecycleDeps): Promise<ScheduleSummary[]> {
  const out: ScheduleSummary[] = [];
  for (const kind of ['snapshot', 'drill'] as const) {
    const scheduleId = scheduleIdFor(deps.alias, kind);
    try {
      const d = await deps.client.schedule.getHandle(scheduleId).describe();
      const interval = d.spec.intervals?.[0]?.every;
      const cron = d.spec.calendars?.length ? 'calendar' : undefined;
      const last = d.info.recentActions.at(-1);
      out.push({
        kind,
        scheduleId,
        every: interval === undefined ? cron : `${Math.round(Number(interval) / 1000)}s`,
        paused: d.state.paused,
        note: d.state.note,
        nextRun: d.info.nextActionTimes[0]?.toISOString(),
        lastRun: last && 'workflow' in last.action ? { workflowId: last.action.workflow.workflowId, startedAt: last.takenAt.toISOString() } : undefined,
      });
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
  }
  return out;
}

export async function steerSchedule(deps: LifecycleDeps, kind: ScheduleKind, action: 'pause' | 'resume' | 'trigger'): Promise<void> {
  const handle = deps.client.schedule.getHandle(scheduleIdFor(deps.alias, kind));
  try {
    if (action === 'pause') await handle.pause('paused with srag schedules pause');
    else if (action === 'resume') await handle.unpause('resumed with srag schedules resume');
    else await handle.trigger();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new AppError('NOT_FOUND', `no ${kind} schedule (is it set to off, or has srag up not run yet?)`);
    throw err;
  }
}

/** One rollout at a time per served alias. */
export function rolloutWorkflowId(alias: string): string {
  return `srag-${alias}-rollout`;
}

/** Starts a rollout (refused while another runs for the same alias); returns its workflow id. */
export async function startRollout(deps: LifecycleDeps, input: Omit<RolloutInput, 'rolloutId'>, now = new Date()): Promise<{ workflowId: string; rolloutId: string }> {
  const workflowId = rolloutWorkflowId(deps.alias);
  const rolloutId = `rollout_${input.candidate.ref.version}_${now.toISOString().replace(/[-:TZ.]/g, '').slice(0, 14)}`;
  try {
    await deps.client.workflow.start(rolloutPipeline, {
      workflowId,
      taskQueue: deps.taskQueue,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      args: [{ ...input, rolloutId }],
      typedSearchAttributes: [
        { key: SEARCH_ATTRIBUTES.kind, value: WORKFLOW.rollout },
        { key: SEARCH_ATTRIBUTES.pipeline, value: input.candidate.ref.version },
      ],
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new AppError('INVALID_INPUT', `a rollout is already running (workflow ${workflowId}): srag rollout status`);
    }
    throw err;
  }
  return { workflowId, rolloutId };
}

export async function rolloutStatus(deps: LifecycleDeps): Promise<{ status: string; state?: RolloutState; failure?: string }> {
  const handle = deps.client.workflow.getHandle(rolloutWorkflowId(deps.alias));
  let description;
  try {
    description = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new AppError('NOT_FOUND', 'no rollout has run for this deployment');
    throw err;
  }
  const status = description.status.name.toLowerCase();
  if (status === 'completed') return { status, state: (await handle.result()) as RolloutState };
  if (status === 'running') return { status, state: await handle.query(rolloutStatusQuery) };
  let failure: string | undefined;
  try {
    await handle.result();
  } catch (err) {
    failure = rootMessage(err);
  }
  return { status, failure };
}

/** Waits for a rollout to end; a failed one (rolled back) is an AppError with its reason. */
export async function waitForRollout(deps: LifecycleDeps): Promise<RolloutState> {
  try {
    return (await deps.client.workflow.getHandle(rolloutWorkflowId(deps.alias)).result()) as RolloutState;
  } catch (err) {
    if (err instanceof WorkflowFailedError) throw new AppError('INTERNAL', `rollout failed: ${rootMessage(err)}`, { cause: err });
    throw err;
  }
}

export async function decideRollout(deps: LifecycleDeps, choice: 'approve' | 'abort' | 'rollback'): Promise<string> {
  const handle = deps.client.workflow.getHandle(rolloutWorkflowId(deps.alias));
  try {
    return choice === 'rollback' ? await handle.executeUpdate(rolloutRollbackUpdate) : await handle.executeUpdate(rolloutDecisionUpdate, { args: [choice] });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      const cause = err.cause instanceof Error ? err.cause.message : err.message;
      throw new AppError('INVALID_INPUT', `cannot ${choice}: ${cause}`);
    }
    if (err instanceof WorkflowNotFoundError) throw new AppError('NOT_FOUND', 'no rollout is running');
    throw err;
  }
}
