import { join } from 'node:path';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import type { Logger } from '../obs/logger.js';
import {
  drillNow,
  listSchedules,
  restoredCollectionName,
  restoreNow,
  snapshotNow,
  steerSchedule,
  type LifecycleDeps,
  type ScheduleKind,
} from '../services/lifecycle.js';
import { listSnapshots, verifySnapshotDir } from '../services/snapshots.js';
import { connectClient, temporalTls } from '../temporal/connection.js';

/**
 * `srag snapshot|snapshots|drill|restore|schedules`: the index lifecycle, driven on Temporal (the
 * workflows run on the ingest workers, so `srag up` or the workers must be running). Talks to Temporal
 * directly, like the Temporal UI: an ops tool for whoever may reach the cluster.
 */
export async function runLifecycle(
  config: Config,
  logger: Logger,
  command: string,
  args: { positionals: string[]; now: boolean; json: boolean },
  out: (s: string) => void,
): Promise<number> {
  if (command === 'snapshots') {
    if ((args.positionals[0] ?? 'list') !== 'list') throw new AppError('INVALID_INPUT', 'usage: srag snapshots list');
    const list = await listSnapshots(config.lifecycle);
    if (args.json) out(JSON.stringify({ snapshots: list, backupDir: config.lifecycle.backupDir }));
    else {
      out(`snapshots (backup location ${config.lifecycle.backupDir}):`);
      if (list.length === 0) out('  none yet: srag snapshot --now');
      for (const s of list) {
        out(`  ${s.id}  ${s.createdAt}  ${s.collection}  ${s.points} points  ${(s.bytes / 1e6).toFixed(1)} MB  ${s.backedUp ? 'backed up' : 'NOT backed up'}${s.local ? '' : ' (backup only)'}`);
      }
    }
    return 0;
  }

  const address = config.temporal.address ?? `127.0.0.1:${config.temporal.port}`;
  const client = await connectClient(address, config.temporal.namespace, config.temporal.address ? temporalTls(config.temporal.tls) : undefined, { logger, timeoutMs: 15_000 });
  const deps: LifecycleDeps = { client, taskQueue: config.temporal.taskQueue, alias: config.collectionPrefix };
  try {
    switch (command) {
      case 'snapshot': {
        if (!args.now) return await printSchedules(deps, 'snapshot', args.json, out, 'take one now with: srag snapshot --now');
        const { workflowId, result } = await snapshotNow(deps);
        if (args.json) out(JSON.stringify({ workflowId, ...result }));
        else {
          out(`snapshot ${result.snapshotId}: ${result.collection}, ${result.points} points, ${(result.bytes / 1e6).toFixed(1)} MB`);
          out(`  copied to ${join(config.lifecycle.backupDir, result.snapshotId)} and verified; retention removed ${result.removed.length}`);
        }
        return 0;
      }
      case 'drill': {
        if (!args.now) return await printSchedules(deps, 'drill', args.json, out, 'run one now with: srag drill --now');
        const { workflowId, result: r } = await drillNow(deps);
        if (args.json) out(JSON.stringify({ workflowId, ...r }));
        else {
          out(`restore drill of ${r.snapshotId}: ${r.passed ? 'PASSED' : 'FAILED'}`);
          out(`  restored ${r.points} points and ${r.catalogRecords} catalog records into ${r.scratch} (dropped again)`);
          out(`  RTO ${r.rtoSeconds.toFixed(2)} s, RPO ${(r.rpoSeconds / 3600).toFixed(2)} h`);
          out(`  top-10 identical for ${r.top10Identical} of ${r.probes} drill queries; mean overlap ${r.meanOverlap.toFixed(3)}${r.liveMoved ? ` (live moved on since the snapshot: tolerance ${r.tolerance})` : ''}`);
        }
        return r.passed ? 0 : 1;
      }
      case 'restore': {
        const id = args.positionals[0];
        if (!id) throw new AppError('INVALID_INPUT', 'usage: srag restore <snapshot-id>   (srag snapshots list shows them)');
        const manifest = await verifySnapshotDir(join(config.lifecycle.backupDir, id));
        const { workflowId, result } = await restoreNow(
          { ...deps, embedTaskQueue: config.temporal.embedTaskQueue, concurrency: config.ingest.concurrency },
          id,
          restoredCollectionName(manifest.collection, new Date()),
        );
        if (args.json) out(JSON.stringify({ workflowId, ...result }));
        else {
          out(`restored ${result.snapshotId} into ${result.collection}: ${result.points} points, ${result.catalogRestored} catalog records put back, ${result.seconds.toFixed(1)} s`);
          if (result.catchUp) out(`  caught up from the store: ${result.catchUp.done} of ${result.catchUp.documents} documents added after the snapshot re-ingested (${result.catchUp.failed} failed)`);
          out(`  alias ${config.collectionPrefix} now serves ${result.collection}${result.previous ? ` (was ${result.previous}, kept: drop it when you are sure)` : ''}`);
        }
        return 0;
      }
      case 'schedules': {
        const [sub = 'list', kind] = args.positionals;
        if (sub === 'list') return await printSchedules(deps, undefined, args.json, out);
        if (!['pause', 'resume', 'trigger'].includes(sub) || (kind !== 'snapshot' && kind !== 'drill')) {
          throw new AppError('INVALID_INPUT', 'usage: srag schedules list | srag schedules pause|resume|trigger snapshot|drill');
        }
        await steerSchedule(deps, kind, sub as 'pause' | 'resume' | 'trigger');
        out(`${kind} schedule: ${sub === 'trigger' ? 'triggered (watch it in the Temporal UI)' : `${sub}d`}`);
        return 0;
      }
      default:
        throw new AppError('INVALID_INPUT', `unknown lifecycle command ${command}`);
    }
  } finally {
    await client.connection.close();
  }
}

async function printSchedules(deps: LifecycleDeps, only: ScheduleKind | undefined, json: boolean, out: (s: string) => void, hint?: string): Promise<number> {
  const schedules = (await listSchedules(deps)).filter((s) => !only || s.kind === only);
  if (json) {
    out(JSON.stringify({ schedules }));
    return 0;
  }
  if (schedules.length === 0) out(only ? `no ${only} schedule (off in config, or srag up has not run)` : 'no schedules (srag up creates them)');
  for (const s of schedules) {
    out(`${s.kind.padEnd(8)} ${s.scheduleId}  every ${s.every ?? '?'}  ${s.paused ? `PAUSED${s.note ? ` (${s.note})` : ''}` : 'active'}  next ${s.nextRun ?? '-'}  last ${s.lastRun ? `${s.lastRun.workflowId} at ${s.lastRun.startedAt}` : '-'}`);
  }
  if (hint) out(hint);
  return 0;
}
