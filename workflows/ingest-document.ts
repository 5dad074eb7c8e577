import {
  ActivityFailure,
  ApplicationFailure,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { EmbedActivities, IngestActivities } from '../activities/types.js';
import type { IngestDocumentInput, IngestError, PreparedSource, SourceResult, SourceSpec } from '../src/domain/ingest.js';
import { sourceProgressSignal } from './definitions.js';

// Short start-to-close timeouts: after a worker crash, its in-flight tasks are retried elsewhere within
// minutes, not hours. PDF parsing has its own 60 s limit inside the activity.
const ingest = proxyActivities<IngestActivities>({
  startToCloseTimeout: '3 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 8 },
});

/** Embedding is long and CPU/GPU-bound: heartbeats detect a dead worker quickly; pieces resume. */
export function embedActivities(taskQueue: string) {
  return proxyActivities<EmbedActivities>({
    taskQueue,
    startToCloseTimeout: '60 minutes',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 8 },
  });
}

export function sourceLabel(source: SourceSpec): string {
  return source.kind === 'path' ? source.path : source.sourceKey;
}

/** The failure's type (our error code) when it is one of ours, else a generic code. */
export function failureCode(err: unknown): IngestError['code'] {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure && cause.type) return cause.type;
  return 'INTERNAL';
}

function failureMessage(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}

/** One source: prepare (stage, parse, chunk) -> embed in batches -> index. Fails alone. */
export async function ingestDocument(input: IngestDocumentInput & { index: number; embedTaskQueue: string }): Promise<SourceResult> {
  const label = sourceLabel(input.source);
  const embed = embedActivities(input.embedTaskQueue);
  let prepared: PreparedSource;
  try {
    prepared = await ingest.prepareSource({ jobId: input.jobId, source: input.source, acl: input.acl, policy: input.policy, pipeline: input.pipeline });
  } catch (err) {
    if (isCancellation(err)) throw err;
    return {
      source: label,
      documents: { total: 1, done: 0, failed: 1, skipped: 0 },
      chunks: 0,
      errors: [{ source: label, code: failureCode(err), message: failureMessage(err) }],
      errorsDropped: 0,
    };
  }

  const documents = { ...prepared.documents };
  const errors = [...prepared.errors];
  let errorsDropped = prepared.errorsDropped;
  let chunks = 0;
  const parentId = workflowInfo().parent?.workflowId;
  const report = async () => {
    if (!parentId || prepared.batches.length < 2) return;
    await getExternalWorkflowHandle(parentId).signal(sourceProgressSignal, { index: input.index, documents, chunks });
  };
  await report();

  for (const batch of prepared.batches) {
    try {
      const { vectorsKey } = await embed.embedBatch({ batch, pipeline: input.pipeline });
      const { points } = await ingest.indexBatch({ batch, vectorsKey, pipeline: input.pipeline });
      chunks += points;
      documents.done += batch.documentsCompleted;
    } catch (err) {
      if (isCancellation(err)) throw err;
      documents.failed += Math.max(1, batch.documentsCompleted);
      if (errors.length < 100) errors.push({ source: label, code: failureCode(err), message: failureMessage(err) });
      else errorsDropped += 1;
    }
    await report();
  }
  const result: SourceResult = { source: label, documents, chunks, errors, errorsDropped };
  if (prepared.pii) result.pii = prepared.pii;
  return result;
}
