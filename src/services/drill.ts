import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { compareRankings } from '../domain/probe.js';
import { CATALOG_FILE, COLLECTION_FILE, PIPELINES_FILE, overlapAt, type DrillReport, type RestoredScratch, type RestoreReport } from '../domain/snapshots.js';

export type { DrillReport, RestoredScratch, RestoreReport };
import { AppError } from '../errors.js';
import type { VectorIndex } from '../index/port.js';
import type { Logger } from '../obs/logger.js';
import { listCatalog, putCatalogRecord, readCatalogRecord, type CatalogRecord } from '../store/catalog.js';
import { recordPipeline, type PipelineRecord } from '../store/pipelines.js';
import type { BlobStore } from '../store/port.js';
import { catalogLines, newestBackup, verifySnapshotDir } from './snapshots.js';

/** The collection a drill restores into: beside the live one, never the live one. */
export function scratchNameFor(collection: string): string {
  return `${collection}_drill`;
}

/**
 * Restores a backed-up snapshot (the newest, or `snapshotId`) into a scratch collection after checking
 * every file against the manifest, then checks the point count and the catalog. SNAPSHOT_CORRUPT on
 * any mismatch, naming the file or figure that differs.
 */
export async function restoreIntoScratch(
  deps: { index: VectorIndex; backupDir: string; logger: Logger },
  opts: { snapshotId?: string } = {},
): Promise<RestoredScratch> {
  const t0 = performance.now();
  const chosen = opts.snapshotId ? { id: opts.snapshotId } : await newestBackup(deps.backupDir);
  if (!chosen) throw new AppError('NOT_FOUND', `no snapshot in the backup location ${deps.backupDir}: take one first (srag snapshot --now)`);
  const dir = join(deps.backupDir, chosen.id);
  const manifest = await verifySnapshotDir(dir);
  const catalogText = await fsp.readFile(join(dir, CATALOG_FILE), 'utf8');
  const records = catalogText === '' ? 0 : catalogText.split('\n').length - 1;
  if (records !== manifest.catalog.records) {
    throw new AppError('SNAPSHOT_CORRUPT', `snapshot ${manifest.id}: the catalog holds ${records} records, the manifest says ${manifest.catalog.records}`);
  }
  const scratch = scratchNameFor(manifest.collection);
  await deps.index.dropCollection(scratch);
  await deps.index.restoreSnapshot(join(dir, COLLECTION_FILE), scratch);
  const points = await deps.index.count(scratch);
  if (points !== manifest.points) {
    await deps.index.dropCollection(scratch);
    throw new AppError('SNAPSHOT_CORRUPT', `snapshot ${manifest.id}: restored ${points} points, the manifest says ${manifest.points}`);
  }
  const rtoSeconds = (performance.now() - t0) / 1000;
  deps.logger.info('drill: snapshot restored into scratch', { id: manifest.id, scratch, points, rtoSeconds });
  return { manifest, scratch, rtoSeconds };
}

/**
 * Fixed drill queries (stored vectors of evenly spread points of the snapshot) run against the scratch
 * copy and the live collection, exactly. Passed: every top-10 identical, or, when the live collection
 * moved on since the snapshot, a mean top-10 overlap of at least `tolerance`.
 */
export async function compareWithLive(
  deps: { index: VectorIndex; store: BlobStore },
  restored: RestoredScratch,
  opts: { alias: string; probes: number; tolerance: number; now?: Date },
): Promise<DrillReport> {
  const { manifest, scratch } = restored;
  const live = (await deps.index.getAlias(opts.alias)) ?? manifest.collection;
  const step = Math.max(1, Math.floor(manifest.points / Math.max(1, opts.probes)));
  const vectors: Float32Array[] = [];
  let seen = 0;
  await deps.index.exportPoints(scratch, (page) => {
    for (const p of page) if (seen++ % step === 0 && vectors.length < opts.probes) vectors.push(p.vector.slice());
  });
  let identical = 0;
  let overlap = 0;
  for (const v of vectors) {
    const a = await deps.index.search(scratch, v, 10, undefined, { exact: true });
    const b = await deps.index.search(live, v, 10, undefined, { exact: true });
    if (compareRankings(a, b).upToTies) identical += 1;
    overlap += overlapAt(a.map((h) => h.id), b.map((h) => h.id));
  }
  const livePoints = await deps.index.count(live);
  const liveCatalog = catalogLines(await listCatalog(deps.store));
  const liveMoved = livePoints !== manifest.points || liveCatalog.digest !== manifest.catalog.digest;
  const meanOverlap = vectors.length > 0 ? overlap / vectors.length : 1;
  const passed = liveMoved ? meanOverlap >= opts.tolerance : identical === vectors.length;
  const now = opts.now ?? new Date();
  return {
    snapshotId: manifest.id,
    collection: manifest.collection,
    scratch,
    points: manifest.points,
    catalogRecords: manifest.catalog.records,
    rtoSeconds: restored.rtoSeconds,
    rpoSeconds: Math.max(0, (now.getTime() - Date.parse(manifest.createdAt)) / 1000),
    probes: vectors.length,
    top10Identical: identical,
    meanOverlap,
    liveMoved,
    tolerance: opts.tolerance,
    passed,
    reason: passed
      ? undefined
      : liveMoved
        ? `mean top-10 overlap ${meanOverlap.toFixed(3)} is below the tolerance ${opts.tolerance}`
        : `top-10 identical for ${identical} of ${vectors.length} drill queries (the live collection did not change, so all must be)`,
    finishedAt: now.toISOString(),
  };
}

const LATEST = 'lifecycle/drills/latest.json';
const LAST_SUCCESS = 'lifecycle/drills/last-success.json';

/** Records a drill's outcome in the store (the API turns it into metrics). */
export async function recordDrill(store: BlobStore, report: DrillReport): Promise<void> {
  const body = JSON.stringify(report);
  await store.put(`lifecycle/drills/${report.finishedAt.replace(/[:.]/g, '-')}-${report.snapshotId}.json`, body);
  await store.put(LATEST, body);
  if (report.passed) await store.put(LAST_SUCCESS, body);
}

export async function readDrills(store: BlobStore): Promise<{ latest?: DrillReport; lastSuccess?: DrillReport }> {
  const read = async (key: string) => {
    const raw = await store.tryGet(key);
    return raw ? (JSON.parse(raw.toString('utf8')) as DrillReport) : undefined;
  };
  return { latest: await read(LATEST), lastSuccess: await read(LAST_SUCCESS) };
}

/**
 * The real restore: a backed-up snapshot into a new collection beside the live one (checksums and point
 * count checked first), its pipeline recorded for the new name, catalog records the store lost put
 * back, and only then the alias switched. The previous collection stays until someone drops it.
 */
export async function restoreForServing(
  deps: { index: VectorIndex; store: BlobStore; backupDir: string; logger: Logger },
  opts: { snapshotId: string; collection: string; alias: string },
): Promise<RestoreReport> {
  const t0 = performance.now();
  const dir = join(deps.backupDir, opts.snapshotId);
  const manifest = await verifySnapshotDir(dir);
  const pipelines = JSON.parse(await fsp.readFile(join(dir, PIPELINES_FILE), 'utf8')) as PipelineRecord[];
  const record = pipelines.find((p) => p.ref.collection === manifest.collection);
  if (!record) throw new AppError('PIPELINE_MISMATCH', `snapshot ${manifest.id} has no pipeline record for ${manifest.collection}: nothing says which model embeds for it`);
  const existing = await deps.index.count(opts.collection).catch(() => undefined);
  if (existing !== manifest.points) {
    await deps.index.dropCollection(opts.collection);
    await deps.index.restoreSnapshot(join(dir, COLLECTION_FILE), opts.collection);
  }
  const points = await deps.index.count(opts.collection);
  if (points !== manifest.points) throw new AppError('SNAPSHOT_CORRUPT', `snapshot ${manifest.id}: restored ${points} points, the manifest says ${manifest.points}`);
  const pipeline = { ...record.ref, collection: opts.collection };
  await recordPipeline(deps.store, { ...record, ref: pipeline });
  let catalogRestored = 0;
  for (const line of (await fsp.readFile(join(dir, CATALOG_FILE), 'utf8')).split('\n')) {
    if (!line) continue;
    const r = JSON.parse(line) as CatalogRecord;
    if (await readCatalogRecord(deps.store, r.documentId)) continue;
    await putCatalogRecord(deps.store, r);
    catalogRestored += 1;
  }
  const previous = await deps.index.getAlias(opts.alias);
  await deps.index.setAlias(opts.alias, opts.collection);
  deps.logger.info('restore: alias switched to the restored collection', { id: manifest.id, collection: opts.collection, previous, points, catalogRestored });
  return { snapshotId: manifest.id, collection: opts.collection, pipeline, points, previous, catalogRestored, seconds: (performance.now() - t0) / 1000 };
}
