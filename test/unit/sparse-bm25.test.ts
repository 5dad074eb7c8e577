import { describe, expect, it } from 'vitest';
import { createBm25Index } from '../../src/domain/bm25.js';
import { AVG_DOC_TERMS, chunkLexicalText, encodeDocument, encodeQuery, termId, type SparseVector } from '../../src/domain/sparse-bm25.js';
import { analyze } from '../../src/domain/tokenize-lexical.js';

const dot = (q: SparseVector, d: SparseVector, weight: (id: number) => number = () => 1): number => {
  const values = new Map(d.indices.map((id, i) => [id, d.values[i]]));
  return q.indices.reduce((sum, id, i) => sum + q.values[i] * weight(id) * (values.get(id) ?? 0), 0);
};

describe('termId', () => {
  it('is a stable unsigned 32-bit FNV-1a hash of the UTF-8 bytes', () => {
    // Published FNV-1a 32-bit test vectors.
    expect(termId('')).toBe(0x811c9dc5);
    expect(termId('a')).toBe(0xe40c292c);
    expect(termId('foobar')).toBe(0xbf9cf968);
    for (const t of ['protein', 'caf\u00e9', '2019', 'x'.repeat(300)]) {
      const h = termId(t);
      expect(Number.isInteger(h) && h >= 0 && h <= 0xffffffff).toBe(true);
      expect(termId(t)).toBe(h);
    }
    expect(termId('caf\u00e9')).not.toBe(termId('cafe'));
  });
});

describe('encodeDocument', () => {
  it('uses the shared analyzer: stopwords dropped, stems merged, ids sorted and unique', () => {
    const v = encodeDocument('The cats and the cat were running; runs RUN.');
    const expectedIds = [...new Set(analyze('The cats and the cat were running; runs RUN.').map(termId))].sort((a, b) => a - b);
    expect(v.indices).toEqual(expectedIds);
    expect(v.indices).toHaveLength(2); // cat, run
    expect(v.values).toHaveLength(2);
    expect(encodeDocument('the of and')).toEqual({ indices: [], values: [] });
    expect(encodeDocument('')).toEqual({ indices: [], values: [] });
  });

  it('weights by BM25 tf saturation with length normalised against the fixed average (k1 0.9, b 0.4)', () => {
    const k1 = 0.9;
    const b = 0.4;
    const text = 'alpha alpha alpha beta';
    const v = encodeDocument(text);
    const norm = k1 * (1 - b + (b * 4) / AVG_DOC_TERMS);
    const at = (term: string) => v.values[v.indices.indexOf(termId(analyze(term)[0]))];
    expect(at('alpha')).toBeCloseTo((3 * (k1 + 1)) / (3 + norm), 12);
    expect(at('beta')).toBeCloseTo((1 * (k1 + 1)) / (1 + norm), 12);
    // Saturation: more occurrences weigh more, never beyond k1 + 1.
    expect(at('alpha')).toBeGreaterThan(at('beta'));
    const many = encodeDocument('gamma '.repeat(1000));
    expect(many.values[0]).toBeLessThan(k1 + 1);
  });

  it('a term in a longer document weighs less (length normalisation)', () => {
    const short = encodeDocument('zebra lion');
    const long = encodeDocument(`zebra ${'lion tiger bear wolf fox '.repeat(60)}`);
    const w = (v: SparseVector) => v.values[v.indices.indexOf(termId('zebra'))];
    expect(w(long)).toBeLessThan(w(short));
  });

  it('honours explicit parameters and rejects invalid ones', () => {
    const v = encodeDocument('one two two', { k1: 1.2, b: 0, avgDocTerms: 10 });
    expect(v.values[v.indices.indexOf(termId('two'))]).toBeCloseTo((2 * 2.2) / (2 + 1.2), 12);
    expect(() => encodeDocument('x', { b: 2 })).toThrow(RangeError);
    expect(() => encodeDocument('x', { avgDocTerms: 0 })).toThrow(RangeError);
  });
});

describe('encodeQuery', () => {
  it('is 1.0 per distinct analyzed term', () => {
    const q = encodeQuery('Running runners run, and the RUN!');
    expect(q.values.every((x) => x === 1)).toBe(true);
    expect(q.indices).toEqual([...new Set(analyze('Running runners run, and the RUN!').map(termId))].sort((a, b) => a - b));
    expect(encodeQuery('the and of')).toEqual({ indices: [], values: [] });
  });
});

describe('sparse BM25 with engine-side IDF', () => {
  it('ranks like the in-memory BM25, and scores equal it when the average length is the corpus average', () => {
    const docs = [
      'Vitamin D deficiency is associated with bone fractures in elderly patients.',
      'Bone density improves with calcium and vitamin D supplementation.',
      'Neural networks learn representations of images.',
      'The zebrafish genome reveals conserved regulatory elements for heart development.',
      'Heart failure patients benefit from beta blockers; beta blockers reduce mortality.',
      'Deep learning for protein structure prediction from sequences.',
    ];
    const lengths = docs.map((d) => analyze(d).length);
    const avg = lengths.reduce((a, b) => a + b, 0) / docs.length;
    const vectors = docs.map((d) => encodeDocument(d, { avgDocTerms: avg }));
    const df = new Map<number, number>();
    for (const v of vectors) for (const id of v.indices) df.set(id, (df.get(id) ?? 0) + 1);
    // Qdrant's IDF modifier: ln(1 + (N - n + 0.5) / (n + 0.5)), the same as domain/bm25.ts.
    const idf = (id: number) => Math.log(1 + (docs.length - (df.get(id) ?? 0) + 0.5) / ((df.get(id) ?? 0) + 0.5));
    const bm25 = createBm25Index();
    docs.forEach((d, i) => bm25.add(String(i), d));
    for (const query of ['vitamin D bone', 'heart beta blockers', 'zebrafish', 'protein learning networks']) {
      const expected = bm25.search(query, docs.length);
      const q = encodeQuery(query);
      for (const hit of expected) expect(dot(q, vectors[Number(hit.id)], idf)).toBeCloseTo(hit.score, 9);
      const ranked = vectors
        .map((v, i) => ({ id: String(i), score: dot(q, v, idf) }))
        .filter((h) => h.score > 0)
        .sort((a, b) => b.score - a.score);
      expect(ranked.map((h) => h.id)).toEqual(expected.map((h) => h.id));
    }
  });
});

describe('chunkLexicalText', () => {
  it('is the title, a newline, then the chunk text (as the in-memory lexical index)', () => {
    expect(chunkLexicalText({ title: 'T', text: 'body' })).toBe('T\nbody');
    expect(chunkLexicalText({})).toBe('\n');
  });
});
