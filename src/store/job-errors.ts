import type { IngestError } from '../domain/ingest.js';
import type { BlobStore } from './port.js';

/**
 * Every error of a job, one JSON file per source (`jobs/<jobId>/errors/<source index>.json`, an
 * array in the order the errors happened). The job report keeps only the first few hundred, since it
 * travels through workflow history; these files are the complete list, read back a page at a time.
 */
export function jobErrorsPrefix(jobId: string): string {
  return `jobs/${jobId}/errors/`;
}

export function sourceErrorsKey(jobId: string, sourceIndex: number): string {
  return `${jobErrorsPrefix(jobId)}${sourceIndex}.json`;
}

async function readList(store: BlobStore, key: string): Promise<IngestError[]> {
  const raw = await store.tryGet(key);
  return raw ? (JSON.parse(raw.toString('utf8')) as IngestError[]) : [];
}

/**
 * Writes errors of one source. With `from`, the file becomes its first `from` errors followed by
 * `errors`: a retried write gives the same file, so an activity may call this any number of times.
 * Without `from` the errors are appended unless the file already ends with them (a retry again).
 * An empty result removes the file, so a re-run of a job leaves no stale errors behind.
 */
export async function writeSourceErrors(
  store: BlobStore,
  jobId: string,
  sourceIndex: number,
  errors: IngestError[],
  from?: number,
): Promise<{ stored: number }> {
  const key = sourceErrorsKey(jobId, sourceIndex);
  const existing = from === 0 ? [] : await readList(store, key);
  let next: IngestError[];
  if (from !== undefined) next = [...existing.slice(0, from), ...errors];
  else if (endsWith(existing, errors)) next = existing;
  else next = [...existing, ...errors];
  // No empty files: a page can then tell from the file list alone whether more errors follow.
  if (next.length === 0) await store.delete(key);
  else await store.put(key, JSON.stringify(next));
  return { stored: next.length };
}

function endsWith(list: IngestError[], tail: IngestError[]): boolean {
  if (tail.length > list.length) return false;
  const start = list.length - tail.length;
  return tail.every((e, i) => {
    const have = list[start + i];
    return have.source === e.source && have.code === e.code && have.message === e.message;
  });
}

function sourceIndexOf(key: string, prefix: string): number {
  const m = /^(\d+)\.json$/.exec(key.slice(prefix.length));
  return m ? Number(m[1]) : -1;
}

/**
 * A page of a job's errors, in source order then in the order they happened. Sources without errors
 * have no file; a page reads only the files up to its end.
 */
export async function readJobErrors(store: BlobStore, jobId: string, offset: number, limit: number): Promise<{ errors: IngestError[]; more: boolean }> {
  const prefix = jobErrorsPrefix(jobId);
  const files = (await store.list(prefix))
    .map((key) => ({ key, index: sourceIndexOf(key, prefix) }))
    .filter((f) => f.index >= 0)
    .sort((a, b) => a.index - b.index);
  const out: IngestError[] = [];
  let skip = offset;
  for (let i = 0; i < files.length; i++) {
    const list = await readList(store, files[i].key);
    if (skip >= list.length) {
      skip -= list.length;
      continue;
    }
    const room = limit - out.length;
    const taken = list.slice(skip, skip + room);
    out.push(...taken);
    const leftHere = list.length - skip - taken.length;
    skip = 0;
    if (out.length >= limit) return { errors: out, more: leftHere > 0 || i < files.length - 1 };
  }
  return { errors: out, more: false };
}
