import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import { readManifestOwner, writeManifest } from '../store/manifest.js';
import { sha256Hex } from '../domain/ids.js';
import type { IngestPolicy, JobProgress, JobStatus, PipelineRef, SourceSpec } from '../domain/ingest.js';
import { AppError } from '../errors.js';
import type { BlobStore } from '../store/port.js';

export const INGEST_WORKFLOW = 'ingestCorpus';

export function workflowIdForJob(jobId: string): string {
  return `ingest-${jobId}`;
}

function sourceKey(s: SourceSpec): string {
  return s.kind === 'path' ? `path:${s.path}` : `stored:${s.sourceKey}:${s.hash}`;
}

/**
 * Job id from the business key: the same submitter, sources, ACL, policy and pipeline give the same
 * job. The submitter is part of it, so one user's job never joins (or reveals) another's.
 */
export function jobIdFor(sources: SourceSpec[], acl: string[], pipelineVersion: string, policy?: IngestPolicy): string {
  const key = JSON.stringify({
    s: sources.map(sourceKey).sort(),
    a: [...acl].sort(),
    p: pipelineVersion,
    ...(policy ? { u: policy.owner.user, r: policy.replaceAcl, i: policy.pii } : {}),
  });
  return `job_${sha256Hex(key).slice(0, 20)}`;
}

/** Who asks about jobs: a job belongs to its submitter; admins see all. */
export interface JobViewer {
  user: string;
  admin: boolean;
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
  submit(sources: SourceSpec[], acl: string[], policy?: IngestPolicy): Promise<{ jobId: string }>;
  /** A job the viewer may see (NOT_FOUND otherwise, so job ids cannot be probed). No viewer: any job. */
  get(jobId: string, viewer?: JobViewer): Promise<JobProgress>;
  list(limit: number, viewer?: JobViewer): Promise<JobSummary[]>;
  cancel(jobId: string, viewer?: JobViewer): Promise<void>;
}

export interface JobServiceDeps {
  client: Client;
  store: BlobStore;
  taskQueue: string;
  embedTaskQueue: string;
  /** The pipeline new jobs write to: the served one, resolved at each submit. */
  pipeline: PipelineRef | (() => Promise<PipelineRef>);
  /** Collections being built beside it (a rollout's candidate), resolved at each submit: jobs write there too. */
  building?: () => Promise<PipelineRef[]>;
  concurrency: number;
}

export function createJobService(deps: JobServiceDeps): JobService {
  const { client } = deps;
  const assertMayView = async (jobId: string, viewer: JobViewer | undefined) => {
    if (!viewer || viewer.admin) return;
    const { owner } = await readManifestOwner(deps.store, jobId);
    if (owner !== viewer.user) throw new AppError('NOT_FOUND', `no job ${jobId}`);
  };
  return {
    async submit(sources, acl, policy) {
      if (sources.length === 0) throw new AppError('INVALID_INPUT', 'a job needs at least one source');
      const pipeline = typeof deps.pipeline === 'function' ? await deps.pipeline() : deps.pipeline;
      const jobId = jobIdFor(sources, acl, pipeline.version, policy);
      const also = ((await deps.building?.()) ?? []).filter((p) => p.collection !== pipeline.collection);
      const manifestKey = await writeManifest(deps.store, jobId, sources, { owner: policy?.owner.user, acl });
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
              policy,
              pipeline,
              ...(also.length > 0 ? { also } : {}),
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

    async get(jobId, viewer) {
      await assertMayView(jobId, viewer);
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

    async list(limit, viewer) {
      const out: JobSummary[] = [];
      // A long job continues as new: each run is listed, newest first; the job is shown once.
      const seen = new Set<string>();
      for await (const wf of client.workflow.list({ query: `WorkflowType = '${INGEST_WORKFLOW}'` })) {
        if (seen.has(wf.workflowId)) continue;
        seen.add(wf.workflowId);
        const jobId = wf.workflowId.replace(/^ingest-/, '');
        if (viewer && !viewer.admin && (await readManifestOwner(deps.store, jobId)).owner !== viewer.user) continue;
        out.push({
          jobId,
          status: STATUS[wf.status.name] ?? 'running',
          startedAt: wf.startTime.toISOString(),
          closedAt: wf.closeTime?.toISOString(),
        });
        if (out.length >= limit) break;
      }
      return out;
    },

    async cancel(jobId, viewer) {
      await assertMayView(jobId, viewer);
      try {
        await client.workflow.getHandle(workflowIdForJob(jobId)).cancel();
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw new AppError('NOT_FOUND', `no job ${jobId}`);
        throw err;
      }
    },
  };
}
