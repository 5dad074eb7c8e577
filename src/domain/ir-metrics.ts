/** Standard IR metrics over a ranked list of ids and graded relevance judgements. */

export type Qrels = Map<string, Map<string, number>>;

export function ndcgAt(ranked: string[], relevant: Map<string, number>, k: number): number {
  let dcg = 0;
  for (let i = 0; i < Math.min(k, ranked.length); i++) {
    const rel = relevant.get(ranked[i]) ?? 0;
    if (rel > 0) dcg += (2 ** rel - 1) / Math.log2(i + 2);
  }
  const ideal = [...relevant.values()].filter((r) => r > 0).sort((a, b) => b - a);
  let idcg = 0;
  for (let i = 0; i < Math.min(k, ideal.length); i++) idcg += (2 ** ideal[i] - 1) / Math.log2(i + 2);
  return idcg === 0 ? 0 : dcg / idcg;
}

export function recallAt(ranked: string[], relevant: Map<string, number>, k: number): number {
  const rel = [...relevant].filter(([, r]) => r > 0).map(([id]) => id);
  if (rel.length === 0) return 0;
  const top = new Set(ranked.slice(0, k));
  return rel.filter((id) => top.has(id)).length / rel.length;
}

export function mrrAt(ranked: string[], relevant: Map<string, number>, k: number): number {
  for (let i = 0; i < Math.min(k, ranked.length); i++) if ((relevant.get(ranked[i]) ?? 0) > 0) return 1 / (i + 1);
  return 0;
}

export interface RetrievalScores {
  ndcg10: number;
  recall100: number;
  mrr10: number;
  queries: number;
}

/** Means over the queries that have judgements. */
export function scoreRun(run: Map<string, string[]>, qrels: Qrels): RetrievalScores {
  let n = 0;
  let ndcg = 0;
  let recall = 0;
  let mrr = 0;
  for (const [qid, relevant] of qrels) {
    const ranked = run.get(qid) ?? [];
    ndcg += ndcgAt(ranked, relevant, 10);
    recall += recallAt(ranked, relevant, 100);
    mrr += mrrAt(ranked, relevant, 10);
    n++;
  }
  return n === 0 ? { ndcg10: 0, recall100: 0, mrr10: 0, queries: 0 } : { ndcg10: ndcg / n, recall100: recall / n, mrr10: mrr / n, queries: n };
}

/** Chunk hits to a document ranking: a document ranks by its best chunk. */
export function rankDocuments(hits: { docKey: string; score: number }[], limit: number): string[] {
  const best = new Map<string, number>();
  for (const h of hits) if (!best.has(h.docKey) || best.get(h.docKey)! < h.score) best.set(h.docKey, h.score);
  return [...best].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, limit).map(([id]) => id);
}
