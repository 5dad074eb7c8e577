import { constants, type Stats } from 'node:fs';
import { open, realpath, stat, type FileHandle } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { SourceSpec, StagedSource } from '../domain/ingest.js';
import { AppError, DocumentError } from '../errors.js';
import type { BlobStore } from '../store/port.js';
import { isUnderRoots, realRoots } from '../store/safe-paths.js';

// O_NOFOLLOW: a final component swapped for a symlink since the API checked it fails to open instead
// of being followed. O_NONBLOCK: a FIFO planted under a root cannot hang the activity in open();
// it is refused as "not a regular file" below. Both are no-ops for the regular files we read.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

function refused(path: string, why: string): DocumentError {
  return new DocumentError('FORBIDDEN', `${basename(path)}: ${why}`);
}

async function openNoFollow(path: string): Promise<FileHandle> {
  try {
    return await open(path, OPEN_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AppError('NOT_FOUND', `no such file: ${basename(path)}`);
    // ELOOP on Linux and macOS, EMLINK on FreeBSD: the final component is a symlink.
    if (code === 'ELOOP' || code === 'EMLINK') throw refused(path, 'is a symbolic link; name the real file');
    if (code === 'EACCES') throw new DocumentError('INVALID_INPUT', `permission denied: ${basename(path)}`);
    if (code === 'ENOTDIR') throw new AppError('NOT_FOUND', `no such file: ${basename(path)}`);
    throw err;
  }
}

/**
 * Proves the open handle is the file at `path` with no symlink anywhere on the way: the path must be
 * its own realpath (no directory was swapped for a link), and the inode there now must be the one we
 * opened (a link swapped in for the open and back out for the check is caught by the inode).
 */
async function assertSameRealFile(path: string, opened: Stats, roots: string[] | undefined): Promise<void> {
  const real = await realpath(path).catch(() => undefined);
  if (real !== path) throw refused(path, 'a path component is a symbolic link or changed while staging');
  const now = await stat(path).catch(() => undefined);
  if (!now || now.ino !== opened.ino || now.dev !== opened.dev) throw refused(path, 'changed while staging');
  if (roots && !isUnderRoots(real, await realRoots(roots))) throw refused(path, 'is outside the allowed ingest roots');
}

/**
 * Copies a source into the content store (the system of record) and names it by a stable key.
 *
 * Path sources arrive as real paths checked by the API (resolveUnderRoots), but the filesystem may
 * change between that check and this activity. So the file is opened without following a final
 * link, verified through the handle, and streamed from that same handle: what was checked is what
 * is read. `roots`, when given, re-checks containment here as well.
 */
export async function stageSource(store: BlobStore, source: SourceSpec, maxFileBytes: number, roots?: string[]): Promise<StagedSource> {
  if (source.kind === 'stored') {
    if (!(await store.has(store.contentKey(source.hash)))) {
      throw new AppError('NOT_FOUND', `uploaded source ${source.name} is not in the store`);
    }
    const size = (await store.get(store.contentKey(source.hash))).length;
    return { hash: source.hash, size, name: source.name, sourceKey: source.sourceKey, title: source.title };
  }
  const given = resolve(source.path);
  // Confined (roots given): the API handed over a real path, and any link on the way now means the
  // filesystem changed under us. Unconfined (the local operator names any file): links in the path
  // are the operator's own (a symlinked home or mount), so the real path is opened.
  const path = roots ? given : await realpath(given).catch(() => given);
  const handle = await openNoFollow(path);
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new DocumentError('INVALID_INPUT', `not a regular file: ${basename(path)}`);
    if (info.size > maxFileBytes) {
      throw new DocumentError('FILE_TOO_LARGE', `${basename(path)} is ${info.size} bytes; the limit is ${maxFileBytes}`);
    }
    await assertSameRealFile(path, info, roots);
    // maxBytes again while streaming: the file may grow after the fstat.
    const { hash, size } = await store.putStream(handle.createReadStream({ highWaterMark: 1 << 20, autoClose: false }), { maxBytes: maxFileBytes });
    return { hash, size, name: basename(given), sourceKey: `file:${given}` };
  } finally {
    await handle.close().catch(() => undefined);
  }
}
