import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { hostname } from 'node:os';
import { AppError } from '../errors.js';
import type { Logger } from '../obs/logger.js';

export interface WriterLock {
  release(): Promise<void>;
}

interface LockOwner {
  pid: number;
  hostname: string;
  nonce: string;
  startedAt: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readOwner(file: string): Promise<LockOwner | undefined> {
  try {
    const parsed = JSON.parse(await fsp.readFile(file, 'utf8')) as Partial<LockOwner>;
    if (typeof parsed.pid !== 'number' || typeof parsed.nonce !== 'string') return undefined;
    return parsed as LockOwner;
  } catch {
    return undefined;
  }
}

/** A lock file whose content cannot be read yet may be one being written right now; give it this long. */
const UNREADABLE_GRACE_MS = 10_000;

/**
 * Takes the single-writer lock: `file` is created exclusively and holds this process's pid. A lock left
 * by a dead process on this host is taken over (with a warning); a live one, or one from another host
 * (whose pid we cannot check), is refused.
 */
export async function acquireWriterLock(file: string, logger: Logger): Promise<WriterLock> {
  const me: LockOwner = {
    pid: process.pid,
    hostname: hostname(),
    nonce: randomBytes(12).toString('hex'),
    startedAt: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const handle = await fsp.open(file, 'wx');
      try {
        await handle.writeFile(JSON.stringify(me));
        await handle.sync();
      } finally {
        await handle.close();
      }
      return { release: () => releaseIfOurs(file, me.nonce) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = await readOwner(file);
    if (!owner) {
      const age = await fsp.stat(file).then((s) => Date.now() - s.mtimeMs, () => Infinity);
      if (age < UNREADABLE_GRACE_MS) break;
      logger.warn('index lock file is unreadable and old; taking it over', { file });
    } else if (owner.hostname !== me.hostname || isAlive(owner.pid)) {
      throw new AppError(
        'INDEX_ERROR',
        `another srag process (pid ${owner.pid} on ${owner.hostname}) owns the index for writing; stop it or open the index read-only`,
        { details: { lockFile: file, pid: owner.pid, hostname: owner.hostname } },
      );
    } else {
      logger.warn('taking over a stale index lock left by a dead process', { file, stalePid: owner.pid });
    }
    // Remove only the stale lock we just inspected: if someone replaced it meanwhile, leave theirs.
    const again = await readOwner(file);
    if (again?.nonce === owner?.nonce) await fsp.rm(file, { force: true });
  }
  throw new AppError('INDEX_ERROR', 'could not take the index lock; another srag process is starting on it', {
    details: { lockFile: file },
  });
}

async function releaseIfOurs(file: string, nonce: string): Promise<void> {
  const owner = await readOwner(file);
  if (owner?.nonce === nonce) await fsp.rm(file, { force: true });
}
