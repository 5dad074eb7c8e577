import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uuidV5 } from '../../src/domain/ids.js';
import type { ChunkPayload } from '../../src/domain/types.js';
import type { IndexPoint, PointFilter, VectorIndex } from '../../src/index/port.js';

/**
 * The behaviour every VectorIndex adapter must share (embedded today, Qdrant when QDRANT_URL is set).
 * Point ids are UUIDs and collection names are unique per test, so the suite can run against a shared
 * server; every collection a test creates is dropped afterwards.
 */
export function describeVectorIndexContract(
  name: string,
  makeIndex: () => Promise<{ index: VectorIndex; cleanup: () => Promise<void> }>,
): void {
  const DIM = 8;

  const id = (n: number | string) => uuidV5(`contract-point-${n}`);

  function unit(values: number[]): Float32Array {
    const v = new Float32Array(DIM);
    values.forEach((x, i) => (v[i] = x));
    const norm = Math.hypot(...v);
    for (let i = 0; i < DIM; i++) v[i] /= norm;
    return v;
  }
  /** A unit vector along axis `i`, tilted towards axis `toward` by `tilt` (so scores are predictable). */
  const axis = (i: number, tilt = 0, toward = (i + 1) % DIM) => {
    const values = new Array<number>(DIM).fill(0);
    values[i] = 1;
    values[toward] += tilt;
    return unit(values);
  };
  const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);

  /** Deterministic pseudo-random unit vectors (xorshift), identical on every run and adapter. */
  function seededVectors(count: number, seed: number): Float32Array[] {
    let x = seed >>> 0 || 1;
    const next = () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return ((x >>> 0) / 0xffffffff) * 2 - 1;
    };
    return Array.from({ length: count }, () => unit(Array.from({ length: DIM }, next)));
  }

  function payload(over: Partial<ChunkPayload> = {}): ChunkPayload {
    return {
      documentId: 'doc_a',
      contentHash: 'hash_a1',
      chunkIndex: 0,
      chunkCount: 1,
      text: 'Some chunk text.',
      start: 0,
      end: 16,
      title: 'Doc A',
      source: '/data/a.txt',
      type: 'text',
      acl: [],
      ...over,
    };
  }

  function point(n: number, vector: Float32Array, over: Partial<ChunkPayload> = {}): IndexPoint {
    return { id: id(n), vector, payload: payload({ chunkIndex: n, ...over }) };
  }

  describe(`VectorIndex contract: ${name}`, () => {
    let index: VectorIndex;
    let cleanup: () => Promise<void>;
    const created: string[] = [];
    const tempDirs: string[] = [];

    const collectionName = () => {
      const n = `contract_${randomBytes(5).toString('hex')}`;
      created.push(n);
      return n;
    };
    const tempDir = async () => {
      const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'srag-contract-'));
      tempDirs.push(dir);
      return dir;
    };
    async function fresh(dimension = DIM): Promise<string> {
      const n = collectionName();
      await index.ensureCollection(n, dimension);
      return n;
    }

    beforeEach(async () => {
      ({ index, cleanup } = await makeIndex());
    });

    afterEach(async () => {
      for (const n of created.splice(0)) await index.dropCollection(n).catch(() => undefined);
      await cleanup();
      for (const dir of tempDirs.splice(0)) await fsp.rm(dir, { recursive: true, force: true });
    });

    describe('collections', () => {
      it('ensureCollection creates an empty collection and is idempotent for the same dimension', async () => {
        const c = await fresh();
        await index.ensureCollection(c, DIM);
        const info = (await index.listCollections()).find((x) => x.name === c);
        expect(info).toEqual({ name: c, dimension: DIM, points: 0 });
        expect(await index.count(c)).toBe(0);
      });

      it('ensureCollection with another dimension is INDEX_ERROR', async () => {
        const c = await fresh();
        await expect(index.ensureCollection(c, DIM + 1)).rejects.toMatchObject({ code: 'INDEX_ERROR' });
      });

      it('listCollections reports point counts', async () => {
        const c = await fresh();
        await index.upsert(c, [point(1, axis(0)), point(2, axis(1))]);
        expect((await index.listCollections()).find((x) => x.name === c)?.points).toBe(2);
      });

      it('dropCollection removes the collection and is a no-op when it is absent', async () => {
        const c = await fresh();
        await index.upsert(c, [point(1, axis(0))]);
        await index.dropCollection(c);
        expect((await index.listCollections()).some((x) => x.name === c)).toBe(false);
        await expect(index.count(c)).rejects.toMatchObject({ code: 'NOT_FOUND' });
        await index.dropCollection(c);
        // A dropped name can be created again, empty, even with another dimension.
        await index.ensureCollection(c, DIM * 2);
        expect(await index.count(c)).toBe(0);
      });

      it('operations on an unknown collection are NOT_FOUND', async () => {
        const c = `contract_missing_${randomBytes(4).toString('hex')}`;
        const q = axis(0);
        await expect(index.upsert(c, [point(1, q)])).rejects.toMatchObject({ code: 'NOT_FOUND' });
        await expect(index.search(c, q, 3)).rejects.toMatchObject({ code: 'NOT_FOUND' });
        await expect(index.count(c)).rejects.toMatchObject({ code: 'NOT_FOUND' });
        await expect(index.retrieve(c, [id(1)])).rejects.toMatchObject({ code: 'NOT_FOUND' });
        await expect(index.deleteWhere(c, { documentId: 'x' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
        await expect(index.scroll(c, undefined, () => undefined)).rejects.toMatchObject({ code: 'NOT_FOUND' });
        const dir = await tempDir();
        await expect(index.createSnapshot(c, dir)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      });
    });

    describe('upsert, retrieve, search', () => {
      it('stores payloads exactly, optional fields included', async () => {
        const c = await fresh();
        const full = payload({
          documentId: 'doc_full',
          contentHash: 'h',
          chunkIndex: 3,
          chunkCount: 9,
          text: 'Ünïcödé text — with "quotes" and\nnewlines.',
          start: 10,
          end: 52,
          page: 4,
          heading: 'Results',
          title: 'A title',
          source: 'upload://x.pdf',
          type: 'pdf',
          acl: ['team-a', 'team-b'],
          externalId: 'ext-1',
        });
        await index.upsert(c, [{ id: id('full'), vector: axis(2), payload: full }]);
        const [got] = await index.retrieve(c, [id('full')]);
        expect(got.id).toBe(id('full'));
        expect(got.payload).toEqual(full);
      });

      it('upsert of an empty list is a no-op', async () => {
        const c = await fresh();
        await index.upsert(c, []);
        expect(await index.count(c)).toBe(0);
      });

      it('retrieve returns only the ids that exist', async () => {
        const c = await fresh();
        await index.upsert(c, [point(1, axis(0)), point(2, axis(1))]);
        const got = await index.retrieve(c, [id(2), id(99), id(1)]);
        expect(got.map((p) => p.id).sort()).toEqual([id(1), id(2)].sort());
        expect(await index.retrieve(c, [])).toEqual([]);
      });

      it('search returns cosine scores, best first, at most k', async () => {
        const c = await fresh();
        const vectors = [axis(0), axis(0, 0.5), axis(0, 2), axis(3), axis(0, -0.3, 4)];
        await index.upsert(c, vectors.map((v, i) => point(i, v)));
        const q = axis(0);
        const hits = await index.search(c, q, 3);
        const expected = vectors
          .map((v, i) => ({ id: id(i), score: cosine(q, v) }))
          .sort((a, b) => b.score - a.score)
          .slice(0, 3);
        expect(hits.map((h) => h.id)).toEqual(expected.map((e) => e.id));
        hits.forEach((h, i) => expect(h.score).toBeCloseTo(expected[i].score, 4));
        expect(hits[0].payload.chunkIndex).toBe(0);
        expect((await index.search(c, q, 100)).length).toBe(5);
        expect(await index.search(c, q, 0)).toEqual([]);
      });

      it('search over many points equals a brute-force ranking', async () => {
        const c = await fresh();
        const vectors = seededVectors(300, 42);
        const points = vectors.map((v, i) => point(i, v, { documentId: `doc_${i % 7}` }));
        for (let i = 0; i < points.length; i += 100) await index.upsert(c, points.slice(i, i + 100));
        for (const q of seededVectors(5, 7)) {
          const hits = await index.search(c, q, 10);
          const expected = vectors
            .map((v, i) => ({ id: id(i), score: cosine(q, v) }))
            .sort((a, b) => b.score - a.score)
            .slice(0, 10);
          expect(hits.map((h) => h.id)).toEqual(expected.map((e) => e.id));
        }
      });

      it('upsert of an existing id replaces vector and payload', async () => {
        const c = await fresh();
        await index.upsert(c, [point(1, axis(0), { text: 'old' }), point(2, axis(1))]);
        await index.upsert(c, [point(1, axis(5), { text: 'new', contentHash: 'hash_new' })]);
        expect(await index.count(c)).toBe(2);
        const [got] = await index.retrieve(c, [id(1)]);
        expect(got.payload.text).toBe('new');
        const [best] = await index.search(c, axis(5), 1);
        expect(best.id).toBe(id(1));
        expect(best.score).toBeCloseTo(1, 4);
        expect(await index.count(c, { contentHash: 'hash_a1' })).toBe(1);
        expect(await index.count(c, { contentHash: 'hash_new' })).toBe(1);
      });

      it('upsert moving a point to another document updates document-scoped operations', async () => {
        const c = await fresh();
        await index.upsert(c, [point(1, axis(0), { documentId: 'doc_x' })]);
        await index.upsert(c, [point(1, axis(0), { documentId: 'doc_y' })]);
        expect(await index.count(c, { documentId: 'doc_x' })).toBe(0);
        expect(await index.count(c, { documentId: 'doc_y' })).toBe(1);
      });

      it('a vector of the wrong dimension is INDEX_ERROR on upsert and on search', async () => {
        const c = await fresh();
        const wrong = new Float32Array(DIM + 2).fill(0.1);
        await expect(index.upsert(c, [{ id: id(1), vector: wrong, payload: payload() }])).rejects.toMatchObject({
          code: 'INDEX_ERROR',
        });
        await expect(index.search(c, wrong, 3)).rejects.toMatchObject({ code: 'INDEX_ERROR' });
        expect(await index.count(c)).toBe(0);
      });
    });

    describe('filters', () => {
      // doc_a: v1 public, v2 acl [hr]; doc_b: hash_b1 acl [eng], hash_b2 acl [eng, hr]; doc_c: public
      async function seeded(): Promise<string> {
        const c = await fresh();
        await index.upsert(c, [
          point(1, axis(0), { documentId: 'doc_a', contentHash: 'hash_a1', acl: [] }),
          point(2, axis(0, 0.1), { documentId: 'doc_a', contentHash: 'hash_a1', acl: ['hr'] }),
          point(3, axis(0, 0.2), { documentId: 'doc_b', contentHash: 'hash_b1', acl: ['eng'] }),
          point(4, axis(0, 0.3), { documentId: 'doc_b', contentHash: 'hash_b2', acl: ['eng', 'hr'] }),
          point(5, axis(0, 0.4), { documentId: 'doc_c', contentHash: 'hash_c1', acl: [] }),
        ]);
        return c;
      }
      const ids = (...ns: number[]) => ns.map((n) => id(n)).sort();

      it.each<[string, PointFilter, number[]]>([
        ['empty filter', {}, [1, 2, 3, 4, 5]],
        ['documentId', { documentId: 'doc_b' }, [3, 4]],
        ['documentIds', { documentIds: ['doc_a', 'doc_c'] }, [1, 2, 5]],
        ['documentIds empty list', { documentIds: [] }, []],
        ['documentId and documentIds intersect', { documentId: 'doc_a', documentIds: ['doc_a', 'doc_b'] }, [1, 2]],
        ['contentHash', { contentHash: 'hash_b2' }, [4]],
        ['notContentHash within a document', { documentId: 'doc_b', notContentHash: 'hash_b2' }, [3]],
        ['aclAny: public points and intersecting groups', { aclAny: ['hr'] }, [1, 2, 4, 5]],
        ['aclAny: no groups sees only public points', { aclAny: [] }, [1, 5]],
        ['aclAny with several groups', { aclAny: ['eng', 'nobody'] }, [1, 3, 4, 5]],
        ['all conditions together', { documentIds: ['doc_a', 'doc_b'], notContentHash: 'hash_b1', aclAny: ['hr'] }, [1, 2, 4]],
        ['unknown document', { documentId: 'doc_zzz' }, []],
      ])('%s: count, scroll and search agree', async (_label, filter, expected) => {
        const c = await seeded();
        expect(await index.count(c, filter)).toBe(expected.length);
        const seen: string[] = [];
        await index.scroll(c, filter, (pid, p) => {
          seen.push(pid);
          expect(p.documentId).toMatch(/^doc_/);
        });
        expect(seen.sort()).toEqual(ids(...expected));
        const hits = await index.search(c, axis(0), 10, filter);
        expect(hits.map((h) => h.id).sort()).toEqual(ids(...expected));
      });

      it('applies the filter inside the search, not to the unfiltered top-k', async () => {
        const c = await fresh();
        const points: IndexPoint[] = [];
        // 20 secret points closest to the query, 3 public ones further away.
        for (let i = 0; i < 20; i++) points.push(point(i, axis(0, i * 0.01), { acl: ['secret'] }));
        for (let i = 20; i < 23; i++) points.push(point(i, axis(0, 1 + i * 0.1), { acl: [] }));
        await index.upsert(c, points);
        const hits = await index.search(c, axis(0), 3, { aclAny: ['staff'] });
        expect(hits.map((h) => h.id).sort()).toEqual([id(20), id(21), id(22)].sort());
        expect(hits[0].id).toBe(id(20));
      });

      it('scroll without a filter visits every point once with its payload', async () => {
        const c = await seeded();
        const seen = new Map<string, ChunkPayload>();
        await index.scroll(c, undefined, (pid, p) => {
          expect(seen.has(pid)).toBe(false);
          seen.set(pid, p);
        });
        expect([...seen.keys()].sort()).toEqual(ids(1, 2, 3, 4, 5));
        expect(seen.get(id(4))?.acl).toEqual(['eng', 'hr']);
      });

      it('exportPoints hands out every point once with its vector and payload, page by page', async () => {
        const c = await fresh();
        const vectors = seededVectors(23, 11);
        await index.upsert(c, vectors.map((v, i) => point(i, v, { chunkIndex: i, acl: i % 2 ? ['eng'] : [] })));
        const seen = new Map<string, IndexPoint>();
        const pages: number[] = [];
        await index.exportPoints(
          c,
          async (page) => {
            pages.push(page.length);
            for (const p of page) {
              expect(seen.has(p.id)).toBe(false);
              seen.set(p.id, p);
            }
          },
          { pageSize: 5 },
        );
        expect(pages.every((n) => n >= 1 && n <= 5)).toBe(true);
        expect(seen.size).toBe(23);
        for (let i = 0; i < 23; i++) {
          const p = seen.get(id(i))!;
          expect(p.payload.chunkIndex).toBe(i);
          expect(p.payload.acl).toEqual(i % 2 ? ['eng'] : []);
          expect(p.vector).toBeInstanceOf(Float32Array);
          expect(p.vector.length).toBe(DIM);
          // Unit vectors go in; the same direction comes out (an engine may renormalise).
          expect(cosine(p.vector, vectors[i])).toBeGreaterThan(0.99999);
        }
      });

      it('exportPoints into another collection gives the same search results (a copy)', async () => {
        const a = await fresh();
        const b = await fresh();
        const vectors = seededVectors(40, 5);
        await index.upsert(a, vectors.map((v, i) => point(i, v, { chunkIndex: i, acl: i % 3 ? ['x'] : [] })));
        await index.exportPoints(a, (page) => index.upsert(b, page), { pageSize: 7 });
        expect(await index.count(b)).toBe(40);
        for (const q of seededVectors(5, 99)) {
          const ra = await index.search(a, q, 10, { aclAny: ['x'] }, { exact: true });
          const rb = await index.search(b, q, 10, { aclAny: ['x'] }, { exact: true });
          expect(rb.map((h) => h.id)).toEqual(ra.map((h) => h.id));
        }
      });

      it('exportPoints on a missing collection is NOT_FOUND', async () => {
        await expect(index.exportPoints(`missing_${randomBytes(4).toString('hex')}`, () => undefined)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      });
    });

    describe('deleteWhere', () => {
      it('returns the number removed and leaves the rest searchable', async () => {
        const c = await fresh();
        await index.upsert(c, [
          point(1, axis(0), { documentId: 'doc_a', contentHash: 'old' }),
          point(2, axis(1), { documentId: 'doc_a', contentHash: 'old' }),
          point(3, axis(2), { documentId: 'doc_a', contentHash: 'new' }),
          point(4, axis(3), { documentId: 'doc_b', contentHash: 'b' }),
        ]);
        // Re-ingest pattern: drop the stale version of a document, keep the new one.
        expect(await index.deleteWhere(c, { documentId: 'doc_a', notContentHash: 'new' })).toBe(2);
        expect(await index.count(c)).toBe(2);
        expect(await index.count(c, { documentId: 'doc_a', contentHash: 'new' })).toBe(1);
        expect(await index.deleteWhere(c, { documentId: 'doc_a', notContentHash: 'new' })).toBe(0);
        expect(await index.deleteWhere(c, { documentId: 'doc_missing' })).toBe(0);
        expect((await index.retrieve(c, [id(1), id(2)])).length).toBe(0);
        const hits = await index.search(c, axis(0), 10);
        expect(hits.map((h) => h.id).sort()).toEqual([id(3), id(4)].sort());
        expect(await index.deleteWhere(c, { documentIds: ['doc_a', 'doc_b'] })).toBe(2);
        expect(await index.count(c)).toBe(0);
        expect(await index.search(c, axis(0), 10)).toEqual([]);
      });

      it('a deleted id can be inserted again', async () => {
        const c = await fresh();
        await index.upsert(c, [point(1, axis(0))]);
        expect(await index.deleteWhere(c, { documentId: 'doc_a' })).toBe(1);
        await index.upsert(c, [point(1, axis(1), { text: 'again' })]);
        const [got] = await index.retrieve(c, [id(1)]);
        expect(got.payload.text).toBe('again');
      });
    });

    describe('aliases', () => {
      it('points an alias at a collection, re-points it, and resolves it in queries', async () => {
        const a = await fresh();
        const b = await fresh();
        await index.upsert(a, [point(1, axis(0))]);
        await index.upsert(b, [point(2, axis(0)), point(3, axis(1))]);
        const alias = `contract_alias_${randomBytes(4).toString('hex')}`;
        expect(await index.getAlias(alias)).toBeUndefined();
        await index.setAlias(alias, a);
        expect(await index.getAlias(alias)).toBe(a);
        expect((await index.search(alias, axis(0), 5)).map((h) => h.id)).toEqual([id(1)]);
        await index.setAlias(alias, b);
        expect(await index.getAlias(alias)).toBe(b);
        expect(await index.count(alias)).toBe(2);
      });

      it('setAlias to a missing collection is NOT_FOUND', async () => {
        await expect(index.setAlias(`contract_alias_${randomBytes(4).toString('hex')}`, 'contract_nope_x')).rejects.toMatchObject({
          code: 'NOT_FOUND',
        });
      });

      it('an alias of a dropped collection no longer resolves', async () => {
        const a = await fresh();
        const alias = `contract_alias_${randomBytes(4).toString('hex')}`;
        await index.setAlias(alias, a);
        await index.dropCollection(a);
        await expect(index.search(alias, axis(0), 1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      });
    });

    describe('snapshots', () => {
      it('round-trips a collection through createSnapshot and restoreSnapshot', async () => {
        const c = await fresh();
        const vectors = seededVectors(50, 3);
        await index.upsert(
          c,
          vectors.map((v, i) => point(i, v, { documentId: `doc_${i % 5}`, acl: i % 2 ? ['g'] : [], page: i })),
        );
        await index.deleteWhere(c, { documentId: 'doc_0' });
        const dir = await tempDir();
        const info = await index.createSnapshot(c, dir);
        expect(info.collection).toBe(c);
        expect(info.points).toBe(40);
        expect(info.bytes).toBeGreaterThan(0);
        expect(Number.isNaN(Date.parse(info.createdAt))).toBe(false);
        expect((await fsp.stat(info.path)).size).toBe(info.bytes);

        const restored = collectionName();
        await index.restoreSnapshot(info.path, restored);
        expect(await index.count(restored)).toBe(40);
        for (const q of seededVectors(3, 11)) {
          const before = await index.search(c, q, 10, { aclAny: ['g'] });
          const after = await index.search(restored, q, 10, { aclAny: ['g'] });
          expect(after.map((h) => h.id)).toEqual(before.map((h) => h.id));
          after.forEach((h, i) => expect(h.score).toBeCloseTo(before[i].score, 5));
          expect(after.map((h) => h.payload)).toEqual(before.map((h) => h.payload));
        }
        expect(await index.count(restored, { documentId: 'doc_0' })).toBe(0);
        expect(await index.count(restored, { documentId: 'doc_1' })).toBe(10);
      });

      it('restoreSnapshot replaces an existing collection', async () => {
        const c = await fresh();
        await index.upsert(c, [point(1, axis(0)), point(2, axis(1))]);
        const dir = await tempDir();
        const info = await index.createSnapshot(c, dir);
        await index.upsert(c, [point(3, axis(2))]);
        await index.deleteWhere(c, { documentId: 'doc_a', contentHash: 'nothing' });
        expect(await index.count(c)).toBe(3);
        await index.restoreSnapshot(info.path, c);
        expect(await index.count(c)).toBe(2);
        expect((await index.retrieve(c, [id(3)])).length).toBe(0);
        // And the restored collection takes writes again.
        await index.upsert(c, [point(4, axis(3))]);
        expect(await index.count(c)).toBe(3);
      });

      it('a corrupt or truncated snapshot is INDEX_ERROR and leaves the collection untouched', async () => {
        const c = await fresh();
        await index.upsert(c, seededVectors(20, 5).map((v, i) => point(i, v)));
        const dir = await tempDir();
        const info = await index.createSnapshot(c, dir);
        await index.upsert(c, [point(100, axis(0))]);

        const garbage = path.join(dir, 'garbage.snapshot');
        await fsp.writeFile(garbage, randomBytes(4096));
        await expect(index.restoreSnapshot(garbage, c)).rejects.toMatchObject({ code: 'INDEX_ERROR' });

        const truncated = path.join(dir, 'truncated.snapshot');
        const bytes = await fsp.readFile(info.path);
        await fsp.writeFile(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
        await expect(index.restoreSnapshot(truncated, c)).rejects.toMatchObject({ code: 'INDEX_ERROR' });

        expect(await index.count(c)).toBe(21);
        expect((await index.retrieve(c, [id(100)])).length).toBe(1);
      });
    });
  });
}
