import type { Response } from 'express';
import type { Citation } from '../domain/types.js';
import { isAppError } from '../errors.js';
import type { Answerer } from '../generate/answer.js';
import { notFoundAnswer } from '../generate/extractive.js';
import type { AnswerEvent, GeneratedAnswer } from '../generate/port.js';
import { hashQuestion, type AuditSink } from '../obs/audit.js';
import type { Logger } from '../obs/logger.js';
import type { Metrics } from '../obs/metrics.js';
import type { RetrievedPoint, SearchMode, SearchService } from '../query/search.js';
import type { Principal } from './auth.js';
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
  audit: AuditSink;
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
  /** Records the outcome once (audit + metrics); later calls are ignored. */
  finish(status: number): Promise<void>;
}

export function citationOut(c: Citation): CitationOutT {
  const out: CitationOutT = { n: c.n, documentId: c.documentId, title: c.title, source: c.source, start: c.start, end: c.end, quote: c.quote, score: c.score };
  if (c.page !== undefined) out.page = c.page;
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
  const finish = async (status: number) => {
    if (finished) return;
    finished = true;
    deps.metrics.audited.inc({ route });
    await deps.audit({
      route,
      user: principal.user,
      questionSha256: hashQuestion(input.question),
      k: input.k,
      // The documents whose text the answer could draw on, not only the ones it cites.
      documentIds: [...new Set(hits.map((h) => h.payload.documentId))],
      status,
      ms: Math.round(performance.now() - started),
    });
  };

  try {
    const result = await deps.search.search(input.question, input.k, principal, { mode: input.mode });
    hits = result.hits;
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
