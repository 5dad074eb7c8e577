import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uuidV5 } from '../../src/domain/ids.js';
import { compareRankings } from '../../src/domain/probe.js';
import type { ChunkPayload } from '../../src/domain/types.js';
import { createEmbeddedIndex, type EmbeddedIndex } from '../../src/index/embedded.js';
import type { IndexPoint } from '../../src/index/port.js';
import { migrateServedCollection } from '../../src/services/migrate.js';
import { randomUnit, rng } from '../support/random.js';

describe('compareRankings', () => {
  const hits = (...pairs: [string, number][]) => pairs.map(([id, score]) => ({ id, score }));

  it('the same ids in the same order are exact', () => {
    expect(compareRankings(hits(['a', 0.9], ['b', 0.8]), hits(['a', 0.9], ['b', 0.8]))).toEqual({ exact: true, upToTies: true });
  });

  it('a swap inside a score tie is identical up to ties, not exact', () => {
    expect(compareRankings(hits(['a', 0.9], ['b', 0.8], ['c', 0.8]), hits(['a', 0.9], ['c', 0.800001], ['b', 0.8]))).toEqual({ exact: false, upToTies: true });
  });

  it('the last hit trading places with one just past the cut counts as a tie only when their scores tie', () => {
    expect(compareRankings(hits(['a', 0.9], ['b', 0.5]), hits(['a', 0.9], ['x', 0.5]))).toEqual({ exact: false, upToTies: true });
    expect(compareRankings(hits(['a', 0.9], ['b', 0.5]), hits(['a', 0.9], ['x', 0.4]))).toEqual({ exact: false, upToTies: false });
  });

  it('a different order of clearly different scores, or a different length, is a difference', () => {
    expect(compareRankings(hits(['a', 0.9], ['b', 0.8]), hits(['b', 0.9], ['a', 0.8])).upToTies).toBe(false);
    expect(compareRankings(hits(['a', 0.9], ['b', 0.8]), hits(['a', 0.9])).upToTies).toBe(false);
  });
});

describe('migrateServedCollection (embedded -> embedded: the same code path the Qdrant migration takes)', () => {
  const DIM = 32;
  let dirs: string[] = [];
  let from: EmbeddedIndex;
  let to: EmbeddedIndex;

  const payload = (i: number): ChunkPayload => ({
    documentId: `doc_${i % 17}`,
    contentHash: `h${i % 17}`,
    chunkIndex: i,
    chunkCount: 200,
    text: `chunk ${i}`,
    start: 0,
    end: 8,
    title: `Doc ${i % 17}`,
    source: `doc-${i % 17}.txt`,
    type: 'text',
    acl: i % 3 === 0 ? [] : [`g${i % 3}`],
  });
  const points = (n: number, seed = 7): IndexPoint[] => {
    const next = rng(seed);
    return Array.from({ length: n }, (_, i) => ({ id: uuidV5(`migrate-${i}`), vector: randomUnit(DIM, next), payload: payload(i) }));
  };

  beforeEach(async () => {
    dirs = [await fsp.mkdtemp(path.join(os.tmpdir(), 'srag-mig-a-')), await fsp.mkdtemp(path.join(os.tmpdir(), 'srag-mig-b-'))];
    from = await createEmbeddedIndex(dirs[0]);
    to = await createEmbeddedIndex(dirs[1]);
    await from.ensureCollection('srag_v1', DIM);
    await from.upsert('srag_v1', points(200));
    await from.setAlias('srag', 'srag_v1');
  });

  afterEach(async () => {
    await from.close().catch(() => undefined);
    await to.close().catch(() => undefined);
    for (const d of dirs) await fsp.rm(d, { recursive: true, force: true });
  });

  it('copies the served collection, proves ids and top-10 (plain and ACL-filtered), then sets the alias', async () => {
    const stages = new Set<string>();
    const report = await migrateServedCollection({ from, to }, { alias: 'srag', probes: 20, progress: (s) => stages.add(s) });
    expect(report).toMatchObject({
      collection: 'srag_v1',
      dimension: DIM,
      points: { source: 200, target: 200 },
      idsIdentical: true,
      probes: 20,
      top10Exact: 20,
      top10UpToTies: 20,
      sourceChanged: false,
      proven: true,
      switched: true,
    });
    expect(report.aclProbes).toBeGreaterThan(0);
    expect(report.aclTop10UpToTies).toBe(report.aclProbes);
    expect(await to.getAlias('srag')).toBe('srag_v1');
    expect([...stages]).toEqual(['copy', 'verify']);
    // The copy is the same data: every payload and vector.
    const a = await from.retrieve('srag_v1', [uuidV5('migrate-5')]);
    const b = await to.retrieve('srag_v1', [uuidV5('migrate-5')]);
    expect(b).toEqual(a);
  });

  it('run twice, the second run replaces by id and proves again (a copy cut short is simply rerun)', async () => {
    await migrateServedCollection({ from, to }, { alias: 'srag', probes: 5 });
    const again = await migrateServedCollection({ from, to }, { alias: 'srag', probes: 5 });
    expect(again).toMatchObject({ points: { source: 200, target: 200 }, proven: true, previousTarget: 'srag_v1' });
  });

  it('a target that already holds other points is not proven and the alias stays where it was', async () => {
    await to.ensureCollection('srag_v1', DIM);
    await to.ensureCollection('elsewhere', DIM);
    await to.setAlias('srag', 'elsewhere');
    const stray = points(1, 99)[0];
    await to.upsert('srag_v1', [{ ...stray, id: uuidV5('stray') }]);
    const report = await migrateServedCollection({ from, to }, { alias: 'srag', probes: 10 });
    expect(report.idsIdentical).toBe(false);
    expect(report.points).toEqual({ source: 200, target: 201 });
    expect(report.proven).toBe(false);
    expect(report.switched).toBe(false);
    expect(await to.getAlias('srag')).toBe('elsewhere');
  });

  it('a target whose vectors differ fails the top-10 check even with identical ids', async () => {
    // The same ids, other vectors: what a copy that mangled vectors would look like.
    await to.ensureCollection('srag_v1', DIM);
    const wrong = points(200, 12345);
    const copyInto = to.upsert.bind(to);
    const mangling = { ...to, upsert: (_c: string, page: IndexPoint[]) => copyInto('srag_v1', page.map((p) => ({ ...p, vector: wrong[Number(p.payload.chunkIndex)].vector }))) };
    const report = await migrateServedCollection({ from, to: mangling }, { alias: 'srag', probes: 10 });
    expect(report.idsIdentical).toBe(true);
    expect(report.top10UpToTies).toBeLessThan(10);
    expect(report.proven).toBe(false);
    expect(await to.getAlias('srag')).toBeUndefined();
  });

  it('a write to the source during the copy is detected and nothing is switched', async () => {
    // A worker ingesting while the copy runs: the last page copied is not the last write.
    let wrote = false;
    const sneaky = {
      ...to,
      upsert: async (c: string, page: IndexPoint[]) => {
        await to.upsert(c, page);
        if (!wrote) {
          wrote = true;
          // The same point again with a changed payload: ids and rankings stay, only the write betrays it.
          const [p0] = points(1);
          await from.upsert('srag_v1', [{ ...p0, payload: { ...p0.payload, title: 'Edited meanwhile' } }]);
        }
      },
    };
    const report = await migrateServedCollection({ from, to: sneaky }, { alias: 'srag', probes: 5 });
    expect(report.idsIdentical).toBe(true);
    expect(report.sourceChanged).toBe(true);
    expect(report.proven).toBe(false);
    expect(await to.getAlias('srag')).toBeUndefined();
  });

  it('nothing served and no collection named is NOT_FOUND', async () => {
    await expect(migrateServedCollection({ from, to }, { alias: 'other' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
