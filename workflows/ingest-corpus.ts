import {
  ContinueAsNew,
  continueAsNew,
  executeChild,
  isCancellation,
  patched,
  proxyActivities,
  proxySinks,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { IngestActivities } from '../activities/types.js';
import type { JobOutcome } from '../src/domain/job-metrics.js';
import {
  MAX_ERRORS_KEPT,
  mergeCounts,
  type DocumentCounts,
  type IngestCorpusInput,
  type JobProgress,
  type PipelineRef,
  type SourceProgress,
  type SourceResult,
  type SourceSpec,
} from '../src/domain/ingest.js';
import { progressQuery, sourceProgressSignal, type SragSinks } from './definitions.js';
import { ERRORS_FILE_PATCH, failureCode, ingestDocument, sourceLabel } from './ingest-document.js';

const { readManifestPage, recordSourceErrors } = proxyActivities<IngestActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 10 },
});

const { metrics } = proxySinks<SragSinks>();

const PAGE_SIZE = 100;
/** Continue-as-new well before Temporal's history limits (50k events / 50 MB). */
const HISTORY_EVENTS_BUDGET = 8_000;

export interface IngestCorpusOptions {
  embedTaskQueue: string;
}

function initialProgress(jobId: string, total: number): JobProgress {
  return {
    jobId,
    status: 'running',
    sources: { total, done: 0 },
    documents: { total: 0, done: 0, failed: 0, skipped: 0 },
    chunks: 0,
    errors: [],
    errorsDropped: 0,
    errorCodes: {},
    startedAt: new Date().toISOString(),
  };
}

function addResult(progress: JobProgress, result: SourceResult): void {
  progress.documents.total += result.documents.total;
  progress.documents.done += result.documents.done;
  progress.documents.failed += result.documents.failed;
  progress.documents.skipped += result.documents.skipped;
  progress.chunks += result.chunks;
  for (const e of result.errors) {
    if (progress.errors.length < MAX_ERRORS_KEPT) progress.errors.push(e);
    else progress.errorsDropped += 1;
  }
  progress.errorsDropped += result.errorsDropped;
  progress.errorCodes = mergeCounts(progress.errorCodes ?? {}, result.errorCodes);
  if (result.pii) {
    progress.pii ??= {};
    for (const [type, n] of Object.entries(result.pii)) progress.pii[type] = (progress.pii[type] ?? 0) + n;
  }
}

function buildingEntry(progress: JobProgress, pipeline: PipelineRef): NonNullable<JobProgress['building']>[string] {
  progress.building ??= {};
  return (progress.building[pipeline.collection] ??= {
    version: pipeline.version,
    documents: { total: 0, done: 0, failed: 0, skipped: 0 },
    chunks: 0,
    errorCodes: {},
  });
}

function addCounts(entry: NonNullable<JobProgress['building']>[string], documents: DocumentCounts, chunks: number, codes: Record<string, number>): void {
  entry.documents.total += documents.total;
  entry.documents.done += documents.done;
  entry.documents.failed += documents.failed;
  entry.documents.skipped += documents.skipped;
  entry.chunks += chunks;
  entry.errorCodes = mergeCounts(entry.errorCodes, codes);
}

/** The job report: finished sources plus the live counts of sources still in flight. */
function view(progress: JobProgress, inflight: Map<number, SourceProgress>): JobProgress {
  const out: JobProgress = { ...progress, documents: { ...progress.documents }, sources: { ...progress.sources } };
  for (const p of inflight.values()) {
    out.documents.total += p.documents.total;
    out.documents.done += p.documents.done;
    out.documents.failed += p.documents.failed;
    out.documents.skipped += p.documents.skipped;
    out.chunks += p.chunks;
  }
  return out;
}

/** Runs `work` over items with at most `limit` in flight. Deterministic: starts in order. */
async function forEachBounded<T>(items: T[], limit: number, work: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i], i);
    }
  });
  await Promise.all(lanes);
}

/**
 * One ingestion job: one child workflow per source, bounded concurrency, continue-as-new for large
 * jobs. Cancel it from the Temporal UI or the API; sources in flight are cancelled with it.
 */
export async function ingestCorpus(input: IngestCorpusInput & IngestCorpusOptions): Promise<JobProgress> {
  const progress = input.resume?.progress ?? initialProgress(input.jobId, input.sourceCount);
  const inflight = new Map<number, SourceProgress>();
  setHandler(progressQuery, () => view(progress, inflight));
  setHandler(sourceProgressSignal, (p) => {
    if (inflight.has(p.index)) inflight.set(p.index, p);
  });

  const { workflowId } = workflowInfo();
  let offset = input.resume?.offset ?? 0;
  try {
    while (offset < input.sourceCount) {
      const page: SourceSpec[] = await readManifestPage({ manifestKey: input.manifestKey, offset, limit: input.tuning?.pageSize ?? PAGE_SIZE });
      const base = offset;
      await forEachBounded(page, input.concurrency, async (source, i) => {
        const index = base + i;
        inflight.set(index, { index, documents: { total: 0, done: 0, failed: 0, skipped: 0 }, chunks: 0 });
        try {
          const result = await executeChild(ingestDocument, {
            workflowId: `${workflowId}/${index}`,
            args: [{ jobId: input.jobId, source, acl: input.acl, policy: input.policy, pipeline: input.pipeline, index, embedTaskQueue: input.embedTaskQueue }],
          });
          addResult(progress, result);
          // Then every collection being built, one after another (each writes the document's catalog
          // entry for its own pipeline); their outcome is reported apart and never fails the job.
          for (const other of input.also ?? []) {
            const entry = buildingEntry(progress, other);
            try {
              const built = await executeChild(ingestDocument, {
                workflowId: `${workflowId}/${index}/${other.version}`,
                // Its own job id for batches and the errors file: the job's files hold the served pipeline's.
                args: [{ jobId: `${input.jobId}.${other.version}`, source, acl: input.acl, policy: input.policy, pipeline: other, index, embedTaskQueue: input.embedTaskQueue, candidate: true }],
              });
              addCounts(entry, built.documents, built.chunks, built.errorCodes);
            } catch (err) {
              if (isCancellation(err)) throw err;
              addCounts(entry, { total: 1, done: 0, failed: 1, skipped: 0 }, 0, { [failureCode(err)]: 1 });
            }
          }
        } catch (err) {
          if (isCancellation(err)) throw err;
          const label = sourceLabel(source);
          const error = { source: label, code: failureCode(err), message: 'ingestion of this source failed' };
          // Appended after whatever the child wrote before it failed (a retry appends it once).
          if (patched(ERRORS_FILE_PATCH)) {
            // Best effort: the job's counts stay exact if the errors file cannot be written.
            await recordSourceErrors({ jobId: input.jobId, index, errors: [error] }).catch((writeErr: unknown) => {
              if (isCancellation(writeErr)) throw writeErr;
            });
          }
          addResult(progress, {
            source: label,
            documents: { total: 1, done: 0, failed: 1, skipped: 0 },
            chunks: 0,
            errors: [error],
            errorsDropped: 0,
            errorCodes: { [error.code]: 1 },
          });
        } finally {
          inflight.delete(index);
          progress.sources.done += 1;
        }
      });
      offset += page.length;
      if (page.length === 0) break;
      const info = workflowInfo();
      if (offset < input.sourceCount && (info.continueAsNewSuggested || info.historyLength > (input.tuning?.historyBudget ?? HISTORY_EVENTS_BUDGET))) {
        await continueAsNew<typeof ingestCorpus>({ ...input, resume: { offset, progress } });
      }
    }
  } catch (err) {
    if (isCancellation(err)) progress.status = 'cancelled';
    if (!(err instanceof ContinueAsNew)) reportOutcome(progress, isCancellation(err) ? 'cancelled' : 'failed');
    throw err;
  }
  progress.status = 'completed';
  progress.finishedAt = new Date().toISOString();
  reportOutcome(progress, progress.documents.failed > 0 ? 'completed_with_errors' : 'completed');
  return progress;
}

function reportOutcome(progress: JobProgress, status: JobOutcome['status']): void {
  // A job of its own ('submitted') or one a rebuild, rollout or restore runs from the store.
  metrics.jobFinished(workflowInfo().parent ? 'store' : 'submitted', { status, documents: progress.documents, chunks: progress.chunks, errorCodes: progress.errorCodes ?? {} });
}
