import {
  ActivityFailure,
  ApplicationFailure,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { EmbedActivities, IngestActivities } from '../activities/types.js';
import {
  countErrorCodes,
  MAX_ERRORS_KEPT,
  type IngestDocumentInput,
  type IngestError,
  type PreparedSource,
  type SourceResult,
  type SourceSpec,
} from '../src/domain/ingest.js';
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

/** Errors sent to the errors file per activity call: bounds each call's input in history. */
const ERRORS_PER_WRITE = 100;
/** Marks workflow code that writes the errors file, so runs started before it replay unchanged. */
export const ERRORS_FILE_PATCH = 'job-errors-file';

/**
 * The errors of one source: every one is counted by code and goes to the job's errors file (in
 * pieces, through an activity), the first few also into the result. The file already holds the
 * `stored` errors prepareSource wrote.
 */
function sourceErrors(jobId: string, index: number, prepared?: PreparedSource) {
  const kept: IngestError[] = [...(prepared?.errors ?? [])];
  let dropped = prepared?.errorsDropped ?? 0;
  const codes: Record<string, number> = { ...(prepared?.errorCodes ?? countErrorCodes({}, kept)) };
  let stored = prepared ? kept.length + dropped : 0;
  let fileBroken = false;
  const pending: IngestError[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const errors = pending.splice(0, pending.length);
    if (fileBroken || !patched(ERRORS_FILE_PATCH)) return;
    try {
      await ingest.recordSourceErrors({ jobId, index, errors, from: stored });
      stored += errors.length;
    } catch (err) {
      if (isCancellation(err)) throw err;
      // The file is the long list; the counts in the report stay exact without it, and a source
      // does not fail because its error list could not be written.
      fileBroken = true;
    }
  };
  return {
    async add(error: IngestError) {
      countErrorCodes(codes, [error]);
      if (kept.length < MAX_ERRORS_KEPT) kept.push(error);
      else dropped += 1;
      pending.push(error);
      if (pending.length >= ERRORS_PER_WRITE) await flush();
    },
    flush,
    result: () => ({ errors: kept, errorsDropped: dropped, errorCodes: codes }),
  };
}

/**
 * One source: prepare (stage, parse, chunk) -> embed in batches -> index. Fails alone.
 * Each document ends in exactly one of done, failed or skipped (see DocumentCounts).
 */
export async function ingestDocument(input: IngestDocumentInput & { index: number; embedTaskQueue: string; candidate?: boolean }): Promise<SourceResult> {
  const label = sourceLabel(input.source);
  const embed = embedActivities(input.embedTaskQueue);
  let prepared: PreparedSource;
  try {
    prepared = await ingest.prepareSource({
      jobId: input.jobId,
      source: input.source,
      acl: input.acl,
      policy: input.policy,
      pipeline: input.pipeline,
      index: input.index,
    });
  } catch (err) {
    if (isCancellation(err)) throw err;
    const errors = sourceErrors(input.jobId, input.index);
    await errors.add({ source: label, code: failureCode(err), message: failureMessage(err) });
    await errors.flush();
    return { source: label, documents: { total: 1, done: 0, failed: 1, skipped: 0 }, chunks: 0, ...errors.result() };
  }

  const documents = { ...prepared.documents };
  const errors = sourceErrors(input.jobId, input.index, prepared);
  let chunks = 0;
  const parentId = workflowInfo().parent?.workflowId;
  const report = async () => {
    // A collection being built reports to the job when it ends, not as live progress of the source.
    if (!parentId || input.candidate || prepared.batches.length < 2) return;
    await getExternalWorkflowHandle(parentId).signal(sourceProgressSignal, { index: input.index, documents, chunks });
  };
  await report();

  // A document may span batches. When a batch fails, every document with a chunk in it fails, once:
  // `openFailed` says the document going on from the previous batch has already been counted failed.
  let openFailed = false;
  for (const batch of prepared.batches) {
    const endsOpen = batch.endsMidDocument === true;
    try {
      const { vectorsKey } = await embed.embedBatch({ batch, pipeline: input.pipeline });
      const { points } = await ingest.indexBatch({ batch, vectorsKey, pipeline: input.pipeline });
      chunks += points;
      // The first document completed here is the one that went on from the previous batch.
      documents.done += openFailed ? Math.max(0, batch.documentsCompleted - 1) : batch.documentsCompleted;
      if (batch.documentsCompleted > 0 || !endsOpen) openFailed = false;
    } catch (err) {
      if (isCancellation(err)) throw err;
      const touched = batch.documentsCompleted + (endsOpen ? 1 : 0);
      // Batches written before `endsMidDocument` existed: at least the document in it fails.
      const newlyFailed = Math.max(openFailed ? 0 : 1, touched - (openFailed ? 1 : 0));
      documents.failed += newlyFailed;
      openFailed = endsOpen;
      await errors.add({ source: label, code: failureCode(err), message: failureMessage(err) });
    }
    await report();
  }
  await errors.flush();
  const result: SourceResult = { source: label, documents, chunks, ...errors.result() };
  if (prepared.pii) result.pii = prepared.pii;
  return result;
}
