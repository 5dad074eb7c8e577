import { readFile } from 'node:fs/promises';
import type { Citation } from '../domain/types.js';
import { AppError } from '../errors.js';
import { parseQaSet, scoreAnswers, type AnswerResult, type QaItem } from '../eval/answers.js';
import { NOT_FOUND_ANSWER } from '../generate/extractive.js';
import type { ApiClient } from './api-client.js';

/**
 * `srag eval-answers <qa.jsonl | squad.json> [--limit N] [--k K]`: asks every question of a QA set of the
 * running API (whatever answers it: extractive, or a configured model) and reports containment, the
 * share led by the answer, citation correctness (document, and page where the set names one), "not found" precision and recall, and latency.
 */
export async function runEvalAnswers(
  api: ApiClient,
  opts: { file: string; limit: number; k: number; json: boolean },
  out: (s: string) => void,
  progress: (done: number, total: number) => void = () => {},
): Promise<number> {
  let text: string;
  try {
    text = await readFile(opts.file, 'utf8');
  } catch (err) {
    throw new AppError('INVALID_INPUT', `cannot read ${opts.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const all = parseQaSet(text, opts.file);
  const items: QaItem[] = opts.limit > 0 ? all.slice(0, opts.limit) : all;
  if (items.length === 0) throw new AppError('INVALID_INPUT', `${opts.file} holds no questions`);
  const results: AnswerResult[] = [];
  for (const item of items) {
    const started = performance.now();
    const res = await api.post<{ answer: string; citations: Citation[] }>('/v1/query', { question: item.question, k: opts.k });
    results.push({ answer: res.answer, citations: res.citations, notFound: res.citations.length === 0 || res.answer === NOT_FOUND_ANSWER, ms: performance.now() - started });
    progress(results.length, items.length);
  }
  const report = scoreAnswers(items, results);
  if (opts.json) {
    out(JSON.stringify({ file: opts.file, ...report }));
    return 0;
  }
  const pct = (x: number | undefined) => (x === undefined ? 'n/a' : `${(100 * x).toFixed(1)} %`);
  out(`${report.questions} questions (${report.answerable} answerable, ${report.unanswerable} without an answer) from ${opts.file}`);
  out(`  answer quoted by a citation   ${pct(report.containment)}`);
  out(`  ... by the first citation     ${pct(report.firstContainment)}`);
  if (report.citationCorrect !== undefined) out(`  gold source cited             ${pct(report.citationCorrect)}`);
  if (report.pageCorrect !== undefined) out(`  first citation on gold page   ${pct(report.pageCorrect)} (any citation: ${pct(report.pageCited)})`);
  out(`  "not found" answers           ${report.notFound.answered} (precision ${pct(report.notFound.precision)}, recall ${pct(report.notFound.recall)})`);
  out(`  latency                       p50 ${report.latencyMs.p50} ms, p95 ${report.latencyMs.p95} ms`);
  return 0;
}
