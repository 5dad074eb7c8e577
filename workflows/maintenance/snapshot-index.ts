import { upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes.js';
import { lifecycleActivities as act } from './ingest-from-store.js';
import { snapshotIdFor } from '../../src/domain/snapshots.js';

export interface SnapshotIndexInput {
  /** Default: from the workflow's start time (a schedule's runs get one each). */
  snapshotId?: string;
  /** Apply retention after the new snapshot is verified in the backup location (default true). */
  retention?: boolean;
}

export interface SnapshotIndexResult {
  snapshotId: string;
  collection: string;
  points: number;
  bytes: number;
  backedUp: true;
  removed: string[];
}


/**
 * Snapshot the served collection (with the catalog and the alias map), copy it to the backup location,
 * verify the copy, and only then apply retention: a failed copy never thins out older good snapshots.
 */
export async function snapshotIndex(input: SnapshotIndexInput = {}): Promise<SnapshotIndexResult> {
  const info = workflowInfo();
  const snapshotId = input.snapshotId ?? snapshotIdFor(new Date(info.startTime.getTime()), info.runId);
  const taken = await act.takeSnapshot({ snapshotId });
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.kind, value: 'snapshotIndex' },
    { key: SEARCH_ATTRIBUTES.collection, value: taken.collection },
  ]);
  await act.copySnapshotToBackup({ snapshotId });
  const { removed } = input.retention === false ? { removed: [] } : await act.applySnapshotRetention({});
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.outcome, value: 'succeeded' }]);
  return { snapshotId, collection: taken.collection, points: taken.points, bytes: taken.bytes, backedUp: true, removed };
}
