import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, lstat, open, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import { AUDIT_KEY_BYTES } from './audit-crypto.js';

export const CURRENT_SEGMENT = 'queries.jsonl';
export const KEY_FILE = 'audit.key';
export const HEAD_FILE = 'audit.head';

const ROTATED = /^queries-(\d{12,})\.jsonl$/;

/** A log file, oldest first; rotated ones carry their first seq in the name, the current one does not. */
export interface Segment {
  name: string;
  firstSeq?: number;
}

/** Zero-padded so that a plain directory listing sorts segments in chain order too. */
export function rotatedSegmentName(firstSeq: number): string {
  return `queries-${String(firstSeq).padStart(12, '0')}.jsonl`;
}

export function auditUnavailable(message: string, cause?: unknown): AppError {
  return new AppError('AUDIT_UNAVAILABLE', message, { cause });
}

function isErrno(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === code;
}

export async function pathExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false;
    throw err;
  }
}

/** Rotated segments by first seq, then the current segment if it exists. A missing dir has none. */
export async function listSegments(dir: string): Promise<Segment[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
  const rotated: Segment[] = [];
  for (const name of names) {
    const m = ROTATED.exec(name);
    if (m) rotated.push({ name, firstSeq: Number(m[1]) });
  }
  rotated.sort((a, b) => a.firstSeq! - b.firstSeq!);
  return names.includes(CURRENT_SEGMENT) ? [...rotated, { name: CURRENT_SEGMENT }] : rotated;
}

/** A rename or a new file is durable only once its directory entry is: fsync the directory itself. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Replace `name` with `data` so that a reader sees the old or the new content, never a torn one:
 * write a temp file, flush it, rename it over. The rename itself may be lost in a crash; callers
 * that write this way (the checkpoint) accept lagging one write behind.
 */
export async function replaceFileAtomically(dir: string, name: string, data: string): Promise<void> {
  const tmp = join(dir, `${name}.tmp`);
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
  try {
    await fh.chmod(0o600);
    await fh.writeFile(data, 'utf8');
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, name));
}

/** The 32-byte audit key, or undefined when there is none yet. Anything else there is an error. */
export async function readAuditKey(dir: string): Promise<Buffer | undefined> {
  let fh;
  try {
    fh = await open(join(dir, KEY_FILE), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw auditUnavailable(`audit key ${KEY_FILE} cannot be read`, err);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.size !== AUDIT_KEY_BYTES) throw auditUnavailable(`audit key ${KEY_FILE} is not a ${AUDIT_KEY_BYTES}-byte file`);
    const key = Buffer.alloc(AUDIT_KEY_BYTES);
    const { bytesRead } = await fh.read(key, 0, AUDIT_KEY_BYTES, 0);
    if (bytesRead !== AUDIT_KEY_BYTES) throw auditUnavailable(`audit key ${KEY_FILE} is short`);
    return key;
  } finally {
    await fh.close();
  }
}

/**
 * Create the key once. It is written to a temp file first and linked into place: link fails if the
 * name exists, so two processes opening the log at once agree on one key, and a crash never leaves a
 * half-written key behind under the real name.
 */
export async function createAuditKey(dir: string): Promise<Buffer> {
  const key = randomBytes(AUDIT_KEY_BYTES);
  const tmp = join(dir, `${KEY_FILE}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    await fh.writeFile(key);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await link(tmp, join(dir, KEY_FILE));
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err;
    const winner = await readAuditKey(dir);
    if (!winner) throw auditUnavailable('audit key vanished while being created', err);
    return winner;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  await fsyncDir(dir);
  return key;
}
