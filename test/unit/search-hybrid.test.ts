import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rrf } from '../../src/domain/fusion.js';
import { uuidV5 } from '../../src/domain/ids.js';
import type { ChunkPayload } from '../../src/domain/types.js';
import type { Embedder } from '../../src/embed/port.js';
import { createEmbeddedIndex, type EmbeddedIndex } from '../../src/index/embedded.js';
import { createLexicalIndex, type LexicalIndex } from '../../src/index/lexical.js';
import type { VectorIndex } from '../../src/index/port.js';
import { coalesce } from '../../src/query/coalesce.js';
import { createLexicalSource } from '../../src/query/lexical-source.js';
import { relevanceCurveFor, relevanceOf } from '../../src/domain/relevance.js';
import { createSearchService } from '../../src/query/search.js';

const DIM = 4;
const axis = (i: number) => Float32Array.from({ length: DIM }, (_, j) => (j === i ? 1 : 0));
const id = (name: string) => uuidV5(`search-hybrid-${name}`);

function payload(documentId: string, text: string, acl: string[] = []): ChunkPayload {
  return { documentId, contentHash: `h-${documentId}`, chunkIndex: 0, chunkCount: 1, text, start: 0, end: text.length, title: documentId, source: `${documentId}.txt`, type: 'text', acl };
}

// Dense retrieval sees topics (one axis each); BM25 sees words. The query about the "zygomorphic"
// release is about travel by meaning (axis 0) but names a rare word only the firmware note contains.
const POINTS = [
  { name: 'travel', vector: axis(0), payload: payload('doc_travel', 'Employees book economy class for short flights.') },
  { name: 'salary', vector: axis(0), payload: payload('doc_salary', 'Travel allowances and salary bands for flights crew.', ['hr']) },
  { name: 'firmware', vector: axis(1), payload: payload('doc_firmware', 'Release notes of the zygomorphic firmware build.') },
  { name: 'lunch', vector: axis(2), payload: payload('doc_lunch', 'The cafeteria serves lunch every weekday.') },
];
const QUERY = 'zygomorphic travel for flights';

function fakeEmbedder(): Embedder & { calls: number } {
  return {
    modelId: 'fake',
    dimension: DIM,
    calls: 0,
    async embedDocuments(texts) {
      return texts.map(() => axis(3));
    },
    async embedQuery() {
      this.calls++;
      return axis(0);
    },
    async close() {},
  };
}

/** The reader, with scroll counted: each lexical rebuild scrolls the collection once. */
function counted(index: EmbeddedIndex): EmbeddedIndex & { scrolls: number } {
  const wrapper = { ...index, scrolls: 0 };
  wrapper.scroll = (...args: Parameters<VectorIndex['scroll']>) => {
    wrapper.scrolls++;
    return index.scroll(...args);
  };
  return wrapper;
}

describe('hybrid search', () => {
  let dir: string;
  let writer: EmbeddedIndex;
  let reader: EmbeddedIndex & { scrolls: number };
  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'srag-hybrid-'));
    writer = await createEmbeddedIndex(dir);
    await writer.ensureCollection('c', DIM);
    await writer.upsert('c', POINTS.map((p) => ({ id: id(p.name), vector: p.vector, payload: p.payload })));
    reader = counted(await createEmbeddedIndex(dir, { readOnly: true }));
  });
  afterEach(async () => {
    await reader.close();
    await writer.close();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  const service = (embedder = fakeEmbedder()) =>
    createSearchService({
      index: reader,
      embedder,
      collection: async () => 'c',
      lexical: createLexicalSource((collection) => createLexicalIndex(reader, collection)),
      fusionDepth: { factor: 4, min: 10 },
    });

  it('gives each hit a 0-1 relevance from its cosine through the served model curve, bounded for BM25-only hits', async () => {
    const bge = { ...fakeEmbedder(), modelId: 'bge-small-en-v1.5-q' };
    const curve = relevanceCurveFor('bge-small-en-v1.5-q')!;
    const everyone = { groups: [], unrestricted: true };
    const dense = await service(bge).search(QUERY, 4, everyone, { mode: 'dense' });
    for (const h of dense.hits) expect(h.relevance).toBe(relevanceOf(curve, h.score));
    expect(dense.hits[0].relevance).toBeGreaterThan(dense.hits.at(-1)!.relevance!);
    // Dense depth 2 keeps travel and salary (cosine 1); firmware comes from BM25 alone and ranks below
    // both in the dense order, so its cosine is bounded by the last dense candidate's.
    const shallow = createSearchService({
      index: reader,
      embedder: bge,
      collection: async () => 'c',
      lexical: createLexicalSource((collection) => createLexicalIndex(reader, collection)),
      fusionDepth: { factor: 0, min: 2 },
    });
    const { hits } = await shallow.search('zygomorphic firmware', 3, everyone);
    const firmware = hits.find((h) => h.payload.documentId === 'doc_firmware')!;
    expect(firmware.denseScore).toBeUndefined();
    expect(firmware.relevance).toBe(relevanceOf(curve, 1));
    for (const h of hits) expect(h.relevance).toBeGreaterThanOrEqual(0);
    // A model without a fitted curve shows no relevance rather than a made-up one.
    const plain = await service().search(QUERY, 3, everyone);
    expect(plain.hits.every((h) => h.relevance === undefined)).toBe(true);
  });

  it('fuses dense and BM25 ranks, keeping each retriever score beside the fused one', async () => {
    const search = service();
    expect(search.mode).toBe('hybrid');
    const viewer = { groups: ['eng'], unrestricted: false };
    const { hits, timings } = await search.search(QUERY, 3, viewer);
    const ids = hits.map((h) => h.payload.documentId);
    // Dense alone ranks travel first; BM25 alone ranks firmware (the rare word) first: both make the top 2.
    expect(ids.slice(0, 2).sort()).toEqual(['doc_firmware', 'doc_travel']);
    const dense = await search.search(QUERY, 10, viewer, { mode: 'dense' });
    const bm25 = await search.search(QUERY, 10, viewer, { mode: 'bm25' });
    const expected = rrf([dense.hits, bm25.hits]).slice(0, 3);
    expect(hits.map((h) => [h.id, h.score])).toEqual(expected.map((h) => [h.id, h.score]));
    const travel = hits.find((h) => h.payload.documentId === 'doc_travel')!;
    expect(travel.denseScore).toBeCloseTo(1, 5);
    expect(hits.find((h) => h.payload.documentId === 'doc_firmware')!.bm25Score).toBeGreaterThan(0);
    expect(timings.embedMs).toBeGreaterThanOrEqual(0);
    expect(timings.retrieveMs).toBeGreaterThanOrEqual(0);
  });

  it('applies the ACL filter inside both retrievers', async () => {
    const search = service();
    for (const mode of ['dense', 'bm25', 'hybrid'] as const) {
      const outsider = await search.search('salary bands flights travel', 10, { groups: ['eng'], unrestricted: false }, { mode });
      expect(outsider.hits.map((h) => h.payload.documentId)).not.toContain('doc_salary');
      const hr = await search.search('salary bands flights travel', 10, { groups: ['hr'], unrestricted: false }, { mode });
      expect(hr.hits.map((h) => h.payload.documentId)).toContain('doc_salary');
    }
  });

  it('bm25 mode does not embed the query', async () => {
    const embedder = fakeEmbedder();
    const { timings } = await service(embedder).search(QUERY, 2, { groups: [], unrestricted: true }, { mode: 'bm25' });
    expect(embedder.calls).toBe(0);
    expect(timings.embedMs).toBeLessThan(5);
  });

  it('sees the writer appends on the next query, and rebuilds BM25 only when the collection changed', async () => {
    const search = service();
    const all = { groups: [], unrestricted: true };
    await search.search(QUERY, 3, all);
    expect(reader.scrolls).toBe(1);
    for (let i = 0; i < 5; i++) await search.search(QUERY, 3, all);
    expect(reader.scrolls).toBe(1);

    await writer.upsert('c', [{ id: id('quokka'), vector: axis(3), payload: payload('doc_quokka', 'The quokka census is published in spring.') }]);
    const { hits } = await search.search('quokka census', 1, all, { mode: 'bm25' });
    expect(hits[0]?.payload.documentId).toBe('doc_quokka');
    expect(reader.scrolls).toBe(2);

    await writer.deleteWhere('c', { documentId: 'doc_quokka' });
    expect((await search.search('quokka census', 5, all, { mode: 'bm25' })).hits).toEqual([]);
  });

  it('is dense-only without a lexical index, and refuses a lexical mode it cannot serve', () => {
    const search = createSearchService({ index: reader, embedder: fakeEmbedder(), collection: async () => 'c' });
    expect(search.mode).toBe('dense');
    expect(() => createSearchService({ index: reader, embedder: fakeEmbedder(), collection: async () => 'c', mode: 'hybrid' })).toThrow(/lexical/);
    return expect(search.search(QUERY, 1, { groups: [], unrestricted: true }, { mode: 'bm25' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});

describe('lexical source', () => {
  /** A projection whose rebuild costs `cost` ms on a fake clock when the collection count changed. */
  function fakeLexical(clock: { t: number }, state: { count: number; cost: number }) {
    let size = -1;
    const lexical = {
      refreshes: 0,
      rebuilds: 0,
      async refresh() {
        lexical.refreshes++;
        if (state.count !== size) {
          clock.t += state.cost;
          size = state.count;
          lexical.rebuilds++;
        }
      },
      rebuild: async () => {},
      search: async () => [],
      get size() {
        return Math.max(size, 0);
      },
    };
    return lexical as LexicalIndex & { refreshes: number; rebuilds: number };
  }

  it('checks on every query while rebuilds are quick', async () => {
    const clock = { t: 0 };
    const state = { count: 10, cost: 5 };
    const lexical = fakeLexical(clock, state);
    const source = createLexicalSource(() => lexical, { now: () => clock.t });
    await source('c');
    state.count = 11;
    await source('c');
    expect(lexical.rebuilds).toBe(2);
    await source('c');
    expect(lexical.refreshes).toBe(3);
  });

  it('spaces checks after a slow rebuild so a long ingest does not rebuild continuously', async () => {
    const clock = { t: 0 };
    const state = { count: 10, cost: 500 };
    const lexical = fakeLexical(clock, state);
    const source = createLexicalSource(() => lexical, { now: () => clock.t, quickMs: 100, backoff: 10 });
    await source('c');
    expect(lexical.rebuilds).toBe(1);
    state.count = 20;
    clock.t += 1000;
    await source('c');
    expect(lexical.refreshes).toBe(1); // within 10 x 500 ms: the previous projection serves
    clock.t += 4100;
    await source('c');
    expect(lexical.rebuilds).toBe(2);
  });

  it('retries the first build after a failure and keeps one projection per collection', async () => {
    let fail = true;
    const made: string[] = [];
    const source = createLexicalSource((collection) => {
      made.push(collection);
      return {
        refresh: async () => {
          if (fail) throw new Error('collection missing');
        },
        rebuild: async () => {},
        search: async () => [],
        size: 0,
      };
    });
    await expect(source('a')).rejects.toThrow('collection missing');
    fail = false;
    await source('a');
    await source('a');
    await source('b');
    expect(made).toEqual(['a', 'a', 'b']);
  });
});

describe('coalesce', () => {
  it('runs at most one follow-up for every caller that arrived during a run', async () => {
    let runs = 0;
    const releases: (() => void)[] = [];
    const refresh = coalesce(
      () =>
        new Promise<void>((resolve) => {
          runs++;
          releases.push(resolve);
        }),
    );
    const first = refresh();
    const waiting = [refresh(), refresh(), refresh()];
    expect(runs).toBe(1);
    releases[0]();
    await first;
    await new Promise((r) => setTimeout(r, 0));
    expect(runs).toBe(2);
    releases[1]();
    await Promise.all(waiting);
    expect(runs).toBe(2);
  });
});
