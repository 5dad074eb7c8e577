import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { overlapAt, snapshotIdFor, snapshotsToDelete } from '../../src/domain/snapshots.js';
import { uuidV5 } from '../../src/domain/ids.js';
import { createEmbeddedIndex } from '../../src/index/embedded.js';
import { silentLogger } from '../../src/obs/logger.js';
import { intervalOf } from '../../src/services/lifecycle.js';
import { applyRetention, copySnapshotToBackup, listSnapshots, takeSnapshot, verifySnapshotDir } from '../../src/services/snapshots.js';
import { createFsBlobStore } from '../../src/store/fs.js';
import { randomUnit, rng } from '../support/random.js';

const at = (iso: string, verified = true) => ({ id: `snap-${iso}`, createdAt: iso, verified });

describe('snapshot retention (pure)', () => {
  it('keeps the newest N, one per day for D days and one per week for W weeks; deletes the rest', () => {
    const hourly = Array.from({ length: 24 * 20 }, (_, h) => at(new Date(Date.UTC(2026, 10, 1) + h * 3_600_000).toISOString()));
    const removed = new Set(snapshotsToDelete(hourly, { keep: 3, keepDaily: 7, keepWeekly: 4 }));
    const kept = hourly.filter((s) => !removed.has(s.id));
    // 3 newest + newest of 7 days (the newest day's is already kept) + newest of up to 4 weeks.
    expect(kept.length).toBeLessThanOrEqual(3 + 7 + 4);
    expect(kept.length).toBeGreaterThanOrEqual(3 + 6);
    const newest = hourly.at(-1)!;
    expect(removed.has(newest.id)).toBe(false);
    // The oldest day's snapshots are gone except possibly one weekly keeper.
    expect(kept.filter((s) => s.createdAt.startsWith('2026-11-01')).length).toBeLessThanOrEqual(1);
  });

  it('deletes nothing while no snapshot is verified (a failing backup never thins out the old ones)', () => {
    const many = Array.from({ length: 30 }, (_, i) => at(new Date(Date.UTC(2026, 0, 1 + i)).toISOString(), false));
    expect(snapshotsToDelete(many, { keep: 1, keepDaily: 0, keepWeekly: 0 })).toEqual([]);
  });

  it('always keeps the newest verified snapshot, even when newer unverified ones fill the quota', () => {
    const list = [at('2026-01-01T00:00:00.000Z', true), at('2026-01-02T00:00:00.000Z', false), at('2026-01-03T00:00:00.000Z', false)];
    const removed = snapshotsToDelete(list, { keep: 1, keepDaily: 0, keepWeekly: 0 });
    expect(removed).toEqual(['snap-2026-01-02T00:00:00.000Z']);
  });

  it('ids sort by time; overlap counts shared ids in the top k', () => {
    expect(snapshotIdFor(new Date('2026-12-02T08:05:09.123Z'))).toBe('snap-20261202T080509Z');
    expect(snapshotIdFor(new Date('2026-12-02T08:05:09.123Z'), 'a-b_c9')).toBe('snap-20261202T080509Z-abc9');
    expect(overlapAt(['a', 'b', 'c'], ['c', 'a', 'x'])).toBeCloseTo(2 / 3);
    expect(overlapAt([], [])).toBe(0);
  });

  it('intervals: 24h, 90m, 7d; anything else is refused', () => {
    expect(intervalOf('24h')).toBe('24h');
    expect(intervalOf('90m')).toBe('90m');
    expect(intervalOf('7d')).toBe('168h');
    expect(() => intervalOf('weekly')).toThrow(/not an interval/);
    expect(() => intervalOf('0h')).toThrow(/not an interval/);
  });
});

describe('snapshot files (embedded index, real store)', () => {
  const setup = async () => {
    const dir = mkdtempSync(join(tmpdir(), 'srag-snap-unit-'));
    const index = await createEmbeddedIndex(join(dir, 'index'));
    await index.ensureCollection('srag_v1', 8);
    const next = rng(3);
    await index.upsert(
      'srag_v1',
      Array.from({ length: 30 }, (_, i) => ({
        id: uuidV5(`snap-${i}`),
        vector: randomUnit(8, next),
        payload: { documentId: `doc_${i}`, contentHash: 'h', chunkIndex: 0, chunkCount: 1, text: `t${i}`, start: 0, end: 2, title: 'T', source: 's', type: 'text' as const, acl: [] },
      })),
    );
    await index.setAlias('srag', 'srag_v1');
    const deps = { index, store: createFsBlobStore(join(dir, 'store')), backend: 'embedded' as const, snapshotDir: join(dir, 'snapshots'), backupDir: join(dir, 'backup'), logger: silentLogger };
    return { dir, index, deps };
  };

  it('take -> copy -> verify; a retried take returns the same snapshot; retention keeps the verified newest', async () => {
    const { index, deps } = await setup();
    try {
      const a = await takeSnapshot(deps, { alias: 'srag', id: 'snap-20260101T000000Z', now: new Date('2026-01-01T00:00:00Z') });
      expect(a.points).toBe(30);
      expect(await takeSnapshot(deps, { alias: 'srag', id: 'snap-20260101T000000Z' })).toEqual(a);
      await copySnapshotToBackup(deps, a.id);
      await verifySnapshotDir(join(deps.backupDir, a.id));
      const b = await takeSnapshot(deps, { alias: 'srag', id: 'snap-20260102T000000Z', now: new Date('2026-01-02T00:00:00Z') });
      // b is not backed up yet: retention keeps a (the newest verified) and b (newest).
      expect((await applyRetention(deps, { keep: 1, keepDaily: 0, keepWeekly: 0 })).removed).toEqual([]);
      await copySnapshotToBackup(deps, b.id);
      expect((await applyRetention(deps, { keep: 1, keepDaily: 0, keepWeekly: 0 })).removed).toEqual([a.id]);
      expect((await listSnapshots(deps)).map((s) => s.id)).toEqual([b.id]);
    } finally {
      await index.close();
    }
  });

  it('a damaged, truncated or missing file is SNAPSHOT_CORRUPT naming the file', async () => {
    const { index, deps } = await setup();
    try {
      const m = await takeSnapshot(deps, { alias: 'srag', id: 'snap-20260101T000000Z' });
      await copySnapshotToBackup(deps, m.id);
      const dir = join(deps.backupDir, m.id);
      const file = join(dir, 'collection.snapshot');
      const original = readFileSync(file);
      const flipped = Buffer.from(original);
      flipped[100] ^= 0x80;
      writeFileSync(file, flipped);
      await expect(verifySnapshotDir(dir)).rejects.toMatchObject({ code: 'SNAPSHOT_CORRUPT', message: expect.stringContaining('collection.snapshot does not match its sha256') });
      writeFileSync(file, original.subarray(0, 3));
      await expect(verifySnapshotDir(dir)).rejects.toMatchObject({ code: 'SNAPSHOT_CORRUPT', message: expect.stringContaining('collection.snapshot has 3 bytes') });
      rmSync(file);
      await expect(verifySnapshotDir(dir)).rejects.toMatchObject({ code: 'SNAPSHOT_CORRUPT', message: expect.stringContaining('collection.snapshot is missing') });
      await expect(takeSnapshot({ ...deps }, { alias: 'nothing' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      await index.close();
    }
  });
});
