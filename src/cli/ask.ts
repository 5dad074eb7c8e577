import type { Citation } from '../domain/types.js';
import type { ApiClient } from './api-client.js';

interface QueryResponse {
  answer: string;
  citations: Citation[];
  mode?: string;
}

/** Prints the answer, then its numbered citations with title and page. */
export async function runAsk(api: ApiClient, question: string, k: number, json: boolean, out: (s: string) => void): Promise<number> {
  const res = await api.post<QueryResponse>('/v1/query', { question, k });
  if (json) {
    out(JSON.stringify(res));
    return 0;
  }
  out(res.answer);
  if (res.citations.length > 0) out('');
  for (const c of res.citations) {
    const where = c.page ? `${c.title}, p. ${c.page}` : c.title;
    out(`[${c.n}] ${where} — ${c.source}`);
    out(`    "${c.quote.replace(/\s+/g, ' ').slice(0, 200)}${c.quote.length > 200 ? '…' : ''}"`);
  }
  return 0;
}
