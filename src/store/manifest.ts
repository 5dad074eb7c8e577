import type { SourceSpec } from '../domain/ingest.js';
import type { BlobStore } from './port.js';

/** A job's source list lives in the store; the workflow pages through it (claim-check). */
export interface JobManifest {
  sources: SourceSpec[];
  /** The submitter: jobs belong to them (admins see all). Absent in manifests written before ownership. */
  owner?: string;
  acl?: string[];
}

export function manifestKeyFor(jobId: string): string {
  return `jobs/${jobId}/manifest.json`;
}

export async function writeManifest(store: BlobStore, jobId: string, sources: SourceSpec[], meta: { owner?: string; acl?: string[] } = {}): Promise<string> {
  const key = manifestKeyFor(jobId);
  await store.put(key, JSON.stringify({ sources, ...meta } satisfies JobManifest));
  return key;
}

/** The job's submitter, or undefined when the job is unknown here or predates ownership. */
export async function readManifestOwner(store: BlobStore, jobId: string): Promise<{ found: boolean; owner?: string }> {
  const raw = await store.tryGet(manifestKeyFor(jobId));
  if (!raw) return { found: false };
  return { found: true, owner: (JSON.parse(raw.toString('utf8')) as JobManifest).owner };
}

export async function readManifestPage(store: BlobStore, key: string, offset: number, limit: number): Promise<SourceSpec[]> {
  const manifest = JSON.parse((await store.get(key)).toString('utf8')) as JobManifest;
  return manifest.sources.slice(offset, offset + limit);
}
