import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChunkPayload } from '../../src/domain/types.js';
import { createEmbeddedIndex } from '../../src/index/embedded.js';
import { compileFilter } from '../../src/index/filter.js';
import { MemoryCollection } from '../../src/index/memory-collection.js';
import type { PointFilter } from '../../src/index/port.js';
import { randomUnit, rng } from '../support/random.js';

const DIM = 384;
const BASE = { contentHash: 'h', chunkCount: 1, text: '', start: 0, end: 0, title: '', source: '', type: 'text' } as const;
const payload = (n: number): ChunkPayload => ({ ...BASE, documentId: `doc${n % 50}`, chunkIndex: n, acl: n % 5 === 0 ? [] : [`g${n % 7}`] });

/** Exact and int8 collections over the same synthetic unit vectors, half of them deleted and some replaced. */
function pair(n: number, simd: boolean): { exact: MemoryCollection; int8: MemoryCollection } {
  const next = rng(11);
  const exact = new MemoryCollection(DIM, 16, simd);
  const int8 = new MemoryCollection(DIM, 16, simd, { int8: true });
  for (let i = 0; i < n; i++) {
    const v = randomUnit(DIM, next);
    exact.upsert(`p${i}`, v, payload(i));
    int8.upsert(`p${i}`, v, payload(i));
  }
  // Deletes move the last row into the hole; replacements rewrite a row in place: the codes must follow both.
  for (let i = 0; i < n; i += 2) {
    exact.delete(`p${i}`);
    int8.delete(`p${i}`);
  }
  for (let i = 1; i < n; i += 10) {
    const v = randomUnit(DIM, next);
    exact.upsert(`p${i}`, v, payload(i));
    int8.upsert(`p${i}`, v, payload(i));
  }
  return { exact, int8 };
}

const FILTERS: (PointFilter | undefined)[] = [undefined, { aclAny: ['g1', 'g3'] }];

describe('int8 scan with f32 rescoring', () => {
  for (const simd of [true, false]) {
    it(`top-10 matches the exact top-10 (recall@10 >= 0.99) with ${simd ? 'the SIMD kernel' : 'the JS fallback'}, scores exact`, () => {
      const { exact, int8 } = pair(simd ? 20_000 : 4_000, simd);
      expect(int8.int8).toBe(true);
      const next = rng(99);
      let found = 0;
      let wanted = 0;
      for (let q = 0; q < 100; q++) {
        const query = randomUnit(DIM, next);
        for (const f of FILTERS) {
          const truth = exact.search(query, 10, compileFilter(f));
          const hits = int8.search(query, 10, compileFilter(f));
          const truthScore = new Map(truth.map((h) => [h.id, h.score]));
          found += hits.filter((h) => truthScore.has(h.id)).length;
          wanted += truth.length;
          // Survivors carry their f32 score, not the quantized estimate.
          for (const h of hits) if (truthScore.has(h.id)) expect(h.score).toBe(truthScore.get(h.id));
          if (f) for (const h of hits) expect(h.payload.acl.length === 0 || ['g1', 'g3'].includes(h.payload.acl[0])).toBe(true);
        }
      }
      expect(found / wanted).toBeGreaterThanOrEqual(0.99);
    });
  }

  it('exact: true bypasses the quantized pass', () => {
    const { exact, int8 } = pair(2_000, true);
    const query = randomUnit(DIM, rng(5));
    expect(int8.search(query, 50, compileFilter(undefined), { exact: true })).toEqual(exact.search(query, 50, compileFilter(undefined)));
  });
});

describe('embedded index with quantization int8', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('keeps the log format: the codes are rebuilt on open, and an exact instance reads the same files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'srag-int8-'));
    dirs.push(dir);
    const next = rng(3);
    const writer = await createEmbeddedIndex(dir, { quantization: 'int8' });
    await writer.ensureCollection('c', DIM);
    const points = Array.from({ length: 3_000 }, (_, i) => ({ id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, vector: randomUnit(DIM, next), payload: payload(i) }));
    await writer.upsert('c', points);
    const queries = Array.from({ length: 20 }, () => randomUnit(DIM, next));
    const before = await Promise.all(queries.map((q) => writer.search('c', q, 10)));
    await writer.close();

    const reopened = await createEmbeddedIndex(dir, { quantization: 'int8', readOnly: true });
    const plain = await createEmbeddedIndex(dir, { readOnly: true });
    try {
      for (const [i, q] of queries.entries()) {
        const exact = await plain.search('c', q, 10);
        expect(await reopened.search('c', q, 10)).toEqual(before[i]);
        expect(before[i].map((h) => h.id)).toEqual(exact.map((h) => h.id));
      }
    } finally {
      await reopened.close();
      await plain.close();
    }
  });
});
