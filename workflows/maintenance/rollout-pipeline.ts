import { ApplicationFailure, condition, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { gateVerdict, msUntilWindow, type GateTolerance, type PatchWindow, type RolloutPhase, type RolloutState } from '../../src/domain/rollout.js';
import { rootMessage } from '../../src/domain/failures.js';
import { SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes.js';
import type { PipelineRecord } from '../../src/store/pipelines.js';
import type { GateEvalSet } from '../../src/services/rollout.js';
import { rolloutDecisionUpdate, rolloutRollbackUpdate, rolloutStatusQuery } from '../definitions.js';
import { ingestFromStore, lifecycleActivities as act } from './ingest-from-store.js';

export interface RolloutInput {
  rolloutId: string;
  /** The new pipeline: model, chunk settings or parser version, with where its model lives. */
  candidate: PipelineRecord;
  gate: { evalSet: GateEvalSet; tolerance: GateTolerance };
  /** Wait for `approve` (or `abort`) before switching. */
  approval?: boolean;
  /** How long the previous collection is kept (and rollback offered) after the switch; default 0. */
  graceSeconds?: number;
  /** Switch only inside this window (UTC); the rollout waits for it after the gate (and approval). */
  window?: PatchWindow;
  /** Fail the post-switch check on purpose, to rehearse the automatic rollback. */
  rehearseRollback?: boolean;
  embedTaskQueue: string;
  concurrency: number;
}

/**
 * A patch rollout: build the candidate collection from the store (new ingests write to it meanwhile),
 * gate it on an evaluation against the served collection, switch the alias atomically only if it is not
 * worse beyond the tolerance (optionally after a human approves), check the switch, and roll back on
 * failure. The previous collection stays live (it receives new documents) through the grace period, so
 * a rollback loses nothing; then it is dropped.
 */
export async function rolloutPipeline(input: RolloutInput): Promise<RolloutState> {
  const candidate = input.candidate.ref;
  const state: RolloutState = { rolloutId: input.rolloutId, phase: 'building', candidate };
  let decision: 'approve' | 'abort' | undefined;
  let rollbackRequested = false;
  setHandler(rolloutStatusQuery, () => state);
  setHandler(
    rolloutDecisionUpdate,
    async (choice) => {
      decision = choice;
      await condition(() => state.phase !== 'awaiting_approval' && state.phase !== 'awaiting_window');
      return state.phase;
    },
    {
      validator: (choice: 'approve' | 'abort') => {
        if (choice !== 'approve' && choice !== 'abort') fail('the decision is approve or abort');
        if (state.phase === 'awaiting_window' && choice === 'abort') return;
        if (state.phase !== 'awaiting_approval') fail(`the rollout is not waiting for approval (phase ${state.phase})`);
      },
    },
  );
  setHandler(
    rolloutRollbackUpdate,
    async () => {
      rollbackRequested = true;
      await condition(() => state.phase !== 'serving');
      return state.phase;
    },
    {
      validator: () => {
        if (state.phase !== 'serving') fail(`a rollback is possible only while the previous collection is kept (grace period); phase ${state.phase}`);
      },
    },
  );
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.kind, value: 'rolloutPipeline' },
    { key: SEARCH_ATTRIBUTES.collection, value: candidate.collection },
    { key: SEARCH_ATTRIBUTES.pipeline, value: candidate.version },
  ]);
  const end = (phase: RolloutPhase, note?: string): RolloutState => {
    state.phase = phase;
    if (note) state.note = note;
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.outcome, value: phase }]);
    return state;
  };

  // 1. Build from the store. The candidate is marked as being built first: jobs submitted from now on
  //    write to it; a catch-up pass picks up documents from jobs that started before the mark.
  const { served } = await act.prepareCandidate({ candidate: input.candidate });
  state.served = served;
  const build = { documents: 0, done: 0, failed: 0, chunks: 0 };
  for (const [pass, plan] of [
    ['build', await act.planRebuild({ jobId: `${input.rolloutId}` })],
    ['catch-up', undefined],
  ] as const) {
    const p = plan ?? (await act.planCatchUp({ jobId: `${input.rolloutId}_catchup`, collection: candidate.collection }));
    if (p.sources === 0) continue;
    const job = await ingestFromStore({
      workflowId: `${workflowInfo().workflowId}/${pass}`,
      jobId: pass === 'build' ? input.rolloutId : `${input.rolloutId}_catchup`,
      plan: p,
      pipeline: candidate,
      by: 'rollout',
      concurrency: input.concurrency,
      embedTaskQueue: input.embedTaskQueue,
    });
    build.documents += p.documents;
    build.done += job.documents.done + job.documents.skipped;
    build.failed += job.documents.failed;
    build.chunks += job.chunks;
    state.build = { ...build };
  }

  // 2. The gate: the same eval set on the served collection and on the candidate, each with its own model.
  state.phase = 'gating';
  const servedScores = await act.evaluateForGate({ pipeline: served, evalSet: input.gate.evalSet });
  const candidateScores = await act.evaluateForGate({ pipeline: candidate, evalSet: input.gate.evalSet });
  const verdict = gateVerdict(servedScores, candidateScores, input.gate.tolerance);
  state.gate = { served: servedScores, candidate: candidateScores, ...verdict };
  if (!verdict.pass || build.failed > 0) {
    await act.setBuilding({ collection: candidate.collection, building: false });
    return end('rejected', build.failed > 0 ? `${build.failed} documents failed to build` : `the candidate is worse than the served collection: ${verdict.reason}`);
  }

  // 3. Optional human approval.
  if (input.approval) {
    state.phase = 'awaiting_approval';
    await condition(() => decision !== undefined);
    if (decision === 'abort') {
      await act.setBuilding({ collection: candidate.collection, building: false });
      return end('aborted', 'aborted before the switch');
    }
  }

  // 4. Inside the patch window only; then switch atomically. The previous collection stays live
  //    (receives new documents) until the grace ends.
  if (input.window) {
    const wait = msUntilWindow(input.window, new Date());
    if (wait > 0) {
      state.phase = 'awaiting_window';
      state.windowOpens = new Date(Date.now() + wait).toISOString();
      // Abort stays possible while waiting.
      await condition(() => decision === 'abort', wait);
      if (decision === 'abort') {
        await act.setBuilding({ collection: candidate.collection, building: false });
        return end('aborted', 'aborted while waiting for the patch window');
      }
    }
  }
  state.phase = 'switching';
  const { previous } = await act.switchAlias({ to: candidate.collection });
  state.previous = previous;
  if (previous) await act.setBuilding({ collection: previous, building: true });
  await act.setBuilding({ collection: candidate.collection, building: false });

  // 5. Check, and compensate on failure.
  state.phase = 'checking';
  const rollBack = async (why: string) => {
    if (previous) {
      await act.switchAlias({ to: previous });
      await act.setBuilding({ collection: previous, building: false });
    }
    return end('rolled_back', why);
  };
  try {
    await act.postSwitchCheck({ pipeline: candidate, evalSet: input.gate.evalSet, rehearse: input.rehearseRollback });
  } catch (err) {
    await rollBack(`post-switch check failed, switched back to ${previous}: ${rootMessage(err)}`);
    throw ApplicationFailure.nonRetryable(state.note ?? 'rolled back', 'ROLLED_BACK');
  }

  // 6. Grace: the previous collection is kept, rollback offered; then it is dropped.
  state.phase = 'serving';
  const graceMs = (input.graceSeconds ?? 0) * 1000;
  state.graceUntil = new Date(Date.now() + graceMs).toISOString();
  const asked = graceMs > 0 ? await condition(() => rollbackRequested, graceMs) : false;
  if (asked) return rollBack(`rolled back on request during the grace period, serving ${previous} again`);
  if (previous) {
    await act.setBuilding({ collection: previous, building: false });
    await act.dropCollection({ collection: previous });
  }
  return end('done');
}

function fail(message: string): never {
  throw new Error(message);
}

