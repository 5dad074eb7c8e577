import { executeChild, proxyActivities } from '@temporalio/workflow';
import type { IngestActivities } from '../../activities/types.js';
import type { JobProgress, PipelineRef } from '../../src/domain/ingest.js';
import type { RebuildPlan } from '../../src/ingest/rebuild.js';
import { ingestCorpus } from '../ingest-corpus.js';

/** Activities every lifecycle workflow uses on the ingest task queue. */
export const lifecycleActivities = proxyActivities<IngestActivities>({
  startToCloseTimeout: '2 hours',
  retry: { initialInterval: '2s', maximumInterval: '1 minute', maximumAttempts: 5 },
});

/**
 * Re-ingests catalog records (a plan written by planRebuild or planCatchUp) into a pipeline's collection
 * as a child job: each source carries its record's own ACL, owner and PII policy, applied by an admin
 * principal named after the workflow that asks (`rebuild`, `restore`, `rollout`).
 */
export async function ingestFromStore(opts: {
  workflowId: string;
  jobId: string;
  plan: RebuildPlan;
  pipeline: PipelineRef;
  by: string;
  concurrency: number;
  embedTaskQueue: string;
}): Promise<JobProgress> {
  return executeChild(ingestCorpus, {
    workflowId: opts.workflowId,
    args: [
      {
        jobId: opts.jobId,
        manifestKey: opts.plan.manifestKey,
        sourceCount: opts.plan.sources,
        acl: [],
        policy: { owner: { user: opts.by, groups: [], admin: true }, replaceAcl: true, pii: 'off' },
        pipeline: opts.pipeline,
        concurrency: opts.concurrency,
        embedTaskQueue: opts.embedTaskQueue,
      },
    ],
  });
}
