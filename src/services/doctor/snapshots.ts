import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../config.js';
import { newestBackup } from '../snapshots.js';
import { fail, messageOf, ok, warn, type CheckResult } from './check.js';

/** A daily schedule plus two hours of slack. */
export const SNAPSHOT_MAX_AGE_HOURS = 26;

const age = (hours: number) => (hours < 1 ? `${Math.round(hours * 60)} min` : `${hours.toFixed(1)} h`);

/**
 * The newest verified snapshot in the backup location (one with a manifest there: copies are verified
 * before they get one) and its age. Its files are checked against the manifest's sizes, a cheap test
 * that catches a truncated copy; checksums are the restore drill's job.
 */
export async function checkSnapshots(lifecycle: Config['lifecycle'], now: Date, name = 'snapshots'): Promise<CheckResult> {
  const dir = lifecycle.backupDir;
  let newest;
  try {
    newest = await newestBackup(dir);
  } catch (err) {
    return fail(name, `cannot list the snapshots in ${dir}: ${messageOf(err)}`, `give this user read access to ${dir}, or set SRAG_BACKUP_DIR`);
  }
  if (!newest) {
    return warn(name, `no verified snapshot in ${dir} yet`, 'take one now with `srag snapshot --now` (the schedule takes one every SRAG_SNAPSHOT_EVERY)');
  }
  for (const f of newest.files) {
    const size = await stat(join(dir, newest.id, f.name)).then(
      (s) => s.size,
      () => undefined,
    );
    if (size !== f.bytes) {
      return fail(
        name,
        `the newest snapshot ${newest.id} in ${dir} is damaged: ${f.name} ${size === undefined ? 'is missing' : `has ${size} bytes, its manifest says ${f.bytes}`}`,
        'take a new one with `srag snapshot --now`, then prove it restores with `srag drill --now`',
      );
    }
  }
  const hours = (now.getTime() - Date.parse(newest.createdAt)) / 3_600_000;
  const detail = `newest verified snapshot ${newest.id} (${newest.points} points of ${newest.collection}) is ${age(Math.max(0, hours))} old`;
  if (hours > SNAPSHOT_MAX_AGE_HOURS) {
    return warn(
      name,
      `${detail}: over ${SNAPSHOT_MAX_AGE_HOURS} h`,
      'check the snapshot schedule (`srag schedules list`) and its last run in the Temporal UI, or take one now: `srag snapshot --now`',
    );
  }
  return ok(name, detail);
}
