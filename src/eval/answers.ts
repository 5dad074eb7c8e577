import type { Citation } from '../domain/types.js';
import { AppError } from '../errors.js';

/**
 * Answer quality on a QA set: each item is a question with its gold answers (empty: the knowledge base
 * does not answer it, so "not found" is right) and optionally the source that holds the answer.
 */
export interface QaItem {
  question: string;
  answers: string[];
  /** Document title, source path or external id the answer must be cited from. */
  source?: string;
  /** 1-based page of `source` that holds the answer (PDFs): citations must point there, not only at the file. */
  page?: number;
}

export interface AnswerResult {
  answer: string;
  citations: Citation[];
  notFound: boolean;
  ms: number;
}

export interface AnswerReport {
  questions: number;
  answerable: number;
  unanswerable: number;
  /** Answerable questions whose citations quote a gold answer (case-insensitive). */
  containment: number;
  /** … whose first citation does (the answer leads with it). */
  firstContainment: number;
  /** Answerable questions with a source whose citations include that source. */
  citationCorrect?: number;
  /** Answerable questions with a source and page whose first citation is on that page of that source. */
  pageCorrect?: number;
  /** … whose citations include one on that page of that source. */
  pageCited?: number;
  notFound: { answered: number; precision?: number; recall?: number };
  latencyMs: { p50: number; p95: number };
}

/** JSONL: {"question", "answer"|"answers", "source"?, "page"?} per line; SQuAD v1.1 JSON: every question of every paragraph. */
export function parseQaSet(text: string, name: string): QaItem[] {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') && /"data"\s*:/.test(trimmed.slice(0, 200))) {
    const squad = JSON.parse(text) as { data?: { title: string; paragraphs: { qas: { question: string; answers: { text: string }[] }[] }[] }[] };
    if (!Array.isArray(squad.data)) throw new AppError('INVALID_INPUT', `${name}: not a SQuAD file (no "data" array)`);
    return squad.data.flatMap((a) =>
      a.paragraphs.flatMap((p) => p.qas.map((q) => ({ question: q.question, answers: [...new Set(q.answers.map((x) => x.text))], source: a.title.replace(/_/g, ' ') }))),
    );
  }
  return text
    .split('\n')
    .map((line, i) => ({ line: line.trim(), n: i + 1 }))
    .filter(({ line }) => line.length > 0)
    .map(({ line, n }) => {
      let row: { question?: unknown; answer?: unknown; answers?: unknown; source?: unknown; page?: unknown };
      try {
        row = JSON.parse(line) as typeof row;
      } catch {
        throw new AppError('INVALID_INPUT', `${name} line ${n}: not JSON`);
      }
      const answers = Array.isArray(row.answers) ? row.answers : row.answer === undefined || row.answer === null ? [] : [row.answer];
      if (typeof row.question !== 'string' || !row.question.trim() || !answers.every((a) => typeof a === 'string')) {
        throw new AppError('INVALID_INPUT', `${name} line ${n}: expected {"question": string, "answer"?: string | "answers"?: string[], "source"?: string, "page"?: number}`);
      }
      // A page means nothing without the document it is a page of.
      if (row.page !== undefined && (!Number.isInteger(row.page) || (row.page as number) < 1 || typeof row.source !== 'string')) {
        throw new AppError('INVALID_INPUT', `${name} line ${n}: "page" must be a whole number from 1, given with "source"`);
      }
      return {
        question: row.question,
        answers: answers as string[],
        ...(typeof row.source === 'string' ? { source: row.source } : {}),
        ...(row.page !== undefined ? { page: row.page as number } : {}),
      };
    });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const share = (n: number, d: number) => (d === 0 ? 0 : +(n / d).toFixed(4));

/** PDF text keeps the page's line breaks: an answer quoted across one still counts. */
const folded = (s: string) => s.replace(/\s+/g, ' ').toLowerCase();

/** The cited document is the item's source: same title, path, external id, or a path ending in it. */
function citesSource(c: Citation, source: string): boolean {
  const s = source.toLowerCase();
  return [c.title, c.source, c.documentId].some((v) => v?.toLowerCase() === s || v?.toLowerCase().endsWith(`/${s}`));
}

/** Scores the answers given to the items (same order). */
export function scoreAnswers(items: readonly QaItem[], results: readonly AnswerResult[]): AnswerReport {
  if (items.length !== results.length) throw new AppError('INTERNAL', 'one result per question expected');
  let answerable = 0;
  let contained = 0;
  let first = 0;
  let withSource = 0;
  let sourceCited = 0;
  let withPage = 0;
  let pageFirst = 0;
  let pageAny = 0;
  let notFound = 0;
  let notFoundRight = 0;
  items.forEach((item, i) => {
    const r = results[i];
    if (r.notFound) notFound++;
    if (item.answers.length === 0) {
      if (r.notFound) notFoundRight++;
      return;
    }
    answerable++;
    const gold = item.answers.map(folded);
    const quotes = (c: Citation) => gold.some((a) => folded(c.quote).includes(a));
    if (r.citations.some(quotes)) contained++;
    if (r.citations[0] && quotes(r.citations[0])) first++;
    if (item.source) {
      withSource++;
      const source = item.source;
      if (r.citations.some((c) => citesSource(c, source))) sourceCited++;
      if (item.page !== undefined) {
        withPage++;
        const onPage = (c: Citation) => c.page === item.page && citesSource(c, source);
        if (r.citations[0] && onPage(r.citations[0])) pageFirst++;
        if (r.citations.some(onPage)) pageAny++;
      }
    }
  });
  const unanswerable = items.length - answerable;
  const ms = results.map((r) => r.ms).sort((a, b) => a - b);
  return {
    questions: items.length,
    answerable,
    unanswerable,
    containment: share(contained, answerable),
    firstContainment: share(first, answerable),
    ...(withSource > 0 ? { citationCorrect: share(sourceCited, withSource) } : {}),
    ...(withPage > 0 ? { pageCorrect: share(pageFirst, withPage), pageCited: share(pageAny, withPage) } : {}),
    notFound: {
      answered: notFound,
      ...(notFound > 0 ? { precision: share(notFoundRight, notFound) } : {}),
      ...(unanswerable > 0 ? { recall: share(notFoundRight, unanswerable) } : {}),
    },
    latencyMs: { p50: +percentile(ms, 50).toFixed(1), p95: +percentile(ms, 95).toFixed(1) },
  };
}
