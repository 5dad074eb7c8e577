import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../errors.js';
import type { ChunkPayload } from '../domain/types.js';
import type { Logger } from '../obs/logger.js';
import { fsyncDir, removeQuietly, tempPathIn } from '../store/atomic.js';
import {
  decodeBody,
  decodeHeader,
  encodeDelete,
  encodeEnd,
  encodeHeader,
  encodeUpsert,
  HEADER_BYTES,
  LOG_MAGIC,
  MAX_IDS_PER_DELETE,
  RecordType,
} from './log-format.js';
import { scanFrames } from './log-scan.js';
import { MemoryCollection, type MemoryCollectionOptions } from './memory-collection.js';

export const LOG_FILE = 'log.bin';
export const MANIFEST_FILE = 'manifest.json';

/** One collection: its in-memory state plus where its log stands on disk. */
export interface CollectionState {
  name: string;
  dir: string;
  dimension: number;
  mem: MemoryCollection;
  /** File offset just past the last intact frame applied. */
  offset: number;
  /** Identity of the log file applied: a rewrite (compaction, restore, drop + create) changes both. */
  ino: number;
  fileId: string;
  /** Upsert frames plus deleted ids in the log: compaction is due when this outgrows the live points. */
  entries: number;
  /** Writer only: the append handle. */
  handle?: FileHandle;
  /** Set when a failed append could not be rolled back: the log must not take more writes. */
  broken?: unknown;
}

/** Payloads are stored frozen: callers get the index's own object and must not be able to change it. */
export function freezePayload(payload: ChunkPayload): ChunkPayload {
  if (Array.isArray(payload.acl)) Object.freeze(payload.acl);
  return Object.freeze(payload);
}

/** Applies one CRC-checked body to `mem`; returns how many log entries it adds. */
export function applyBody(mem: MemoryCollection, body: Buffer): number {
  const record = decodeBody(body, mem.dimension);
  if (record.type === RecordType.Upsert) {
    mem.upsertFromBytes(record.id, body, record.vectorOffset, freezePayload(record.payload));
    return 1;
  }
  if (record.type === RecordType.Delete) {
    for (const id of record.ids) mem.delete(id);
    return record.ids.length;
  }
  throw new AppError('INDEX_ERROR', 'unexpected end record inside a collection log');
}

export function encodeDeletes(ids: string[]): Buffer[] {
  const frames: Buffer[] = [];
  for (let i = 0; i < ids.length; i += MAX_IDS_PER_DELETE) frames.push(encodeDelete(ids.slice(i, i + MAX_IDS_PER_DELETE)));
  return frames;
}

const WRITE_BATCH_BYTES = 8 * 1024 * 1024;

async function writeAll(handle: FileHandle, buf: Buffer): Promise<void> {
  let written = 0;
  while (written < buf.length) {
    const { bytesWritten } = await handle.write(buf, written, buf.length - written);
    written += bytesWritten;
  }
}

/** Writes frames in large batches; each frame lies whole inside one write call. */
export async function writeFrames(handle: FileHandle, frames: Iterable<Buffer>): Promise<number> {
  let batch: Buffer[] = [];
  let batchBytes = 0;
  let total = 0;
  for (const frame of frames) {
    batch.push(frame);
    batchBytes += frame.length;
    if (batchBytes >= WRITE_BATCH_BYTES) {
      await writeAll(handle, batch.length === 1 ? batch[0] : Buffer.concat(batch, batchBytes));
      total += batchBytes;
      batch = [];
      batchBytes = 0;
    }
  }
  if (batchBytes > 0) {
    await writeAll(handle, batch.length === 1 ? batch[0] : Buffer.concat(batch, batchBytes));
    total += batchBytes;
  }
  return total;
}

function* upsertFramesOf(mem: MemoryCollection): Generator<Buffer> {
  for (const { id, payload, vector } of mem.entries()) yield encodeUpsert(id, JSON.stringify(payload), vector);
}

/**
 * Writes `header` + one upsert frame per live point (+ an END frame for snapshots) to a new file and
 * fsyncs it. The caller renames it into place.
 */
export async function writeCompactFile(file: string, header: Buffer, mem: MemoryCollection, withEnd: boolean): Promise<number> {
  const handle = await fsp.open(file, 'wx');
  try {
    await writeAll(handle, header);
    let bytes = header.length + (await writeFrames(handle, upsertFramesOf(mem)));
    if (withEnd) {
      const end = encodeEnd(mem.size);
      await writeAll(handle, end);
      bytes += end.length;
    }
    await handle.sync();
    return bytes;
  } finally {
    await handle.close();
  }
}

async function readManifestDimension(dir: string): Promise<number> {
  let manifest: { dimension?: unknown };
  try {
    manifest = JSON.parse(await fsp.readFile(path.join(dir, MANIFEST_FILE), 'utf8')) as { dimension?: unknown };
  } catch (err) {
    throw new AppError('INDEX_ERROR', 'collection manifest is missing or unreadable', { cause: err, details: { dir } });
  }
  if (typeof manifest.dimension !== 'number' || !Number.isInteger(manifest.dimension) || manifest.dimension < 1) {
    throw new AppError('INDEX_ERROR', 'collection manifest has no valid dimension', { details: { dir } });
  }
  return manifest.dimension;
}

/**
 * Builds a complete collection directory (manifest + compacted log of `mem`) at `tempDir`, ready to be
 * renamed into place, so nobody ever sees a half-made collection.
 */
export async function writeCollectionDir(tempDir: string, mem: MemoryCollection): Promise<void> {
  await fsp.mkdir(tempDir, { recursive: true });
  const manifest = { format: 1, dimension: mem.dimension, createdAt: new Date().toISOString() };
  const manifestFile = path.join(tempDir, MANIFEST_FILE);
  await fsp.writeFile(manifestFile, JSON.stringify(manifest) + '\n', { flag: 'wx' });
  const fh = await fsp.open(manifestFile, 'r');
  await fh.sync().finally(() => fh.close());
  await writeCompactFile(path.join(tempDir, LOG_FILE), encodeHeader(LOG_MAGIC, mem.dimension), mem, false);
  await fsyncDir(tempDir);
}

/**
 * Opens a collection directory and replays its log. A writer truncates a torn or corrupt tail (the
 * mark of a crash mid-append) and keeps an append handle; a reader leaves the file alone and simply
 * stops before the tail, which may be a write still in progress.
 */
export async function loadCollection(
  dir: string,
  name: string,
  options: { writable: boolean; logger: Logger } & MemoryCollectionOptions,
): Promise<CollectionState> {
  const dimension = await readManifestDimension(dir);
  const logFile = path.join(dir, LOG_FILE);
  const handle = await fsp.open(logFile, 'r');
  let state: CollectionState;
  try {
    const stat = await handle.stat();
    const headerBytes = Buffer.alloc(HEADER_BYTES);
    await handle.read(headerBytes, 0, HEADER_BYTES, 0);
    const header = decodeHeader(headerBytes, LOG_MAGIC);
    if (!header) throw new AppError('INDEX_ERROR', 'collection log has no valid header', { details: { collection: name } });
    if (header.dimension !== dimension) {
      throw new AppError('INDEX_ERROR', 'collection log and manifest disagree on the dimension', { details: { collection: name } });
    }
    const mem = new MemoryCollection(dimension, 1024, true, { int8: options.int8 });
    let entries = 0;
    const scan = await scanFrames(handle, HEADER_BYTES, stat.size, (body) => {
      entries += applyBody(mem, body);
    });
    state = { name, dir, dimension, mem, offset: scan.goodEnd, ino: stat.ino, fileId: header.fileId!, entries };
    if (scan.stop !== 'eof') {
      const droppedBytes = stat.size - scan.goodEnd;
      if (options.writable) {
        options.logger.warn('index log has a torn tail; truncating it', {
          collection: name,
          offset: scan.goodEnd,
          droppedBytes,
          reason: scan.stop,
        });
        await fsp.truncate(logFile, scan.goodEnd);
      } else {
        options.logger.debug('index log tail is incomplete; reading up to it', { collection: name, offset: scan.goodEnd, droppedBytes });
      }
    }
  } finally {
    await handle.close();
  }
  if (options.writable) state.handle = await fsp.open(logFile, 'a');
  return state;
}

/**
 * Reader side of refresh: applies frames the writer appended since the last read. Returns 'replaced'
 * when the log file is no longer the one this state was built from (compaction, restore, drop and
 * re-create), in which case the caller reloads the collection from scratch.
 */
export async function readAppended(state: CollectionState): Promise<'ok' | 'replaced'> {
  let handle: FileHandle;
  try {
    handle = await fsp.open(path.join(state.dir, LOG_FILE), 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'replaced';
    throw err;
  }
  try {
    const stat = await handle.stat();
    const headerBytes = Buffer.alloc(HEADER_BYTES);
    await handle.read(headerBytes, 0, HEADER_BYTES, 0);
    const header = decodeHeader(headerBytes, LOG_MAGIC);
    if (!header || stat.ino !== state.ino || header.fileId !== state.fileId || stat.size < state.offset) return 'replaced';
    if (stat.size === state.offset) return 'ok';
    const scan = await scanFrames(handle, state.offset, stat.size, (body) => {
      state.entries += applyBody(state.mem, body);
    });
    state.offset = scan.goodEnd;
    return 'ok';
  } finally {
    await handle.close();
  }
}

/**
 * Appends frames and only then reports success, so the caller updates memory after the bytes reached
 * the OS. A failed append is cut back to the last good offset; if even that fails the collection
 * refuses further writes rather than append after garbage (which replay would drop).
 */
export async function appendFrames(state: CollectionState, frames: Buffer[], fsync: boolean): Promise<void> {
  const handle = state.handle;
  if (!handle) throw new AppError('INDEX_ERROR', 'collection is not open for writing', { details: { collection: state.name } });
  if (state.broken) {
    throw new AppError('INDEX_ERROR', 'collection log failed earlier and takes no more writes; reopen the index', {
      cause: state.broken,
      details: { collection: state.name },
    });
  }
  try {
    const bytes = await writeFrames(handle, frames);
    if (fsync) await handle.datasync();
    state.offset += bytes;
  } catch (err) {
    try {
      await handle.truncate(state.offset);
    } catch (truncateErr) {
      state.broken = truncateErr;
    }
    throw new AppError('INDEX_ERROR', 'could not append to the collection log', { cause: err, details: { collection: state.name } });
  }
}

/** Rewrites the log with only live points (new file id), then atomically renames it over the old one. */
export async function compactLog(state: CollectionState): Promise<void> {
  const logFile = path.join(state.dir, LOG_FILE);
  const tmp = tempPathIn(state.dir, 'compact');
  const header = encodeHeader(LOG_MAGIC, state.dimension);
  let bytes: number;
  try {
    bytes = await writeCompactFile(tmp, header, state.mem, false);
    await fsp.rename(tmp, logFile);
  } catch (err) {
    await removeQuietly(tmp);
    throw new AppError('INDEX_ERROR', 'could not compact the collection log', { cause: err, details: { collection: state.name } });
  }
  await fsyncDir(state.dir);
  const old = state.handle;
  state.handle = await fsp.open(logFile, 'a');
  await old?.close();
  const stat = await state.handle.stat();
  state.ino = stat.ino;
  state.fileId = decodeHeader(header, LOG_MAGIC)!.fileId!;
  state.offset = bytes;
  state.entries = state.mem.size;
  state.broken = undefined;
}
