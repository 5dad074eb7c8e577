import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { AppError, DocumentError } from '../errors.js';
import { fsyncDir, isTempName, removeQuietly, tempPathIn } from './atomic.js';
import { contentKeyFor, keySegments, prefixSegments } from './keys.js';
import type { BlobStore, ByteSource } from './port.js';

// The store holds other people's documents: only the service account may read or list them,
// whatever the umask says about the rest of the machine.
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

interface TempWrite {
  tmp: string;
  hash: string;
  size: number;
}

/**
 * Writes a stream to a fresh temp file in `dir`, hashing as it goes, and fsyncs it. Nothing is left
 * behind on failure. Each chunk is written before the next is pulled, so memory stays at one chunk
 * and a producer that reuses its buffer between chunks is safe.
 */
async function writeTemp(dir: string, hint: string, source: ByteSource | Iterable<Uint8Array>, maxBytes: number): Promise<TempWrite> {
  await fsp.mkdir(dir, { recursive: true, mode: DIR_MODE });
  const tmp = tempPathIn(dir, hint);
  const hasher = createHash('sha256');
  let size = 0;
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(tmp, 'wx', FILE_MODE);
    for await (const chunk of source as AsyncIterable<Uint8Array | string> | Iterable<Uint8Array>) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      size += bytes.byteLength;
      if (size > maxBytes) {
        throw new DocumentError('FILE_TOO_LARGE', `the content is larger than the limit of ${maxBytes} bytes`, { details: { maxBytes } });
      }
      hasher.update(bytes);
      let written = 0;
      while (written < bytes.byteLength) {
        const { bytesWritten } = await handle.write(bytes, written, bytes.byteLength - written);
        written += bytesWritten;
      }
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    return { tmp, hash: hasher.digest('hex'), size };
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await removeQuietly(tmp);
    throw err;
  }
}

/** Renames a finished temp file over its target and makes the rename durable. */
async function commit(tmp: string, target: string): Promise<void> {
  const dir = path.dirname(target);
  try {
    await fsp.mkdir(dir, { recursive: true, mode: DIR_MODE });
    await fsp.rename(tmp, target);
  } catch (err) {
    await removeQuietly(tmp);
    throw err;
  }
  await fsyncDir(dir);
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

  async function put(key: string, data: Uint8Array | string): Promise<void> {
    const target = fileFor(key);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const { tmp } = await writeTemp(path.dirname(target), path.basename(target), [bytes], Infinity);
    await commit(tmp, target);
  }

  async function putContent(data: Uint8Array): Promise<{ hash: string; size: number }> {
    const hash = createHash('sha256').update(data).digest('hex');
    const key = contentKeyFor(hash);
    // Same hash, same bytes: an existing file is the value already. Concurrent writers of the same
    // content each rename a complete identical file, so the race is harmless.
    if (!(await has(key))) await put(key, data);
    return { hash, size: data.byteLength };
  }

  async function putStream(stream: ByteSource, opts: { maxBytes?: number } = {}): Promise<{ hash: string; size: number }> {
    // The hash (and so the final directory) is known only at the end: stage in sources/, same filesystem.
    const { tmp, hash, size } = await writeTemp(path.join(base, 'sources'), 'upload', stream, opts.maxBytes ?? Infinity);
    const key = contentKeyFor(hash);
    if (await has(key)) await removeQuietly(tmp);
    else await commit(tmp, fileFor(key));
    return { hash, size };
  }

  async function putFile(source: string): Promise<{ hash: string; size: number }> {
    let handle: fsp.FileHandle | undefined;
    try {
      handle = await fsp.open(source, 'r');
      return await putStream(handle.createReadStream({ highWaterMark: 1 << 20, autoClose: false }));
    } catch (err) {
      // A directory opens fine on Linux and fails only on the first read: both mean "no such file".
      if (errno(err) === 'ENOENT' || errno(err) === 'EISDIR' || errno(err) === 'ENOTDIR') {
        throw new AppError('NOT_FOUND', 'source file cannot be read', { cause: err, details: { path: source } });
      }
      throw err;
    } finally {
      await handle?.close().catch(() => undefined);
    }
  }

  return {
    put,
    get,
    tryGet,
    has,
    async delete(key) {
      await fsp.rm(fileFor(key), { force: true });
    },
    list,
    putContent,
    putStream,
    putFile,
    contentKey: contentKeyFor,
  };
}
