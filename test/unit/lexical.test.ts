import { describe, expect, it } from 'vitest';
import type { ChunkPayload } from '../../src/domain/types.js';
import { createLexicalIndex } from '../../src/index/lexical.js';
import type { IndexPoint, PointFilter, ScoredPoint, VectorIndex } from '../../src/index/port.js';
import { payloadFilter } from '../../src/index/lexical.js';

function payload(documentId: string, chunkIndex: number, text: string, extra: Partial<ChunkPayload> = {}): ChunkPayload {
  return {
    documentId, contentHash: `h-${documentId}`, chunkIndex, chunkCount: 1, text, start: 0, end: text.length,
    title: `Title of ${documentId}`, source: `${documentId}.txt`, type: 'text', acl: [], ...extra,
  };
}

/** Just enough of a VectorIndex for the lexical index: scroll, count, retrieve, upsert, deleteWhere. */
function fakeIndex(initial: [string, ChunkPayload][]) {
  const points = new Map(initial);
  const calls = { scroll: 0, retrieve: 0 };
  const unused = () => Promise.reject(new Error('not used by the lexical index'));
  const index: VectorIndex = {
    ensureCollection: unused, listCollections: unused, dropCollection: unused, search: unused,
    getAlias: unused, setAlias: unused, createSnapshot: unused, restoreSnapshot: unused, close: unused, exportPoints: unused,
    async upsert(_c: string, ps: IndexPoint[]) { for (const p of ps) points.set(p.id, p.payload); },
    async deleteWhere(_c: string, filter: PointFilter) {
      const keep = payloadFilter(filter);
      let n = 0;
      for (const [id, p] of points) if (keep(p)) { points.delete(id); n++; }
      return n;
    },
    async count() { return points.size; },
    async retrieve(_c: string, ids: string[]): Promise<ScoredPoint[]> {
      calls.retrieve++;
      return ids.filter((id) => points.has(id)).map((id) => ({ id, score: 0, payload: points.get(id)! }));
    },
    async scroll(_c: string, _f: PointFilter | undefined, visit: (id: string, p: ChunkPayload) => void) {
      calls.scroll++;
      for (const [id, p] of points) visit(id, p);
    },
  };
  return { index, points, calls };
}

const corpus: [string, ChunkPayload][] = [
  ['p1', payload('public', 0, 'The cafeteria serves vegetarian lunch every weekday.')],
  ['p2', payload('public', 1, 'Lunch breaks last thirty minutes.')],
  ['h1', payload('hr', 0, 'Salary bands and lunch allowances are confidential.', { acl: ['hr'] })],
  ['f1', payload('finance', 0, 'The lunch budget for 2025 is fixed.', { acl: ['finance', 'board'], contentHash: 'h-new' })],
];

describe('lexical index', () => {
  it('builds from the collection by scroll and returns payloads with hits', async () => {
    const { index, calls } = fakeIndex(corpus);
    const lexical = createLexicalIndex(index, 'c');
    const hits = await lexical.search('vegetarian lunch', 2);
    expect(hits[0].id).toBe('p1');
    expect(hits[0].payload.documentId).toBe('public');
    expect(hits[0].score).toBeGreaterThan(0);
    expect(calls.scroll).toBe(1);
    expect(lexical.size).toBe(4);
  });

  it('indexes the title as well as the text', async () => {
    const lexical = createLexicalIndex(fakeIndex(corpus).index, 'c');
    expect((await lexical.search('finance', 5)).map((h) => h.id)).toEqual(['f1']);
  });

  it.each<[string, PointFilter | undefined, string[]]>([
    ['no filter', undefined, ['f1', 'h1', 'p1', 'p2']],
    ['aclAny without the groups: public only', { aclAny: ['sales'] }, ['p1', 'p2']],
    ['aclAny with hr', { aclAny: ['hr'] }, ['h1', 'p1', 'p2']],
    ['aclAny with board', { aclAny: ['sales', 'board'] }, ['f1', 'p1', 'p2']],
    ['empty aclAny: public only', { aclAny: [] }, ['p1', 'p2']],
    ['documentId', { documentId: 'hr' }, ['h1']],
    ['documentIds', { documentIds: ['hr', 'finance'] }, ['f1', 'h1']],
    ['contentHash', { contentHash: 'h-new' }, ['f1']],
    ['notContentHash', { notContentHash: 'h-public' }, ['f1', 'h1']],
    ['conditions combine', { documentIds: ['hr', 'finance'], aclAny: ['hr'] }, ['h1']],
  ])('honours PointFilter: %s', async (_name, filter, expected) => {
    const lexical = createLexicalIndex(fakeIndex(corpus).index, 'c');
    const hits = await lexical.search('lunch', 10, filter);
    expect(hits.map((h) => h.id).sort()).toEqual(expected);
  });

  it('fills k from permitted chunks even when forbidden ones score higher', async () => {
    const many: [string, ChunkPayload][] = [];
    for (let i = 0; i < 30; i++) many.push([`s${i}`, payload(`secret${i}`, 0, 'merger merger merger merger plan', { acl: ['board'] })]);
    for (let i = 0; i < 4; i++) many.push([`o${i}`, payload(`open${i}`, 0, `notes about a possible merger in meeting ${i} and much other text`)]);
    const lexical = createLexicalIndex(fakeIndex(many).index, 'c');
    const hits = await lexical.search('merger plan', 4, { aclAny: ['staff'] });
    expect(hits.map((h) => h.id).sort()).toEqual(['o0', 'o1', 'o2', 'o3']);
  });

  it('refresh rebuilds only when the point count changed', async () => {
    const { index, calls } = fakeIndex(corpus);
    const lexical = createLexicalIndex(index, 'c');
    await lexical.refresh();
    await lexical.refresh();
    expect(calls.scroll).toBe(1);
    await index.upsert('c', [{ id: 'n1', vector: new Float32Array(1), payload: payload('new', 0, 'Quarterly kombucha tasting.') }]);
    expect(await lexical.search('kombucha', 3)).toEqual([]);
    await lexical.refresh();
    expect(calls.scroll).toBe(2);
    expect((await lexical.search('kombucha', 3)).map((h) => h.id)).toEqual(['n1']);
  });

  it('shares one rebuild between concurrent callers', async () => {
    const { index, calls } = fakeIndex(corpus);
    const lexical = createLexicalIndex(index, 'c');
    await Promise.all([lexical.search('lunch', 1), lexical.search('salary', 1), lexical.refresh()]);
    expect(calls.scroll).toBe(1);
  });

  it('never returns a point deleted or re-permissioned since the last rebuild', async () => {
    const { index, points } = fakeIndex(corpus);
    const lexical = createLexicalIndex(index, 'c');
    await lexical.refresh();
    points.delete('p1');
    points.set('p2', { ...points.get('p2')!, acl: ['hr'] });
    const hits = await lexical.search('lunch', 10, { aclAny: ['sales'] });
    expect(hits).toEqual([]);
    await lexical.rebuild();
    expect((await lexical.search('lunch', 10, { aclAny: ['hr'] })).map((h) => h.id).sort()).toEqual(['h1', 'p2']);
  });

  it('returns nothing for k <= 0 or an empty collection', async () => {
    expect(await createLexicalIndex(fakeIndex(corpus).index, 'c').search('lunch', 0)).toEqual([]);
    expect(await createLexicalIndex(fakeIndex([]).index, 'c').search('lunch', 5)).toEqual([]);
  });
});

describe('lexical index over the embedded index', () => {
  it('sees a re-ingested document whose chunk count did not change', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { createEmbeddedIndex } = await import('../../src/index/embedded.js');
    const dir = mkdtempSync(join(tmpdir(), 'srag-lex-rev-'));
    const index = await createEmbeddedIndex(dir);
    try {
      await index.ensureCollection('c', 2);
      const v = new Float32Array([1, 0]);
      await index.upsert('c', [{ id: 'a1', vector: v, payload: payload('a', 0, 'the old wording about tulips') }]);
      const lexical = createLexicalIndex(index, 'c');
      await lexical.refresh();
      expect((await lexical.search('tulips', 5)).map((h) => h.id)).toEqual(['a1']);
      // Re-ingested: one new chunk replaces the old one, so the point count stays 1.
      await index.upsert('c', [{ id: 'a2', vector: v, payload: payload('a', 0, 'the new wording about orchids', { contentHash: 'h-a-2' }) }]);
      await index.deleteWhere('c', { documentId: 'a', notContentHash: 'h-a-2' });
      expect(await index.count('c')).toBe(1);
      await lexical.refresh();
      expect((await lexical.search('orchids', 5)).map((h) => h.id)).toEqual(['a2']);
      expect(await lexical.search('tulips', 5)).toEqual([]);
    } finally {
      await index.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
