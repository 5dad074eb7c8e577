import { randomUUID } from 'node:crypto';
import type { Request, Response, Router } from 'express';
import { AppError } from '../errors.js';
import type { GeneratedAnswer } from '../generate/port.js';
import { answerForResponse, failureStatus, startQuery, streamError, type QueryRouteDeps, type QueryRun } from './query-run.js';
import { ChatCompletionRequest, type ChatCompletionRequestT } from './schemas.js';
import { openSse } from './sse.js';

/**
 * OpenAI-compatible POST /chat/completions over the same retrieval and verified answers as /v1/query,
 * so existing OpenAI clients and chat front-ends can ask srag. The last user message is the question.
 * The content is the verified answer with its [n] markers; citations ride along as an extra top-level
 * `citations` field (in the final chunk when streaming). Streams never carry unverified text: a chat
 * client cannot take back tokens it has shown, so the answer is sent once the answerer verified it.
 */

const MAX_QUESTION_CHARS = 4000;

export function questionOf(messages: ChatCompletionRequestT['messages']): string {
  const last = [...messages].reverse().find((m) => m.role === 'user');
  const content = last?.content;
  const text =
    typeof content === 'string'
      ? content
      : Array.isArray(content)
        ? content
            .filter((p) => p.type === 'text' && typeof p.text === 'string')
            .map((p) => p.text)
            .join('\n')
        : '';
  const question = text.trim();
  if (!question) throw new AppError('INVALID_INPUT', 'messages need a user message with text: its text is the question');
  if (question.length > MAX_QUESTION_CHARS) throw new AppError('INVALID_INPUT', `the question (last user message) is longer than ${MAX_QUESTION_CHARS} characters`);
  return question;
}

function completion(run: QueryRun, id: string, created: number, model: string, answer: GeneratedAnswer) {
  return {
    id,
    object: 'chat.completion' as const,
    created,
    model,
    choices: [{ index: 0, message: { role: 'assistant' as const, content: answer.answer, refusal: null }, finish_reason: 'stop' as const, logprobs: null }],
    citations: answer.citations.map(run.cite),
  };
}

function chunk(id: string, created: number, model: string, delta: Record<string, unknown>, finishReason: 'stop' | null, extra: Record<string, unknown> = {}) {
  return { id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }], ...extra };
}

export function registerChatCompletions(router: Router, deps: QueryRouteDeps, modelId: string): void {
  router.post('/chat/completions', async (req: Request, res: Response) => {
    const body = ChatCompletionRequest.parse(req.body);
    const question = questionOf(body.messages);
    const run = await startQuery(deps, 'chat.completions', res, { question, k: body.k ?? deps.defaults.k });
    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);

    if (!body.stream) {
      const answer = await answerForResponse(run);
      if (!answer) return;
      res.json(completion(run, id, created, modelId, answer));
      await run.finish(200);
      return;
    }

    const sse = openSse(res);
    try {
      // The role first, as OpenAI servers do, so clients can render the turn while it is verified.
      sse.data(chunk(id, created, modelId, { role: 'assistant', content: '' }, null));
      const answer = await run.answer();
      sse.data(chunk(id, created, modelId, { content: answer.answer }, null));
      sse.data(chunk(id, created, modelId, {}, 'stop', { citations: answer.citations.map(run.cite) }));
      sse.data('[DONE]');
      await run.finish(200);
    } catch (err) {
      if (!run.signal.aborted) {
        deps.logger.error('http: chat completion stream failed', { route: 'chat.completions', err: err as Error });
        sse.data({ error: streamError(err) });
      }
      await run.finish(failureStatus(run.signal));
    } finally {
      sse.end();
    }
  });
}
