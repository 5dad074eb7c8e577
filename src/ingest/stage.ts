import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { SourceSpec, StagedSource } from '../domain/ingest.js';
import { AppError, DocumentError } from '../errors.js';
import type { BlobStore } from '../store/port.js';

/** Copies a source into the content store (the system of record) and names it by a stable key. */
export async function stageSource(store: BlobStore, source: SourceSpec, maxFileBytes: number): Promise<StagedSource> {
  if (source.kind === 'stored') {
    if (!(await store.has(store.contentKey(source.hash)))) {
      throw new AppError('NOT_FOUND', `uploaded source ${source.name} is not in the store`);
    }
    const size = (await store.get(store.contentKey(source.hash))).length;
    return { hash: source.hash, size, name: source.name, sourceKey: source.sourceKey, title: source.title };
  }
  const path = resolve(source.path);
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new AppError('NOT_FOUND', `no such file: ${path}`);
    if (err.code === 'EACCES') throw new DocumentError('INVALID_INPUT', `permission denied: ${path}`);
    throw err;
  });
  if (!info.isFile()) throw new DocumentError('INVALID_INPUT', `not a regular file: ${path}`);
  if (info.size > maxFileBytes) {
    throw new DocumentError('FILE_TOO_LARGE', `${basename(path)} is ${info.size} bytes; the limit is ${maxFileBytes}`);
  }
  const { hash, size } = await store.putFile(path);
  return { hash, size, name: basename(path), sourceKey: `file:${path}` };
}
