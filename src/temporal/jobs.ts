import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import { writeManifest } from '../store/manifest.js';
import { sha256Hex } from '../domain/ids.js';
import type { JobProgress, JobStatus, PipelineRef, SourceSpec } from '../domain/ingest.js';
import { AppError } from '../errors.js';
import type { BlobStore } from '../store/port.js';

export const INGEST_WORKFLOW = 'ingestCorpus';

export function workflowIdForJob(jobId: string): string {
  return `ingest-${jobId}`;
}

function sourceKey(s: SourceSpec): string {
  return s.kind === 'path' ? `path:${s.path}` : `stored:${s.sourceKey}:${s.hash}`;
}

/** Job id from the business key: the same sources, ACL and pipeline give the same job. */
export function jobIdFor(sources: SourceSpec[], acl: string[], pipelineVersion: string): string {
  const key = JSON.stringify({ s: sources.map(sourceKey).sort(), a: [...acl].sort(), p: pipelineVersion });
  return `job_${sha256Hex(key).slice(0, 20)}`;
}

const STATUS: Record<string, JobStatus> = {
  RUNNING: 'running',
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
  TERMINATED: 'terminated',
  TIMED_OUT: 'timed_out',
  CONTINUED_AS_NEW: 'running',
};

export interface JobSummary {
  jobId: string;
  status: JobStatus;
  startedAt?: string;
  closedAt?: string;
}

export interface JobService {
  submit(sources: SourceSpec[], acl: string[]): Promise<{ jobId: string }>;
  get(jobId: string): Promise<JobProgress>;
  list(limit: number): Promise<JobSummary[]>;
  cancel(jobId: string): Promise<void>;
}

export interface JobServiceDeps {
  client: Client;
  store: BlobStore;
  taskQueue: string;
  embedTaskQueue: string;
  pipeline: PipelineRef;
  concurrency: number;
}

export function createJobService(deps: JobServiceDeps): JobService {
  const { client } = deps;
  return {
    async submit(sources, acl) {
      if (sources.length === 0) throw new AppError('INVALID_INPUT', 'a job needs at least one source');
      const jobId = jobIdFor(sources, acl, deps.pipeline.version);
      const manifestKey = await writeManifest(deps.store, jobId, sources);
      try {
        await client.workflow.start(INGEST_WORKFLOW, {
          workflowId: workflowIdForJob(jobId),
          taskQueue: deps.taskQueue,
          // A double submit while the job runs joins it; after it ends, a re-submit runs again
          // (and re-embeds nothing, since unchanged documents are skipped).
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
          args: [
            {
              jobId,
              manifestKey,
              sourceCount: sources.length,
              acl,
              pipeline: deps.pipeline,
              concurrency: deps.concurrency,
              embedTaskQueue: deps.embedTaskQueue,
            },
          ],
          memo: { sources: sources.length },
        });
        return { jobId };
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) return { jobId };
        throw err;
      }
    },

    async get(jobId) {
      const handle = client.workflow.getHandle(workflowIdForJob(jobId));
      let description;
      try {
        description = await handle.describe();
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw new AppError('NOT_FOUND', `no job ${jobId}`);
        throw err;
      }
      const status = STATUS[description.status.name] ?? 'running';
      let progress: JobProgress;
      if (status === 'completed') progress = (await handle.result()) as JobProgress;
      else {
        try {
          progress = await handle.query<JobProgress>('progress');
        } catch (err) {
          // A closed job with no worker to answer the query still has a status to report.
          if (status === 'running') throw err;
          progress = { jobId, status, sources: { total: 0, done: 0 }, documents: { total: 0, done: 0, failed: 0, skipped: 0 }, chunks: 0, errors: [], errorsDropped: 0 };
        }
      }
      return { ...progress, status, finishedAt: progress.finishedAt ?? description.closeTime?.toISOString() };
    },

    async list(limit) {
      const out: JobSummary[] = [];
      for await (const wf of client.workflow.list({ query: `WorkflowType = '${INGEST_WORKFLOW}'` })) {
        out.push({
          jobId: wf.workflowId.replace(/^ingest-/, ''),
          status: STATUS[wf.status.name] ?? 'running',
          startedAt: wf.startTime.toISOString(),
          closedAt: wf.closeTime?.toISOString(),
        });
        if (out.length >= limit) break;
      }
      return out;
    },

    async cancel(jobId) {
      try {
        await client.workflow.getHandle(workflowIdForJob(jobId)).cancel();
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw new AppError('NOT_FOUND', `no job ${jobId}`);
        throw err;
      }
    },
  };
}
