import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';

/** Temp names start with a dot: keys never do, so a leftover temp file is never listed as a key. */
export function tempPathIn(dir: string, hint: string): string {
  return path.join(dir, `.tmp-${hint}-${process.pid}-${randomBytes(6).toString('hex')}`);
}

export function isTempName(name: string): boolean {
  return name.startsWith('.');
}

/**
 * Makes a completed rename durable. Some platforms cannot open or fsync a directory; there the rename
 * is still atomic, just not guaranteed to survive power loss, which is the best they offer.
 */
export async function fsyncDir(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EACCES') throw err;
  } finally {
    await handle?.close();
  }
}

export async function removeQuietly(file: string): Promise<void> {
  await fsp.rm(file, { force: true });
}

/**
 * Write to a temp file in the target's directory, fsync it, then rename over the target. The file is
 * created private (0600 unless told otherwise), so it is never readable by others nor ever half-written.
 */
export async function writeFileAtomic(target: string, data: Uint8Array | string, mode = 0o600): Promise<void> {
  const dir = path.dirname(target);
  await fsp.mkdir(dir, { recursive: true });
  const tmp = tempPathIn(dir, path.basename(target));
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(tmp, 'wx', mode);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, target);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await removeQuietly(tmp);
    throw err;
  }
  await fsyncDir(dir);
}
