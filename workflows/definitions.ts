import { defineQuery, defineSignal, defineUpdate, type Sinks } from '@temporalio/workflow';
import type { JobOutcome } from '../src/domain/job-metrics.js';
import type { JobProgress, SourceProgress } from '../src/domain/ingest.js';
import type { RolloutPhase, RolloutState } from '../src/domain/rollout.js';

/** Live job report: documents total/done/failed, chunks, errors. */
export const progressQuery = defineQuery<JobProgress>('progress');

/** Sent by an ingestDocument child to its job while a large source (a JSONL corpus) is in flight. */
export const sourceProgressSignal = defineSignal<[SourceProgress]>('sourceProgress');

/** A rollout's state: phase, gate scores, previous collection (see RolloutState). */
export const rolloutStatusQuery = defineQuery<RolloutState>('rolloutStatus');

/** Approve or abort a rollout that waits for a human before switching; answers the resulting phase. */
export const rolloutDecisionUpdate = defineUpdate<RolloutPhase, ['approve' | 'abort']>('rolloutDecision');

/** During the grace period: switch back to the previous collection. */
export const rolloutRollbackUpdate = defineUpdate<RolloutPhase, []>('rolloutRollback');

/** Worker-side functions workflows call without history events (never during replay): metrics. */
export interface SragSinks extends Sinks {
  metrics: {
    jobFinished(origin: 'submitted' | 'store', outcome: JobOutcome): void;
  };
}
