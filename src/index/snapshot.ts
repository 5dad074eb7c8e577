import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors.js';
import { fsyncDir, removeQuietly, tempPathIn } from '../store/atomic.js';
import type { SnapshotInfo } from './port.js';
import { applyBody, writeCompactFile } from './collection-log.js';
import { decodeBody, decodeHeader, encodeHeader, HEADER_BYTES, RecordType, SNAPSHOT_MAGIC } from './log-format.js';
import { scanFrames } from './log-scan.js';
import { MemoryCollection } from './memory-collection.js';

/**
 * A snapshot is one self-contained file: a snapshot header (dimension, creation time), one upsert frame
 * per live point, and an END frame with the point count. Written to a temp name, fsynced, renamed.
 */
export async function writeSnapshot(collection: string, mem: MemoryCollection, destDir: string): Promise<SnapshotInfo> {
  await fsp.mkdir(destDir, { recursive: true });
  const createdAt = new Date();
  const stamp = createdAt.toISOString().replace(/[:.]/g, '-');
  const file = path.resolve(destDir, `${collection}-${stamp}-${randomBytes(3).toString('hex')}.snapshot`);
  const tmp = tempPathIn(destDir, 'snapshot');
  let bytes: number;
  try {
    bytes = await writeCompactFile(tmp, encodeHeader(SNAPSHOT_MAGIC, mem.dimension, createdAt.getTime()), mem, true);
    await fsp.rename(tmp, file);
  } catch (err) {
    await removeQuietly(tmp);
    throw new AppError('INDEX_ERROR', 'could not write the snapshot', { cause: err, details: { collection } });
  }
  await fsyncDir(destDir);
  return { collection, path: file, points: mem.size, bytes, createdAt: createdAt.toISOString() };
}

function corrupt(reason: string, snapshotPath: string, cause?: unknown): AppError {
  return new AppError('INDEX_ERROR', `snapshot is not valid: ${reason}`, { cause, details: { snapshotPath } });
}

/**
 * Reads and fully validates a snapshot into memory: header CRC, every frame CRC, and a final END frame
 * whose count matches, with nothing after it. Any defect is INDEX_ERROR and nothing is returned.
 */
export async function readSnapshot(snapshotPath: string): Promise<MemoryCollection> {
  let handle;
  try {
    handle = await fsp.open(snapshotPath, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AppError('NOT_FOUND', 'snapshot file not found', { cause: err, details: { snapshotPath } });
    throw corrupt('cannot be opened', snapshotPath, err);
  }
  try {
    const { size } = await handle.stat();
    const headerBytes = Buffer.alloc(HEADER_BYTES);
    await handle.read(headerBytes, 0, HEADER_BYTES, 0);
    const header = decodeHeader(headerBytes, SNAPSHOT_MAGIC);
    if (!header) throw corrupt('bad header', snapshotPath);
    const mem = new MemoryCollection(header.dimension);
    let endCount: number | undefined;
    let afterEnd = false;
    let scan;
    try {
      scan = await scanFrames(handle, HEADER_BYTES, size, (body) => {
        if (endCount !== undefined) {
          afterEnd = true;
          return;
        }
        if (body[0] === RecordType.End) {
          const record = decodeBody(body, header.dimension);
          if (record.type === RecordType.End) endCount = record.points;
          return;
        }
        if (body[0] !== RecordType.Upsert) throw corrupt('unexpected record type', snapshotPath);
        applyBody(mem, body);
      });
    } catch (err) {
      throw err instanceof AppError && err.details?.snapshotPath === snapshotPath ? err : corrupt('malformed record', snapshotPath, err);
    }
    if (scan.stop !== 'eof') throw corrupt(`${scan.stop} frame at byte ${scan.goodEnd}`, snapshotPath);
    if (endCount === undefined) throw corrupt('missing end record (truncated?)', snapshotPath);
    if (afterEnd) throw corrupt('data after the end record', snapshotPath);
    if (endCount !== mem.size) throw corrupt(`end record says ${endCount} points, found ${mem.size}`, snapshotPath);
    return mem;
  } finally {
    await handle.close();
  }
}
