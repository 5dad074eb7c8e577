import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { sha256Hex } from '../domain/ids.js';
import {
  CATALOG_FILE,
  COLLECTION_FILE,
  MANIFEST_FILE,
  PIPELINES_FILE,
  snapshotIdFor,
  snapshotsToDelete,
  type RetentionPolicy,
  type SnapshotManifest,
} from '../domain/snapshots.js';
import { AppError } from '../errors.js';
import type { VectorIndex } from '../index/port.js';
import type { Logger } from '../obs/logger.js';
import { fsyncDir, writeFileAtomic } from '../store/atomic.js';
import { listCatalog, type CatalogRecord } from '../store/catalog.js';
import { listPipelines, readPipeline } from '../store/pipelines.js';
import type { BlobStore } from '../store/port.js';

/**
 * Snapshots of the served collection: the index's own snapshot of the collection, the catalog and the
 * pipeline records from the store, and a manifest (alias map, point count, store generation, sha256
 * of every file) written last. Taken into `<data dir>/snapshots/<id>`, then copied to the backup
 * location and verified there; only verified backups count for retention, drills and restores.
 */
export interface SnapshotDeps {
  index: VectorIndex;
  store: BlobStore;
  backend: SnapshotManifest['backend'];
  snapshotDir: string;
  backupDir: string;
  logger: Logger;
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  await streamPipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

async function exists(p: string): Promise<boolean> {
  return fsp.access(p).then(
    () => true,
    () => false,
  );
}

export async function readManifest(dir: string): Promise<SnapshotManifest | undefined> {
  let raw: string;
  try {
    raw = await fsp.readFile(join(dir, MANIFEST_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const m = JSON.parse(raw) as SnapshotManifest;
    if (m.format !== 1 || !Array.isArray(m.files)) throw new Error('unknown manifest format');
    return m;
  } catch (err) {
    throw new AppError('SNAPSHOT_CORRUPT', `the manifest of ${dir} cannot be read`, { cause: err, details: { dir } });
  }
}

/** The catalog as JSON lines in key order, and the store generation it stands for. */
export function catalogLines(records: readonly CatalogRecord[]): { text: string; digest: string } {
  const text = records.map((r) => JSON.stringify(r)).join('\n') + (records.length > 0 ? '\n' : '');
  return { text, digest: sha256Hex(text) };
}

/** Takes a snapshot of the collection the alias serves. Idempotent per id: a retry returns the finished one. */
export async function takeSnapshot(deps: SnapshotDeps, opts: { alias: string; id?: string; now?: Date }): Promise<SnapshotManifest> {
  const collection = await deps.index.getAlias(opts.alias);
  if (!collection) throw new AppError('NOT_FOUND', `alias ${opts.alias} serves no collection: nothing to snapshot`, { details: { alias: opts.alias } });
  const now = opts.now ?? new Date();
  const id = opts.id ?? snapshotIdFor(now);
  const dir = join(deps.snapshotDir, id);
  const done = await readManifest(dir);
  if (done) return done;

  const tmp = join(deps.snapshotDir, `.${id}.partial`);
  await fsp.rm(tmp, { recursive: true, force: true });
  await fsp.mkdir(tmp, { recursive: true });
  const info = await deps.index.createSnapshot(collection, tmp);
  // One name whatever the backend calls its file (a checksum file beside it keeps its pairing).
  await fsp.rename(info.path, join(tmp, COLLECTION_FILE));
  if (await exists(`${info.path}.sha256`)) await fsp.rename(`${info.path}.sha256`, join(tmp, `${COLLECTION_FILE}.sha256`));
  // The catalog right after the collection: documents indexed in between are in the catalog only.
  const catalog = catalogLines(await listCatalog(deps.store));
  await fsp.writeFile(join(tmp, CATALOG_FILE), catalog.text);
  await fsp.writeFile(join(tmp, PIPELINES_FILE), JSON.stringify(await listPipelines(deps.store), null, 2));
  const files: SnapshotManifest['files'] = [];
  for (const name of (await fsp.readdir(tmp)).sort()) {
    const file = join(tmp, name);
    files.push({ name, bytes: (await fsp.stat(file)).size, sha256: await sha256OfFile(file) });
  }
  const manifest: SnapshotManifest = {
    format: 1,
    id,
    createdAt: now.toISOString(),
    backend: deps.backend,
    alias: opts.alias,
    aliases: { [opts.alias]: collection },
    collection,
    pipeline: (await readPipeline(deps.store, collection))?.ref,
    points: info.points,
    catalog: { records: catalog.text === '' ? 0 : catalog.text.split('\n').length - 1, digest: catalog.digest },
    files,
  };
  await writeFileAtomic(join(tmp, MANIFEST_FILE), JSON.stringify(manifest, null, 2));
  await fsyncDir(tmp);
  await fsp.rm(dir, { recursive: true, force: true });
  await fsp.rename(tmp, dir);
  await fsyncDir(deps.snapshotDir);
  deps.logger.info('snapshot taken', { id, collection, points: info.points, files: files.length });
  return manifest;
}

/**
 * Checks every file of a snapshot directory against its manifest (size and sha256). A mismatch is
 * SNAPSHOT_CORRUPT naming the file and what differs; nothing is repaired.
 */
export async function verifySnapshotDir(dir: string): Promise<SnapshotManifest> {
  const manifest = await readManifest(dir);
  if (!manifest) throw new AppError('SNAPSHOT_CORRUPT', `${dir} has no manifest: the snapshot is incomplete`, { details: { dir } });
  for (const f of manifest.files) {
    const file = join(dir, f.name);
    let size: number;
    try {
      size = (await fsp.stat(file)).size;
    } catch {
      throw new AppError('SNAPSHOT_CORRUPT', `snapshot ${manifest.id}: ${f.name} is missing`, { details: { id: manifest.id, file: f.name } });
    }
    if (size !== f.bytes) {
      throw new AppError('SNAPSHOT_CORRUPT', `snapshot ${manifest.id}: ${f.name} has ${size} bytes, the manifest says ${f.bytes}`, { details: { id: manifest.id, file: f.name } });
    }
    const sha = await sha256OfFile(file);
    if (sha !== f.sha256) {
      throw new AppError('SNAPSHOT_CORRUPT', `snapshot ${manifest.id}: ${f.name} does not match its sha256 (the copy is damaged)`, {
        details: { id: manifest.id, file: f.name, expected: f.sha256, actual: sha },
      });
    }
  }
  return manifest;
}

/** Copies a taken snapshot to the backup location and verifies the copy there; idempotent. */
export async function copySnapshotToBackup(deps: Pick<SnapshotDeps, 'snapshotDir' | 'backupDir' | 'logger'>, id: string): Promise<{ bytes: number }> {
  const source = join(deps.snapshotDir, id);
  const manifest = await verifySnapshotDir(source);
  const final = join(deps.backupDir, id);
  const bytes = manifest.files.reduce((n, f) => n + f.bytes, 0);
  if (await readManifest(final).catch(() => undefined)) {
    await verifySnapshotDir(final);
    return { bytes };
  }
  await fsp.mkdir(deps.backupDir, { recursive: true });
  const tmp = join(deps.backupDir, `.${id}.partial`);
  await fsp.rm(tmp, { recursive: true, force: true });
  await fsp.mkdir(tmp, { recursive: true });
  for (const f of manifest.files) await fsp.copyFile(join(source, f.name), join(tmp, f.name));
  // The manifest goes last: a copy without it is incomplete by definition.
  await fsp.copyFile(join(source, MANIFEST_FILE), join(tmp, MANIFEST_FILE));
  await fsyncDir(tmp);
  await verifySnapshotDir(tmp);
  await fsp.rm(final, { recursive: true, force: true });
  await fsp.rename(tmp, final);
  await fsyncDir(deps.backupDir);
  deps.logger.info('snapshot copied to the backup location and verified', { id, bytes });
  return { bytes };
}

export interface SnapshotListing {
  id: string;
  createdAt: string;
  collection: string;
  points: number;
  bytes: number;
  /** Present in the backup location with a manifest (checksums are verified by drills and restores). */
  backedUp: boolean;
  /** Present under the data dir. */
  local: boolean;
}

async function manifestsIn(root: string): Promise<SnapshotManifest[]> {
  let names: string[];
  try {
    names = await fsp.readdir(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: SnapshotManifest[] = [];
  for (const name of names.filter((n) => n.startsWith('snap-')).sort()) {
    const m = await readManifest(join(root, name)).catch(() => undefined);
    if (m) out.push(m);
  }
  return out;
}

/** Every snapshot in either location, newest first. */
export async function listSnapshots(deps: Pick<SnapshotDeps, 'snapshotDir' | 'backupDir'>): Promise<SnapshotListing[]> {
  const local = await manifestsIn(deps.snapshotDir);
  const backup = await manifestsIn(deps.backupDir);
  const byId = new Map<string, SnapshotListing>();
  for (const [m, where] of [...local.map((m) => [m, 'local'] as const), ...backup.map((m) => [m, 'backup'] as const)]) {
    const entry = byId.get(m.id) ?? { id: m.id, createdAt: m.createdAt, collection: m.collection, points: m.points, bytes: m.files.reduce((n, f) => n + f.bytes, 0), backedUp: false, local: false };
    if (where === 'local') entry.local = true;
    else entry.backedUp = true;
    byId.set(m.id, entry);
  }
  return [...byId.values()].sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
}

/** The newest snapshot in the backup location (what a drill restores), or undefined. */
export async function newestBackup(backupDir: string): Promise<SnapshotManifest | undefined> {
  const all = await manifestsIn(backupDir);
  return all.sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1))[0];
}

/** Applies retention to both locations; nothing is removed unless a backed-up snapshot exists. */
export async function applyRetention(deps: Pick<SnapshotDeps, 'snapshotDir' | 'backupDir' | 'logger'>, policy: RetentionPolicy): Promise<{ removed: string[] }> {
  const listing = await listSnapshots(deps);
  const remove = snapshotsToDelete(
    listing.map((s) => ({ id: s.id, createdAt: s.createdAt, verified: s.backedUp })),
    policy,
  );
  for (const id of remove) {
    await fsp.rm(join(deps.snapshotDir, id), { recursive: true, force: true });
    await fsp.rm(join(deps.backupDir, id), { recursive: true, force: true });
  }
  if (remove.length > 0) deps.logger.info('snapshot retention applied', { removed: remove.length, kept: listing.length - remove.length });
  return { removed: remove };
}
