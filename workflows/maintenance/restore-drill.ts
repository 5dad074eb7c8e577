import { ApplicationFailure, upsertSearchAttributes } from '@temporalio/workflow';
import { rootMessage } from '../../src/domain/failures.js';
import { SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes.js';
import { lifecycleActivities as act } from './ingest-from-store.js';
import type { DrillReport, RestoredScratch } from '../../src/domain/snapshots.js';

export interface RestoreDrillInput {
  /** Default: the newest snapshot in the backup location. */
  snapshotId?: string;
  /** Drill queries (default 20). */
  probes?: number;
}


/**
 * Proves the backups restore: restore the newest backed-up snapshot into a scratch collection (checksums,
 * point count and catalog checked), run fixed drill queries against scratch and live, drop the scratch
 * copy, record RTO and RPO. A failed drill is recorded, then fails the workflow, so it shows red in the
 * UI and in the metrics.
 */
export async function restoreDrill(input: RestoreDrillInput = {}): Promise<DrillReport> {
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.kind, value: 'restoreDrill' }]);
  let restored: RestoredScratch;
  try {
    restored = await act.restoreForDrill({ snapshotId: input.snapshotId });
  } catch (err) {
    const reason = rootMessage(err);
    await act.recordDrill({ report: failedReport(input.snapshotId ?? 'newest', reason) });
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.outcome, value: 'failed' }]);
    throw ApplicationFailure.nonRetryable(`restore drill failed: ${reason}`, 'DRILL_FAILED');
  }
  let report: DrillReport;
  try {
    report = await act.compareDrill({ restored, probes: input.probes ?? 20 });
  } finally {
    await act.dropCollection({ collection: restored.scratch });
  }
  await act.recordDrill({ report });
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.collection, value: report.collection },
    { key: SEARCH_ATTRIBUTES.outcome, value: report.passed ? 'passed' : 'failed' },
  ]);
  if (!report.passed) throw ApplicationFailure.nonRetryable(`restore drill failed: ${report.reason}`, 'DRILL_FAILED');
  return report;
}


function failedReport(snapshotId: string, reason: string): DrillReport {
  return {
    snapshotId,
    collection: '',
    scratch: '',
    points: 0,
    catalogRecords: 0,
    rtoSeconds: 0,
    rpoSeconds: 0,
    probes: 0,
    top10Identical: 0,
    meanOverlap: 0,
    liveMoved: false,
    tolerance: 0,
    passed: false,
    reason,
    finishedAt: new Date().toISOString(),
  };
}
