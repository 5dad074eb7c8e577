import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fsp, openAsBlob } from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../../errors.js';
import { fsyncDir, removeQuietly, tempPathIn } from '../../store/atomic.js';
import { enc, qdrantFetch, type HttpTarget } from './http.js';

/** The checksum file written beside each downloaded snapshot, in `sha256sum` format. */
export const checksumPathFor = (snapshotPath: string) => `${snapshotPath}.sha256`;

const SHA256 = /^[0-9a-f]{64}$/;

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** The checksum recorded when the snapshot was downloaded, if its checksum file is there. */
export async function readRecordedChecksum(snapshotPath: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(checksumPathFor(snapshotPath), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const hex = text.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  if (!SHA256.test(hex)) {
    throw new AppError('INDEX_ERROR', 'the snapshot checksum file is not a sha256 line', { details: { snapshotPath } });
  }
  return hex;
}

/**
 * Streams a server-side snapshot into `destDir` under its own name, hashing as it goes; the file appears
 * (renamed from a temp name) only when its sha256 equals the one the server reported.
 */
export async function downloadSnapshot(
  target: HttpTarget,
  collection: string,
  snapshot: { name: string; checksum?: string | null },
  destDir: string,
  timeoutMs: number,
): Promise<{ path: string; bytes: number; sha256: string }> {
  await fsp.mkdir(destDir, { recursive: true });
  const file = path.resolve(destDir, path.basename(snapshot.name));
  const tmp = tempPathIn(destDir, 'snapshot');
  try {
    const response = await qdrantFetch(target, `/collections/${enc(collection)}/snapshots/${enc(snapshot.name)}`, {
      method: 'GET',
      timeoutMs,
    });
    if (!response.body) throw new AppError('INDEX_ERROR', 'the snapshot download had no body', { details: { collection } });
    const hash = createHash('sha256');
    let bytes = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), tap, createWriteStream(tmp, { mode: 0o600 }));
    const sha256 = hash.digest('hex');
    const expected = snapshot.checksum?.toLowerCase();
    if (expected && expected !== sha256) {
      throw new AppError('INDEX_ERROR', 'the downloaded snapshot does not match the checksum the server reported', {
        details: { collection, snapshot: snapshot.name, expected, actual: sha256 },
      });
    }
    const handle = await fsp.open(tmp, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(tmp, file);
    await fsp.writeFile(checksumPathFor(file), `${sha256}  ${path.basename(file)}\n`, { mode: 0o600 });
    await fsyncDir(destDir);
    return { path: file, bytes, sha256 };
  } finally {
    await removeQuietly(tmp);
  }
}

/**
 * Uploads a snapshot file and recovers `collection` from it (created when absent, replaced when
 * present). Qdrant verifies `checksum` before it touches the collection, and keeps the upload among
 * the collection's snapshots under `uploadName`.
 */
export async function uploadSnapshot(
  target: HttpTarget,
  collection: string,
  snapshotPath: string,
  upload: { checksum: string; uploadName: string; timeoutMs: number },
): Promise<void> {
  const form = new FormData();
  form.append('snapshot', await openAsBlob(snapshotPath), upload.uploadName);
  await qdrantFetch(
    target,
    `/collections/${enc(collection)}/snapshots/upload?priority=snapshot&wait=true&checksum=${upload.checksum}`,
    { method: 'POST', body: form, timeoutMs: upload.timeoutMs },
  );
}
