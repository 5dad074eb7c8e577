import { describe, expect, it } from 'vitest';
import { gateVerdict } from '../../src/domain/rollout.js';

const scores = (ndcg10: number, recall100: number) => ({ ndcg10, recall100, mrr10: 0, queries: 40 });

describe('rollout gate verdict', () => {
  it('passes a candidate that is better, equal, or worse within the tolerance on both figures', () => {
    expect(gateVerdict(scores(0.8, 0.9), scores(0.85, 0.95), { ndcg10: 0, recall100: 0 }).pass).toBe(true);
    expect(gateVerdict(scores(0.8, 0.9), scores(0.8, 0.9), { ndcg10: 0, recall100: 0 }).pass).toBe(true);
    expect(gateVerdict(scores(0.8, 0.9), scores(0.79, 0.89), { ndcg10: 0.02, recall100: 0.02 }).pass).toBe(true);
  });

  it('refuses when either figure drops by more than its tolerance, and says by how much', () => {
    const ndcg = gateVerdict(scores(0.8644, 1), scores(0.8403, 1), { ndcg10: 0.01, recall100: 0.01 });
    expect(ndcg.pass).toBe(false);
    expect(ndcg.reason).toContain('nDCG@10 0.8403 vs 0.8644 (-0.0241, tolerance 0.01)');
    expect(gateVerdict(scores(0.8, 0.9), scores(0.9, 0.85), { ndcg10: 0.02, recall100: 0.02 }).pass).toBe(false);
  });
});
