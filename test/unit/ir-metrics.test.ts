import { describe, expect, it } from 'vitest';
import { mrrAt, ndcgAt, rankDocuments, recallAt, scoreRun } from '../../src/domain/ir-metrics.js';

const rel = (...ids: string[]) => new Map(ids.map((id) => [id, 1]));

describe('IR metrics', () => {
  it.each([
    ['hit at rank 1', ['a', 'x', 'y'], rel('a'), 1],
    ['hit at rank 2', ['x', 'a', 'y'], rel('a'), 1 / Math.log2(3)],
    ['no hit in the top 10', ['x', 'y'], rel('a'), 0],
    ['two relevant, both on top', ['a', 'b', 'x'], rel('a', 'b'), 1],
    ['two relevant, one found at 3', ['x', 'y', 'b'], rel('a', 'b'), 0.5 / (1 + 1 / Math.log2(3))],
  ])('nDCG@10: %s', (_n, ranked, relevant, expected) => {
    expect(ndcgAt(ranked, relevant, 10)).toBeCloseTo(expected, 10);
  });

  it('Recall@k and MRR@k', () => {
    expect(recallAt(['a', 'x', 'b'], rel('a', 'b', 'c'), 100)).toBeCloseTo(2 / 3);
    expect(recallAt(['a', 'x', 'b'], rel('a', 'b', 'c'), 2)).toBeCloseTo(1 / 3);
    expect(mrrAt(['x', 'y', 'a'], rel('a'), 10)).toBeCloseTo(1 / 3);
    expect(mrrAt(['x', 'y', 'a'], rel('a'), 2)).toBe(0);
  });

  it('scores only judged queries, counting a missing run as zero', () => {
    const qrels = new Map([
      ['q1', rel('a')],
      ['q2', rel('b')],
    ]);
    const s = scoreRun(new Map([['q1', ['a']]]), qrels);
    expect(s).toMatchObject({ queries: 2, ndcg10: 0.5, mrr10: 0.5, recall100: 0.5 });
  });

  it('a document ranks by its best chunk', () => {
    const hits = [
      { docKey: 'd1', score: 0.5 },
      { docKey: 'd2', score: 0.9 },
      { docKey: 'd1', score: 0.95 },
      { docKey: 'd3', score: 0.1 },
    ];
    expect(rankDocuments(hits, 2)).toEqual(['d1', 'd2']);
  });
});
