import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { EmbedActivities, IngestActivities } from '../../activities/types.js';
import type { JobProgress, PipelineRef } from '../../src/domain/ingest.js';
import { compareProbes } from '../../src/domain/probe.js';
import { ingestFromStore } from './ingest-from-store.js';

export interface RebuildInput {
  rebuildId: string;
  pipeline: PipelineRef;
  embedTaskQueue: string;
  concurrency: number;
  /** Probe vectors compared before and after (fixed chunks of the collection). */
  probes?: number;
}

export interface RebuildReport {
  rebuildId: string;
  collection: string;
  documents: number;
  sources: number;
  before: { points: number; idsDigest: string } | null;
  after: { points: number; idsDigest: string };
  idsIdentical: boolean;
  probes: number;
  top10Identical: number;
  job: Pick<JobProgress, 'status' | 'documents' | 'chunks' | 'errorCodes'>;
}

const act = proxyActivities<IngestActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10 },
});

/**
 * Rebuilds a collection from the store alone and proves it: probe (point ids + top-10 of fixed probe
 * vectors), drop, re-ingest every catalog record with its own ACL, owner and PII policy, probe again.
 * The collection is empty between the drop and the end of the re-ingest: this is a repair and a
 * proof, not a zero-downtime rollout.
 */
export async function rebuildCollection(input: RebuildInput): Promise<RebuildReport> {
  const { pipeline } = input;
  const embed = proxyActivities<EmbedActivities>({
    taskQueue: input.embedTaskQueue,
    startToCloseTimeout: '60 minutes',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '2s', maximumInterval: '1 minute', maximumAttempts: 8 },
  });
  const probeKey = `rebuild/${input.rebuildId}/probe.json`;
  const batch = await act.writeRebuildProbe({ collection: pipeline.collection, key: probeKey, size: input.probes ?? 20 });
  const probe = batch ? { batch, vectorsKey: (await embed.embedBatch({ batch, pipeline })).vectorsKey } : undefined;
  const before = probe ? await act.runRebuildProbe({ pipeline, probe }) : undefined;

  const plan = await act.planRebuild({ jobId: input.rebuildId });
  await act.resetCollection({ collection: pipeline.collection, dimension: pipeline.dimension });
  const job = await ingestFromStore({
    workflowId: `${workflowInfo().workflowId}/ingest`,
    jobId: input.rebuildId,
    plan,
    pipeline,
    by: 'rebuild',
    concurrency: input.concurrency,
    embedTaskQueue: input.embedTaskQueue,
  });

  const after = await act.runRebuildProbe({ pipeline, probe });
  const comparison = before ? compareProbes(before, after) : { idsIdentical: after.points === 0, top10Identical: 0, probes: 0 };
  if (probe) await act.removeRebuildProbe(probe);
  return {
    rebuildId: input.rebuildId,
    collection: pipeline.collection,
    documents: plan.documents,
    sources: plan.sources,
    before: before ? { points: before.points, idsDigest: before.idsDigest } : null,
    after: { points: after.points, idsDigest: after.idsDigest },
    ...comparison,
    job: { status: job.status, documents: job.documents, chunks: job.chunks, errorCodes: job.errorCodes },
  };
}
