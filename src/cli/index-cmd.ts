import type { RebuildReport } from '../../workflows/maintenance/rebuild-collection.js';
import { AppError } from '../errors.js';
import type { RebuildStatus } from '../services/rebuild.js';
import type { ApiClient } from './api-client.js';

/**
 * `srag index rebuild [--collection C]`: drops a collection and rebuilds it from the store (catalog +
 * source bytes), then proves it (same point ids, same top-10 for fixed probes). Exit 0 when proven,
 * 1 when the rebuilt collection differs, 2 on errors.
 */
export async function runIndexRebuild(
  api: ApiClient,
  opts: { collection?: string; json: boolean; pollMs?: number },
  io: { out: (s: string) => void; err: NodeJS.WriteStream },
): Promise<number> {
  const started = await api.post<{ workflowId: string; collection: string }>('/v1/admin/index/rebuild', opts.collection ? { collection: opts.collection } : {});
  if (!opts.json) io.err.write(`rebuilding ${started.collection} (workflow ${started.workflowId}; watch it in the Temporal UI)\n`);
  const t0 = Date.now();
  let status: RebuildStatus;
  for (;;) {
    status = await api.get<RebuildStatus>(`/v1/admin/index/rebuild/${encodeURIComponent(started.collection)}`);
    if (status.status !== 'running') break;
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 1000));
  }
  if (status.status !== 'completed') {
    throw new AppError('INDEX_ERROR', `the rebuild of ${started.collection} ended ${status.status}${status.failure ? `: ${status.failure}` : ''}`);
  }
  const report = status.report as RebuildReport;
  const proven = report.idsIdentical && report.top10Identical === report.probes;
  if (opts.json) {
    io.out(JSON.stringify({ ...report, proven, seconds: (Date.now() - t0) / 1000 }));
    return proven ? 0 : 1;
  }
  io.out(`rebuilt ${report.collection} from the store in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  io.out(`  catalog: ${report.documents} documents from ${report.sources} sources; job ${report.job.status}, ${report.job.documents.done} indexed, ${report.job.documents.failed} failed, ${report.job.chunks} chunks`);
  io.out(`  points: ${report.before?.points ?? 0} before, ${report.after.points} after; point ids ${report.idsIdentical ? 'identical' : 'DIFFERENT'}`);
  io.out(`  top-10 identical for ${report.top10Identical} of ${report.probes} probe vectors`);
  io.out(proven ? 'proven: the collection is a projection of the store' : 'NOT proven: the rebuilt collection differs');
  return proven ? 0 : 1;
}
