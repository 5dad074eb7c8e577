import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidV5 } from '../../src/domain/ids.js';
import { termId } from '../../src/domain/sparse-bm25.js';
import { analyze, words } from '../../src/domain/tokenize-lexical.js';
import type { ChunkPayload } from '../../src/domain/types.js';
import type { Embedder } from '../../src/embed/port.js';
import type { IndexPoint } from '../../src/index/port.js';
import { createQdrantIndex, type QdrantIndex } from '../../src/index/qdrant/qdrant-index.js';
import { silentLogger } from '../../src/obs/logger.js';
import { createSearchService } from '../../src/query/search.js';

// Hybrid retrieval inside Qdrant (dense + sparse BM25 prefetches, RRF on the server) on 300 SciFact
// records. Runs only against a real server; collections are uniquely named and dropped afterwards.
const url = process.env.QDRANT_URL;
const CORPUS = '/work/shared/eval/scifact/corpus.jsonl';
const DIM = 64;
const RECORDS = 300;

/** A deterministic stand-in for a model: hashed bag of analyzed terms, unit length. */
function embed(text: string): Float32Array {
  const v = new Float32Array(DIM);
  for (const t of analyze(text)) {
    const h = termId(t);
    v[h % DIM] += (h >>> 16) & 1 ? 1 : -1;
  }
  const norm = Math.hypot(...v) || 1;
  if (norm === 1 && v.every((x) => x === 0)) v[0] = 1;
  return v.map((x) => x / norm);
}

const fakeEmbedder: Embedder = {
  modelId: 'hashed-bow-test',
  dimension: DIM,
  embedDocuments: async (texts) => texts.map(embed),
  embedQuery: async (text) => embed(text),
  close: async () => undefined,
};

/** Every third record belongs to team-a, every third to team-b, the rest is public. */
const aclOf = (i: number): string[] => (i % 3 === 0 ? ['team-a'] : i % 3 === 1 ? ['team-b'] : []);

interface Rec {
  _id: string;
  title: string;
  text: string;
}

function load(): Rec[] {
  return readFileSync(CORPUS, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .slice(0, RECORDS)
    .map((l) => JSON.parse(l) as Rec);
}

function payloadOf(r: Rec, i: number): ChunkPayload {
  return {
    documentId: uuidV5(`hybrid-doc-${r._id}`),
    contentHash: `h${r._id}`,
    chunkIndex: 0,
    chunkCount: 1,
    text: r.text,
    start: 0,
    end: r.text.length,
    title: r.title,
    source: 'scifact',
    type: 'jsonl',
    acl: aclOf(i),
    externalId: r._id,
  };
}

/** A word (as written) whose stem occurs in exactly one record; the first such word of a record in `team`. */
function rareWord(records: Rec[], team: string): { word: string; index: number } {
  const df = new Map<string, number>();
  for (const r of records) for (const t of new Set(analyze(`${r.title}\n${r.text}`))) df.set(t, (df.get(t) ?? 0) + 1);
  for (let i = 0; i < records.length; i++) {
    if (!aclOf(i).includes(team)) continue;
    for (const w of words(`${records[i].title}\n${records[i].text}`)) {
      const stems = analyze(w);
      if (w.length >= 8 && /^[a-z]+$/.test(w) && stems.length === 1 && df.get(stems[0]) === 1) return { word: w, index: i };
    }
  }
  throw new Error(`no rare word in a ${team} record`);
}

if (url) {
  describe('Qdrant hybrid retrieval (real server)', () => {
    let index: QdrantIndex;
    let records: Rec[];
    const collection = `hybrid_${randomBytes(6).toString('hex')}`;
    const legacy = `${collection}_dense_only`;

    beforeAll(async () => {
      index = await createQdrantIndex({ url, apiKey: process.env.QDRANT_API_KEY, logger: silentLogger });
      records = load();
      await index.ensureCollection(collection, DIM);
      const points: IndexPoint[] = records.map((r, i) => ({
        id: uuidV5(`hybrid-point-${r._id}`),
        vector: embed(`${r.title}\n${r.text}`),
        payload: payloadOf(r, i),
      }));
      await index.upsert(collection, points);
    }, 60_000);

    /** A search service whose in-memory lexical index must never be built: everything runs in Qdrant. */
    const inIndexService = (mode: 'bm25' | 'hybrid') =>
      createSearchService({
        index,
        embedder: fakeEmbedder,
        collection: async () => collection,
        lexical: async () => {
          throw new Error('the in-memory lexical index must not be built');
        },
        mode,
      });

    afterAll(async () => {
      await index?.dropCollection(collection);
      await index?.dropCollection(legacy);
      await index?.close();
    });

    it('creates the collection with the bm25 sparse vector (IDF modifier) beside the unnamed dense vector', async () => {
      const headers: Record<string, string> = process.env.QDRANT_API_KEY ? { 'api-key': process.env.QDRANT_API_KEY } : {};
      const info = (await (await fetch(`${url}/collections/${collection}`, { headers })).json()) as {
        result: { config: { params: { vectors: { size: number }; sparse_vectors: Record<string, { modifier?: string }> } }; points_count: number };
      };
      expect(info.result.config.params.vectors.size).toBe(DIM);
      expect(info.result.config.params.sparse_vectors.bm25.modifier).toBe('idf');
      expect(info.result.points_count).toBe(RECORDS);
      expect(await index.count(collection)).toBe(RECORDS);
    });

    it('returns fused results for a natural-language query, at most k, scored by RRF', async () => {
      const query = records[5].title;
      const hits = await index.hybridSearch(collection, embed(query), query, 10);
      expect(hits).toBeDefined();
      expect(hits!.length).toBe(10);
      expect(hits![0].payload.externalId).toBe(records[5]._id);
      for (let i = 1; i < hits!.length; i++) expect(hits![i].score).toBeLessThanOrEqual(hits![i - 1].score);
      // Fused as domain/fusion.ts does (1/(60 + rank), ranks from 1): at most 2/61, and first in both lists is exactly that.
      expect(hits![0].score).toBeCloseTo(2 / 61, 6);
    });

    it('a keyword-only query finds the record holding the rare term first', async () => {
      const { word, index: i } = rareWord(records, 'team-b');
      const hits = await index.hybridSearch(collection, embed(word), word, 5);
      expect(hits![0].payload.externalId).toBe(records[i]._id);
    });

    it('never returns a point with a foreign ACL, in either prefetch', async () => {
      const { word, index: i } = rareWord(records, 'team-b');
      const filter = { aclAny: ['team-a'] };
      const hits = await index.hybridSearch(collection, embed(word), word, 50, filter, { depth: 200 });
      expect(hits!.length).toBe(50);
      for (const h of hits!) expect(h.payload.acl.length === 0 || h.payload.acl.includes('team-a')).toBe(true);
      expect(hits!.map((h) => h.payload.externalId)).not.toContain(records[i]._id);
      // The viewer of the record's own team does find it first.
      const own = await index.hybridSearch(collection, embed(word), word, 5, { aclAny: ['team-b'] });
      expect(own![0].payload.externalId).toBe(records[i]._id);
      // No groups: public points only.
      const pub = await index.hybridSearch(collection, embed(word), word, 20, { aclAny: [] });
      for (const h of pub!) expect(h.payload.acl).toEqual([]);
    });

    it('lexicalSearch ranks by BM25 inside Qdrant: the rare term first, ACL applied inside, scores descending', async () => {
      const { word, index: i } = rareWord(records, 'team-b');
      const own = await index.lexicalSearch(collection, word, 5, { aclAny: ['team-b'] });
      expect(own![0].payload.externalId).toBe(records[i]._id);
      for (let j = 1; j < own!.length; j++) expect(own![j].score).toBeLessThanOrEqual(own![j - 1].score);
      expect(own![0].score).toBeGreaterThan(0);
      const foreign = await index.lexicalSearch(collection, word, 50, { aclAny: ['team-a'] });
      expect(foreign!.map((h) => h.payload.externalId)).not.toContain(records[i]._id);
      for (const h of foreign!) expect(h.payload.acl.length === 0 || h.payload.acl.includes('team-a')).toBe(true);
      // Only stopwords: no terms, no hits.
      expect(await index.lexicalSearch(collection, 'the of and', 5)).toEqual([]);
    });

    it('the search service uses lexicalSearch for mode bm25, never touching the in-memory lexical index', async () => {
      const { word, index: i } = rareWord(records, 'team-a');
      const service = inIndexService('bm25');
      const { hits } = await service.search(word, 5, { groups: ['team-a'], unrestricted: false });
      expect(hits[0].payload.externalId).toBe(records[i]._id);
      expect(hits[0].bm25Score).toBeGreaterThan(0);
    });

    it('a query with no lexical terms falls back to the dense list alone', async () => {
      const hits = await index.hybridSearch(collection, embed(records[7].title), 'the of and', 3);
      expect(hits!.length).toBe(3);
    });

    it('the search service uses it for mode hybrid, never touching the in-memory lexical index', async () => {
      const { word, index: i } = rareWord(records, 'team-a');
      const service = inIndexService('hybrid');
      const { hits } = await service.search(word, 5, { groups: ['team-a'], unrestricted: false });
      // Sparse rank 1; if the stand-in dense ranking misses it, its fused score ties with the dense
      // rank 1 (1/61 each), so it is first or second.
      expect(hits.slice(0, 2).map((h) => h.payload.externalId)).toContain(records[i]._id);
      const foreign = await service.search(word, 20, { groups: ['team-b'], unrestricted: false });
      expect(foreign.hits.map((h) => h.payload.externalId)).not.toContain(records[i]._id);
      for (const h of foreign.hits) expect(h.payload.acl.length === 0 || h.payload.acl.includes('team-b')).toBe(true);
    });

    it('a collection created without the sparse vector answers undefined (the caller keeps its own BM25)', async () => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (process.env.QDRANT_API_KEY) headers['api-key'] = process.env.QDRANT_API_KEY;
      const res = await fetch(`${url}/collections/${legacy}`, {
        method: 'PUT',
        headers,
        body: JSON.stringify({ vectors: { size: DIM, distance: 'Cosine' } }),
      });
      expect(res.ok).toBe(true);
      const fresh = await createQdrantIndex({ url, apiKey: process.env.QDRANT_API_KEY, logger: silentLogger });
      try {
        await fresh.upsert(legacy, [{ id: uuidV5('legacy-1'), vector: embed('alpha'), payload: payloadOf(records[0], 0) }]);
        expect(await fresh.count(legacy)).toBe(1);
        expect(await fresh.hybridSearch(legacy, embed('alpha'), 'alpha', 3)).toBeUndefined();
        expect(await fresh.lexicalSearch(legacy, 'alpha', 3)).toBeUndefined();
      } finally {
        await fresh.close();
      }
    });

    it('a missing collection is NOT_FOUND', async () => {
      await expect(index.hybridSearch(`${collection}_missing`, embed('x'), 'x', 3)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });
  });
} else {
  describe('Qdrant hybrid retrieval', () => {
    it.skip('Qdrant hybrid tests skipped: QDRANT_URL is not set', () => undefined);
  });
}
