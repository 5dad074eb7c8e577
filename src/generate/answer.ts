import { verifyAnswer } from '../domain/citations.js';
import { isAppError } from '../errors.js';
import type { Logger } from '../obs/logger.js';
import { notFoundAnswer } from './extractive.js';
import type { AnswerEvent, FallbackReason, GeneratedAnswer, GenerateInput, Generator } from './port.js';

/**
 * The verified answer pipeline: the only way an answer reaches a user. A model's answer is returned
 * only if every marker resolves to a verbatim quote (verifyAnswer); otherwise, or if the model is
 * unreachable, the extractive answer is returned with `fallbackReason`. The extractive answer is
 * verified too: if it ever fails, that is a bug, logged as an error, and the user gets "not found".
 */

export interface AnswererDeps {
  /** An LLM generator; absent means extractive answers only. */
  generator?: Generator;
  extractive: Generator;
  logger: Logger;
}

export interface Answerer {
  answer(input: GenerateInput, signal?: AbortSignal): Promise<GeneratedAnswer>;
  /**
   * Events as documented on AnswerEvent: model tokens as they come, a `replace` when the text shown so
   * far must be swapped (fallback, or the model's cleaned final text differs from its raw tokens), and
   * exactly one final `done` with the verified answer. Tokens emitted after the last `replace` (or from
   * the start) concatenate to the final answer text.
   */
  stream(input: GenerateInput, signal?: AbortSignal): AsyncIterable<AnswerEvent>;
}

type Judgement = { ok: true } | { ok: false; reason: FallbackReason; problems: string[] };

function judge(result: GeneratedAnswer, input: GenerateInput): Judgement {
  // Never trust the generator's own `verified` flag: check the exact text and citations returned.
  const check = verifyAnswer(result.answer, result.citations, input.chunks);
  if (!check.ok) return { ok: false, reason: 'verification_failed', problems: check.problems };
  if (result.citations.length === 0) return { ok: false, reason: 'no_citations', problems: [] };
  return { ok: true };
}

export function createAnswerer(deps: AnswererDeps): Answerer {
  const log = deps.logger.child({ component: 'answerer' });

  async function extractive(input: GenerateInput, signal: AbortSignal | undefined, reason?: FallbackReason): Promise<GeneratedAnswer> {
    let result: GeneratedAnswer;
    try {
      result = await deps.extractive.generate(input, signal);
    } catch (err) {
      if (signal?.aborted) throw err;
      log.error('extractive generator threw', { err: errorFields(err) });
      return { ...notFoundAnswer(), fallbackReason: 'extractive_failed' };
    }
    const check = verifyAnswer(result.answer, result.citations, input.chunks);
    if (!check.ok) {
      log.error('extractive answer failed verification', { problems: check.problems });
      return { ...notFoundAnswer(), fallbackReason: 'extractive_failed' };
    }
    const out: GeneratedAnswer = { ...result, mode: 'extractive', verified: true };
    delete out.problems;
    if (reason) out.fallbackReason = reason;
    return out;
  }

  function fallingBack(reason: FallbackReason, fields: Record<string, unknown>): void {
    log.warn('model answer rejected, answering extractively', { generator: deps.generator?.name, reason, ...fields });
  }

  async function answer(input: GenerateInput, signal?: AbortSignal): Promise<GeneratedAnswer> {
    const generator = deps.generator;
    if (!generator) return extractive(input, signal);
    let result: GeneratedAnswer;
    try {
      result = await generator.generate(input, signal);
    } catch (err) {
      if (signal?.aborted) throw err;
      fallingBack('upstream_error', { err: errorFields(err) });
      return extractive(input, signal, 'upstream_error');
    }
    const verdict = judge(result, input);
    if (!verdict.ok) {
      fallingBack(verdict.reason, { problems: verdict.problems });
      return extractive(input, signal, verdict.reason);
    }
    const out: GeneratedAnswer = { ...result, mode: 'llm', verified: true };
    delete out.problems;
    delete out.fallbackReason;
    return out;
  }

  async function* stream(input: GenerateInput, signal?: AbortSignal): AsyncGenerator<AnswerEvent> {
    const generator = deps.generator;
    if (!generator?.stream) {
      const result = await answer(input, signal);
      yield { type: 'token', text: result.answer };
      yield { type: 'done', answer: result };
      return;
    }

    let shown = '';
    let final: GeneratedAnswer | undefined;
    let failure: { reason: FallbackReason; fields: Record<string, unknown> } | undefined;
    try {
      for await (const event of generator.stream(input, signal)) {
        if (event.type === 'token') {
          shown += event.text;
          yield event;
        } else final = event.answer;
      }
      if (!final) failure = { reason: 'upstream_error', fields: { err: 'stream ended without an answer' } };
    } catch (err) {
      if (signal?.aborted) throw err;
      failure = { reason: 'upstream_error', fields: { err: errorFields(err) } };
    }

    let result: GeneratedAnswer;
    if (failure || !final) {
      const f = failure ?? { reason: 'upstream_error' as const, fields: {} };
      fallingBack(f.reason, f.fields);
      result = await extractive(input, signal, f.reason);
    } else {
      const verdict = judge(final, input);
      if (verdict.ok) {
        result = { ...final, mode: 'llm', verified: true };
        delete result.problems;
        delete result.fallbackReason;
      } else {
        fallingBack(verdict.reason, { problems: verdict.problems });
        result = await extractive(input, signal, verdict.reason);
      }
    }

    if (shown === '') yield { type: 'token', text: result.answer };
    else if (shown.trim() !== result.answer) yield { type: 'replace', answer: result };
    yield { type: 'done', answer: result };
  }

  return { answer, stream };
}

function errorFields(err: unknown): Record<string, unknown> {
  if (isAppError(err)) return { name: err.name, code: err.code, status: err.details?.status };
  if (err instanceof Error) return { name: err.name };
  return { name: typeof err };
}
