import type { PipelineRef } from './ingest.js';

/** What a snapshot holds, written last into its directory: its presence means the snapshot is complete. */
export interface SnapshotManifest {
  format: 1;
  id: string;
  createdAt: string;
  backend: 'embedded' | 'qdrant';
  /** The served alias and the collection it pointed at (collection snapshots do not carry aliases). */
  alias: string;
  aliases: Record<string, string>;
  collection: string;
  pipeline?: PipelineRef;
  points: number;
  /** The store generation the snapshot was taken at: the catalog's record count and a digest over it. */
  catalog: { records: number; digest: string };
  /** Every file of the snapshot but the manifest, with its size and sha256. */
  files: { name: string; bytes: number; sha256: string }[];
}

/** The file holding the collection itself (the index's own snapshot format). */
export const COLLECTION_FILE = 'collection.snapshot';
export const CATALOG_FILE = 'catalog.jsonl';
export const PIPELINES_FILE = 'pipelines.json';
export const MANIFEST_FILE = 'manifest.json';

/** A snapshot id that sorts by time: `snap-<UTC yyyymmddThhmmssZ>[-<suffix>]`. */
export function snapshotIdFor(at: Date, suffix?: string): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return suffix ? `snap-${stamp}-${suffix.replace(/[^A-Za-z0-9]/g, '').slice(0, 8)}` : `snap-${stamp}`;
}

export interface RetentionPolicy {
  /** The newest N are always kept. */
  keep: number;
  /** Plus the newest of each of the last N days that have one. */
  keepDaily: number;
  /** Plus the newest of each of the last N ISO-ish weeks (7-day buckets since the epoch) that have one. */
  keepWeekly: number;
}

/**
 * Which snapshots to delete. Nothing at all unless a verified snapshot exists (a failing backup never
 * thins out the last good ones), and the newest verified one is always kept. Pure.
 */
export function snapshotsToDelete(snapshots: readonly { id: string; createdAt: string; verified: boolean }[], policy: RetentionPolicy): string[] {
  const sorted = [...snapshots].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1));
  const newestVerified = sorted.find((s) => s.verified);
  if (!newestVerified) return [];
  const keep = new Set<string>([newestVerified.id, ...sorted.slice(0, policy.keep).map((s) => s.id)]);
  const bucketed = (size: number, count: number) => {
    const seen = new Set<number>();
    for (const s of sorted) {
      const bucket = Math.floor(Date.parse(s.createdAt) / size);
      if (seen.has(bucket)) continue;
      if (seen.size >= count) break;
      seen.add(bucket);
      keep.add(s.id);
    }
  };
  const DAY = 86_400_000;
  bucketed(DAY, policy.keepDaily);
  bucketed(7 * DAY, policy.keepWeekly);
  return sorted.filter((s) => !keep.has(s.id)).map((s) => s.id);
}

/** Top-10 overlap of two rankings, 0..1 (order ignored): the drill's measure when the live index moved on. */
export function overlapAt(a: readonly string[], b: readonly string[], k = 10): number {
  const top = new Set(a.slice(0, k));
  const denom = Math.max(1, Math.min(k, Math.max(a.length, b.length)));
  return b.slice(0, k).filter((id) => top.has(id)).length / denom;
}

/** What a restore drill found; written to the store (lifecycle/drills/) and exported as metrics by the API. */
export interface DrillReport {
  snapshotId: string;
  collection: string;
  scratch: string;
  points: number;
  catalogRecords: number;
  /** Recovery time: verifying the backup copy and restoring it until it answers (seconds). */
  rtoSeconds: number;
  /** Recovery point: how old the snapshot was when the drill ran (seconds). */
  rpoSeconds: number;
  probes: number;
  top10Identical: number;
  meanOverlap: number;
  /** The live collection changed since the snapshot (points or catalog): the overlap tolerance applies. */
  liveMoved: boolean;
  tolerance: number;
  passed: boolean;
  reason?: string;
  finishedAt: string;
}

export interface RestoredScratch {
  manifest: SnapshotManifest;
  scratch: string;
  rtoSeconds: number;
}

export interface RestoreReport {
  snapshotId: string;
  collection: string;
  /** The restored collection's pipeline (the snapshot's, under the new name). */
  pipeline: PipelineRef;
  /** Documents the store gained after the snapshot, re-ingested into the restored collection. */
  catchUp?: { documents: number; done: number; failed: number; chunks: number };
  points: number;
  previous?: string;
  catalogRestored: number;
  seconds: number;
}
