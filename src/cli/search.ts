import type { SearchHitT } from '../http/schemas.js';
import type { ApiClient } from './api-client.js';

export async function runSearch(api: ApiClient, query: string, k: number, json: boolean, out: (s: string) => void): Promise<number> {
  const { hits } = await api.post<{ hits: SearchHitT[] }>('/v1/search', { query, k });
  if (json) {
    out(JSON.stringify({ hits }));
    return 0;
  }
  if (hits.length === 0) out('no results');
  hits.forEach((h, i) => {
    const where = h.page ? `${h.title}, p. ${h.page}` : h.title;
    const snippet = h.text.replace(/\s+/g, ' ').slice(0, 240);
    out(`${i + 1}. ${where}  (${scoreLabel(h)})\n   ${snippet}${h.text.length > 240 ? '…' : ''}`);
  });
  return 0;
}

/** People read "relevance 87 %"; the ranking score shows only when the model has no relevance curve. */
export function scoreLabel(h: Pick<SearchHitT, 'score' | 'relevance'>): string {
  return h.relevance !== undefined ? `relevance ${Math.round(h.relevance * 100)} %` : `score ${h.score.toFixed(3)}`;
}
