import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import { AppError } from '../errors.js';
import { readPipeline, type PipelineRecord } from '../store/pipelines.js';
import type { BlobStore } from '../store/port.js';

/** The report of rebuildCollection (workflows/maintenance), as the API and CLI show it. */
export interface RebuildStatus {
  workflowId: string;
  status: 'running' | 'completed' | 'failed' | 'cancelled' | 'terminated' | 'timed_out';
  report?: unknown;
  failure?: string;
}

export interface RebuildService {
  /** Starts (or joins) the rebuild of a collection, the served one by default. */
  start(collection?: string): Promise<{ workflowId: string; collection: string }>;
  status(collection: string): Promise<RebuildStatus>;
}

export function rebuildWorkflowId(collection: string): string {
  return `rebuild-${collection}`;
}

export function createRebuildService(deps: {
  client: Client;
  store: BlobStore;
  taskQueue: string;
  embedTaskQueue: string;
  concurrency: number;
  served: () => Promise<PipelineRecord>;
  now?: () => Date;
}): RebuildService {
  const now = deps.now ?? (() => new Date());
  return {
    async start(collection) {
      const record = collection ? await readPipeline(deps.store, collection) : await deps.served();
      if (!record) throw new AppError('NOT_FOUND', `no pipeline record for collection ${collection}: nothing says which model builds it`);
      const target = record.ref.collection;
      const stamp = now().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14);
      const workflowId = rebuildWorkflowId(target);
      // One rebuild per collection at a time: a second request joins the running one.
      await deps.client.workflow.start('rebuildCollection', {
        workflowId,
        taskQueue: deps.taskQueue,
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        args: [{ rebuildId: `rebuild_${stamp}`, pipeline: record.ref, embedTaskQueue: deps.embedTaskQueue, concurrency: deps.concurrency }],
      });
      return { workflowId, collection: target };
    },
    async status(collection) {
      const workflowId = rebuildWorkflowId(collection);
      const handle = deps.client.workflow.getHandle(workflowId);
      let description;
      try {
        description = await handle.describe();
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw new AppError('NOT_FOUND', `no rebuild of ${collection}`);
        throw err;
      }
      const status = description.status.name.toLowerCase() as RebuildStatus['status'];
      if (status === 'completed') return { workflowId, status, report: await handle.result() };
      if (status === 'failed') {
        const failure = await handle.result().then(
          () => undefined,
          (err: unknown) => (err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)),
        );
        return { workflowId, status, failure };
      }
      return { workflowId, status: status === ('continued_as_new' as string) ? 'running' : status };
    },
  };
}
