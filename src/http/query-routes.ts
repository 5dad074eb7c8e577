import { Router, type Request, type Response } from 'express';
import { AppError } from '../errors.js';
import type { Answerer } from '../generate/answer.js';
import type { GeneratedAnswer } from '../generate/port.js';
import { registerChatCompletions } from './chat-completions.js';
import { answerForResponse, failureStatus, startQuery, streamError, type QueryDefaults, type QueryRouteDeps, type QueryRun } from './query-run.js';
import { QueryRequest } from './schemas.js';
import { openSse } from './sse.js';

export type { QueryDefaults, QueryRouteDeps } from './query-run.js';

/** What the app needs beside its shared services to answer questions (AppDeps.query). */
export interface QueryFeature {
  answerer: Answerer;
  defaults?: Partial<QueryDefaults>;
}

export const DEFAULT_QUERY_K = 8;

/** The model id the OpenAI-compatible facade serves: retrieval + verified answers as one "model". */
export const SRAG_MODEL_ID = 'srag';

function answerBody(run: QueryRun, answer: GeneratedAnswer) {
  return { answer: answer.answer, citations: answer.citations.map(run.cite), mode: answer.mode, retrieval: run.retrieval };
}

/**
 * POST /query (JSON or server-sent events), POST /chat/completions, GET /models: answers with
 * citations over the viewer's documents. Mounted under /v1 after auth and the JSON body parser.
 */
export function createQueryRouter(input: Omit<QueryRouteDeps, 'defaults'> & QueryFeature): Router {
  const deps: QueryRouteDeps = { ...input, defaults: { k: DEFAULT_QUERY_K, generator: 'extractive', ...input.defaults } };
  const router = Router();
  const created = Math.floor(Date.now() / 1000);
  const model = { id: SRAG_MODEL_ID, object: 'model' as const, created, owned_by: 'srag', generator: deps.defaults.generator };

  router.post('/query', async (req: Request, res: Response) => {
    const body = QueryRequest.parse(req.body);
    const run = await startQuery(deps, 'query', res, { question: body.question, k: body.k ?? deps.defaults.k, mode: body.mode });

    if (!body.stream) {
      const answer = await answerForResponse(run);
      if (!answer) return;
      res.json(answerBody(run, answer));
      await run.finish(200);
      return;
    }

    const sse = openSse(res);
    try {
      for await (const event of run.stream()) {
        if (sse.closed) break;
        if (event.type === 'token') sse.event('token', { text: event.text });
        else if (event.type === 'replace') sse.event('replace', { answer: event.answer.answer, citations: event.answer.citations.map(run.cite) });
        else {
          // Citations only ever leave after the answerer verified the final answer.
          for (const c of event.answer.citations) sse.event('citation', run.cite(c));
          sse.event('done', answerBody(run, event.answer));
        }
      }
      await run.finish(sse.closed && run.signal.aborted ? 499 : 200);
    } catch (err) {
      if (!run.signal.aborted) {
        deps.logger.error('http: query stream failed', { route: 'query', err: err as Error });
        sse.event('error', { error: streamError(err) });
      }
      await run.finish(failureStatus(run.signal));
    } finally {
      sse.end();
    }
  });

  registerChatCompletions(router, deps, SRAG_MODEL_ID);

  router.get('/models', (_req, res) => {
    res.json({ object: 'list', data: [model] });
  });
  router.get('/models/:modelId', (req, res) => {
    if (req.params.modelId !== SRAG_MODEL_ID) throw new AppError('NOT_FOUND', `no model ${req.params.modelId}`);
    res.json(model);
  });

  return router;
}
