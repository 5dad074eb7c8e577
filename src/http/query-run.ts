import type { Response } from 'express';
import type { Citation } from '../domain/types.js';
import { isAppError } from '../errors.js';
import type { Answerer } from '../generate/answer.js';
import { notFoundAnswer } from '../generate/extractive.js';
import type { AnswerEvent, GeneratedAnswer } from '../generate/port.js';
import type { Logger } from '../obs/logger.js';
import type { Metrics } from '../obs/metrics.js';
import type { RetrievedPoint, SearchMode, SearchService } from '../query/search.js';
import { auditNote } from './gateway/audit-trail.js';
import type { Principal } from './gateway/principal.js';
import type { CitationOutT } from './schemas.js';

/**
 * One question answered over retrieved chunks, shared by /v1/query and /v1/chat/completions: retrieve
 * (ACL filter inside the index query), answer through the verifying answerer, abort generation when
 * the client goes away, observe stage timings and write exactly one audit entry.
 */

export interface QueryDefaults {
  /** Chunks retrieved when a request names no k. */
  k: number;
  /** What writes answers, for /v1/models (e.g. "extractive" or "openai:llama3"); informational. */
  generator: string;
}

export interface QueryRouteDeps {
  search: SearchService;
  answerer: Answerer;
  /** Keyed question hash for the audit record (the question itself is never kept). */
  audit: { hashQuestion(question: string): string };
  /** How a source path is shown to this caller (absolute server paths only to admins). */
  sourceView?: (source: string, principal: Principal) => string;
  metrics: Metrics;
  logger: Logger;
  defaults: QueryDefaults;
}

export interface QueryRun {
  hits: RetrievedPoint[];
  retrieval: SearchMode;
  signal: AbortSignal;
  answer(): Promise<GeneratedAnswer>;
  stream(): AsyncIterable<AnswerEvent>;
  /** Records the outcome once (metrics; the audit record is written by the trail); later calls are ignored. */
  finish(status: number): Promise<void>;
  /** A citation as this caller may see it. */
  cite(c: Citation): CitationOutT;
}

export function citationOut(c: Citation): CitationOutT {
  const out: CitationOutT = { n: c.n, documentId: c.documentId, title: c.title, source: c.source, start: c.start, end: c.end, quote: c.quote, score: c.score };
  if (c.page !== undefined) out.page = c.page;
  if (c.relevance !== undefined) out.relevance = c.relevance;
  return out;
}

/** The status an aborted or failed query is audited with (499: the client closed the request). */
export function failureStatus(signal: AbortSignal): number {
  return signal.aborted ? 499 : 500;
}

/** What a client may see of a failure after the response has started (the rest stays in the log). */
/**
 * The verified answer for a non-streaming response, or undefined when the client went away (nothing
 * left to send). Either way a failure is audited before it is rethrown.
 */
export async function answerForResponse(run: QueryRun): Promise<GeneratedAnswer | undefined> {
  try {
    return await run.answer();
  } catch (err) {
    await run.finish(failureStatus(run.signal));
    if (run.signal.aborted) return undefined;
    throw err;
  }
}

export function streamError(err: unknown): { code: string; message: string } {
  if (isAppError(err) && err.code !== 'INTERNAL') return { code: err.code, message: err.message };
  return { code: 'INTERNAL', message: 'internal error' };
}

export async function startQuery(
  deps: QueryRouteDeps,
  route: string,
  res: Response,
  input: { question: string; k: number; mode?: SearchMode },
): Promise<QueryRun> {
  const started = performance.now();
  const principal = res.locals.principal as Principal;
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort(new Error('client closed the request'));
  });

  let hits: RetrievedPoint[] = [];
  let finished = false;
  const note = auditNote(res);
  note.questionHmac = deps.audit.hashQuestion(input.question);
  note.k = input.k;
  const finish = async (status: number) => {
    if (finished) return;
    finished = true;
    deps.metrics.audited.inc({ route });
    note.detail = { ...note.detail, answerStatus: status, answerMs: Math.round(performance.now() - started) };
  };
  const view = deps.sourceView ?? ((s: string) => s);

  try {
    const result = await deps.search.search(input.question, input.k, principal, { mode: input.mode });
    hits = result.hits;
    // The documents whose text the answer could draw on, not only the ones it cites.
    note.documentIds = [...new Set(hits.map((h) => h.payload.documentId))];
    deps.metrics.queryStage.observe({ stage: 'embed' }, result.timings.embedMs / 1000);
    deps.metrics.queryStage.observe({ stage: 'retrieve' }, result.timings.retrieveMs / 1000);
  } catch (err) {
    await finish(failureStatus(controller.signal)).catch(() => undefined);
    throw err;
  }

  const generateStage = () => deps.metrics.queryStage.startTimer({ stage: 'generate' });
  const chunks = hits;
  const question = input.question;
  return {
    hits,
    retrieval: input.mode ?? deps.search.mode,
    signal: controller.signal,
    finish,
    cite: (c) => ({ ...citationOut(c), source: view(c.source, principal) }),
    async answer() {
      // Nothing retrieved: nothing to ask a model about.
      if (chunks.length === 0) return notFoundAnswer();
      const end = generateStage();
      try {
        return await deps.answerer.answer({ question, chunks }, controller.signal);
      } finally {
        end();
      }
    },
    async *stream() {
      if (chunks.length === 0) {
        const answer = notFoundAnswer();
        yield { type: 'token', text: answer.answer };
        yield { type: 'done', answer };
        return;
      }
      const end = generateStage();
      try {
        yield* deps.answerer.stream({ question, chunks }, controller.signal);
      } finally {
        end();
      }
    },
  };
}
