import { statfs as fsStatfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fail, formatBytes, GiB, messageOf, MiB, ok, warn, type CheckResult } from './check.js';

/** The fields of fs.statfs that matter here. */
export interface FsStats {
  bsize: number;
  blocks: number;
  bavail: number;
}

export type Statfs = (path: string) => Promise<FsStats>;

export const DISK_WARN = { percent: 15, bytes: 2 * GiB };
export const DISK_FAIL = { percent: 5, bytes: 500 * MiB };

/** ok, warn or fail for the space an unprivileged process may still use. */
export function diskLevel(freeBytes: number, percent: number): 'ok' | 'warn' | 'fail' {
  if (percent < DISK_FAIL.percent || freeBytes < DISK_FAIL.bytes) return 'fail';
  if (percent < DISK_WARN.percent || freeBytes < DISK_WARN.bytes) return 'warn';
  return 'ok';
}

/** statfs of `path`, or of its nearest existing ancestor when it is not there yet. */
async function statfsNearest(path: string, statfs: Statfs): Promise<FsStats> {
  for (let p = path; ; p = dirname(p)) {
    try {
      return await statfs(p);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(p) === p) throw err;
    }
  }
}

/**
 * Free space on the filesystem that holds `path` (`what` names it: "data dir", "backup dir"). Counts
 * what this process may use (bavail), not the blocks reserved for root.
 */
export async function checkDisk(name: string, what: string, path: string, statfs: Statfs = fsStatfs): Promise<CheckResult> {
  let s: FsStats;
  try {
    s = await statfsNearest(path, statfs);
  } catch (err) {
    return fail(name, `cannot read the free space of ${path}: ${messageOf(err)}`, `check that ${path} (or its parent) is reachable`);
  }
  const free = s.bavail * s.bsize;
  const percent = s.blocks > 0 ? (s.bavail / s.blocks) * 100 : 0;
  const detail = `${formatBytes(free)} free (${percent.toFixed(percent < 10 ? 1 : 0)} %) on the filesystem of the ${what} ${path}`;
  const fix = `free space there or move the ${what} to a larger disk (${what === 'backup dir' ? 'SRAG_BACKUP_DIR' : 'SRAG_DATA_DIR'})`;
  const level = diskLevel(free, percent);
  if (level === 'fail') return fail(name, `${detail}: below ${DISK_FAIL.percent} % or ${formatBytes(DISK_FAIL.bytes)}`, fix);
  if (level === 'warn') return warn(name, `${detail}: below ${DISK_WARN.percent} % or ${formatBytes(DISK_WARN.bytes)}`, fix);
  return ok(name, detail);
}
