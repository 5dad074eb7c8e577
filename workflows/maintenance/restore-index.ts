import { upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { RestoreReport } from '../../src/domain/snapshots.js';
import { SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes.js';
import { ingestFromStore, lifecycleActivities as act } from './ingest-from-store.js';

export interface RestoreIndexInput {
  snapshotId: string;
  /** The new collection (the starter names it, e.g. `<snapshot's collection>_r<time>`, so a retry restores into the same one). */
  collection: string;
  embedTaskQueue: string;
  concurrency: number;
}

/**
 * `srag restore`: a backed-up snapshot into a new collection, the alias switched to it, then a catch-up
 * from the store (the system of record): documents added after the snapshot are re-ingested into the
 * restored collection with their own ACL, owner and PII policy, so nothing the store holds is lost.
 */
export async function restoreIndex(input: RestoreIndexInput): Promise<RestoreReport> {
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.kind, value: 'restoreIndex' },
    { key: SEARCH_ATTRIBUTES.collection, value: input.collection },
  ]);
  const report = await act.restoreForServing({ snapshotId: input.snapshotId, collection: input.collection });
  const jobId = `restore_${input.collection}`;
  const plan = await act.planCatchUp({ jobId, collection: input.collection });
  if (plan.sources > 0) {
    const job = await ingestFromStore({
      workflowId: `${workflowInfo().workflowId}/catch-up`,
      jobId,
      plan,
      pipeline: report.pipeline,
      by: 'restore',
      concurrency: input.concurrency,
      embedTaskQueue: input.embedTaskQueue,
    });
    report.catchUp = { documents: plan.documents, done: job.documents.done, failed: job.documents.failed, chunks: job.chunks };
  }
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.outcome, value: 'switched' }]);
  return report;
}
