import { analyze } from './tokenize-lexical.js';

/**
 * Lexical overlap between a query-like text and candidate sentences, weighted by IDF over the
 * candidates themselves. Shared by the extractive generator (question vs. retrieved sentences) and by
 * citation matching (an answer's claim vs. the sentences of the chunk it cites).
 */

export interface TermStats {
  /** Number of candidate texts. */
  count: number;
  /** Candidate texts containing each term. */
  df: Map<string, number>;
}

export function termStats(termSets: readonly ReadonlySet<string>[]): TermStats {
  const df = new Map<string, number>();
  for (const set of termSets) for (const t of set) df.set(t, (df.get(t) ?? 0) + 1);
  return { count: termSets.length, df };
}

/** BM25-style IDF over the candidates; a term absent from every candidate gets the largest weight. */
export function idf(stats: TermStats, term: string): number {
  const n = stats.df.get(term) ?? 0;
  return Math.log(1 + (stats.count - n + 0.5) / (n + 0.5));
}

export interface OverlapScore {
  /** Sum of IDF over query terms found in the candidate. */
  matched: number;
  /** matched / IDF mass of all query terms: 0..1. */
  coverage: number;
  /** Distinct query terms found. */
  shared: number;
}

export function overlap(queryTerms: ReadonlySet<string>, candidate: ReadonlySet<string>, stats: TermStats): OverlapScore {
  let matched = 0;
  let total = 0;
  let shared = 0;
  for (const t of queryTerms) {
    const w = idf(stats, t);
    total += w;
    if (candidate.has(t)) {
      matched += w;
      shared++;
    }
  }
  return { matched, coverage: total > 0 ? matched / total : 0, shared };
}

export function contentTerms(text: string): Set<string> {
  return new Set(analyze(text));
}
