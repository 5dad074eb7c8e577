import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors.js';
import { fsyncDir, isTempName, removeQuietly, tempPathIn, writeFileAtomic } from './atomic.js';
import { contentKeyFor, keySegments, prefixSegments } from './keys.js';
import type { BlobStore } from './port.js';

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * Content-addressed blob store on a local directory. Every write goes to a dot-prefixed temp file in
 * the same filesystem, is fsynced, then renamed into place, so readers see whole values only and a
 * crash leaves at most an unlisted temp file behind.
 */
export function createFsBlobStore(root: string): BlobStore {
  const base = path.resolve(root);
  const fileFor = (key: string) => path.join(base, ...keySegments(key));

  async function get(key: string): Promise<Buffer> {
    const value = await tryGet(key);
    if (value === undefined) throw new AppError('NOT_FOUND', 'no such key in the source store', { details: { key } });
    return value;
  }

  async function tryGet(key: string): Promise<Buffer | undefined> {
    try {
      return await fsp.readFile(fileFor(key));
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return undefined;
      throw err;
    }
  }

  async function has(key: string): Promise<boolean> {
    try {
      return (await fsp.stat(fileFor(key))).isFile();
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return false;
      throw err;
    }
  }

  async function list(prefix: string): Promise<string[]> {
    const { dirSegments } = prefixSegments(prefix);
    const keys: string[] = [];
    async function walk(dir: string, keyPrefix: string): Promise<void> {
      let entries;
      try {
        entries = await fsp.readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return;
        throw err;
      }
      for (const entry of entries) {
        if (isTempName(entry.name)) continue;
        const key = keyPrefix + entry.name;
        if (entry.isDirectory()) await walk(path.join(dir, entry.name), key + '/');
        else if (entry.isFile() && key.startsWith(prefix)) keys.push(key);
      }
    }
    await walk(path.join(base, ...dirSegments), dirSegments.length ? dirSegments.join('/') + '/' : '');
    return keys.sort();
  }

  async function putContent(data: Uint8Array): Promise<{ hash: string; size: number }> {
    const hash = createHash('sha256').update(data).digest('hex');
    const key = contentKeyFor(hash);
    // Same hash, same bytes: an existing file is the value already. Concurrent writers of the same
    // content each rename a complete identical file, so the race is harmless.
    if (!(await has(key))) await writeFileAtomic(fileFor(key), data);
    return { hash, size: data.byteLength };
  }

  async function putFile(source: string): Promise<{ hash: string; size: number }> {
    const sourcesDir = path.join(base, 'sources');
    await fsp.mkdir(sourcesDir, { recursive: true });
    // The hash (and so the final directory) is known only at the end: stage in sources/, same filesystem.
    const tmp = tempPathIn(sourcesDir, 'upload');
    const hasher = createHash('sha256');
    let size = 0;
    let handle: fsp.FileHandle | undefined;
    try {
      handle = await fsp.open(tmp, 'wx');
      for await (const chunk of createReadStream(source, { highWaterMark: 1 << 20 })) {
        const bytes = chunk as Buffer;
        hasher.update(bytes);
        size += bytes.byteLength;
        let written = 0;
        while (written < bytes.byteLength) {
          const { bytesWritten } = await handle.write(bytes, written, bytes.byteLength - written);
          written += bytesWritten;
        }
      }
      await handle.sync();
      await handle.close();
      handle = undefined;
      const hash = hasher.digest('hex');
      const target = fileFor(contentKeyFor(hash));
      if (await has(contentKeyFor(hash))) {
        await removeQuietly(tmp);
      } else {
        await fsp.mkdir(path.dirname(target), { recursive: true });
        await fsp.rename(tmp, target);
        await fsyncDir(path.dirname(target));
      }
      return { hash, size };
    } catch (err) {
      await handle?.close().catch(() => undefined);
      await removeQuietly(tmp);
      if (errno(err) === 'ENOENT' || errno(err) === 'EISDIR') {
        throw new AppError('NOT_FOUND', 'source file cannot be read', { cause: err, details: { path: source } });
      }
      throw err;
    }
  }

  return {
    async put(key, data) {
      await writeFileAtomic(fileFor(key), typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    },
    get,
    tryGet,
    has,
    async delete(key) {
      await fsp.rm(fileFor(key), { force: true });
    },
    list,
    putContent,
    putFile,
    contentKey: contentKeyFor,
  };
}
