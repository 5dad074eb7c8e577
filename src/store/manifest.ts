import type { SourceSpec } from '../domain/ingest.js';
import type { BlobStore } from './port.js';

/** A job's source list lives in the store; the workflow pages through it (claim-check). */
export interface JobManifest {
  sources: SourceSpec[];
}

export function manifestKeyFor(jobId: string): string {
  return `jobs/${jobId}/manifest.json`;
}

export async function writeManifest(store: BlobStore, jobId: string, sources: SourceSpec[]): Promise<string> {
  const key = manifestKeyFor(jobId);
  await store.put(key, JSON.stringify({ sources } satisfies JobManifest));
  return key;
}

export async function readManifestPage(store: BlobStore, key: string, offset: number, limit: number): Promise<SourceSpec[]> {
  const manifest = JSON.parse((await store.get(key)).toString('utf8')) as JobManifest;
  return manifest.sources.slice(offset, offset + limit);
}
