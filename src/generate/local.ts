import { AppError } from '../errors.js';
import type { Logger } from '../obs/logger.js';
import type { GeneratedAnswer, GenerateInput, Generator } from './port.js';
import { buildChatMessages } from './prompt.js';
import { notFoundAnswer } from './extractive.js';
import { parseQuoteAnswer, QUOTE_SYSTEM_PROMPT, quoteAnswerSchema, renderQuoteAnswer, type AnswerSchema } from './quote-schema.js';

/**
 * Generator over an in-process model that completes under a JSON-schema grammar (llama-cpp.ts is the
 * real one; tests pass fakes through the same port). The model picks verbatim sentences of the
 * sources it cites (quote-schema.ts); the answerer verifies them like any model answer.
 */

export interface LocalCompletion {
  /** The raw text produced, JSON by construction unless cut off at maxTokens. */
  text: string;
  /** Tokens generated (not counting the prompt). */
  tokens: number;
  /** Time spent generating, queueing for the model excluded. */
  ms: number;
  /** Of `ms`, the time until the first token: reading the prompt (sources and question). */
  firstTokenMs: number;
}

export interface LocalCompletionRequest {
  system: string;
  user: string;
  schema: AnswerSchema;
  maxTokens: number;
}

export interface LocalChatModel {
  readonly name: string;
  complete(request: LocalCompletionRequest, signal?: AbortSignal): Promise<LocalCompletion>;
  close(): Promise<void>;
}

export interface LocalGeneratorOptions {
  model: LocalChatModel;
  logger: Logger;
  /** Enough for MAX_PICKS long quotes and the JSON around them; a reply cut off here fails to parse. */
  maxTokens?: number;
  /** Called with every completion (bench figures); never sees text. */
  onCompletion?: (stats: { tokens: number; ms: number; firstTokenMs: number }) => void;
}

export function createLocalGenerator(options: LocalGeneratorOptions): Generator {
  const maxTokens = options.maxTokens ?? 512;
  const log = options.logger.child({ component: 'local-llm', model: options.model.name });

  async function generate(input: GenerateInput, signal?: AbortSignal): Promise<GeneratedAnswer> {
    const schema = quoteAnswerSchema(input.chunks);
    // Nothing quotable (no chunks retrieved): there is nothing to ask the model about.
    if (!schema) return { ...notFoundAnswer(), mode: 'llm', verified: false, problems: ['no quotable sentences'] };
    const user = buildChatMessages(input).find((m) => m.role === 'user')?.content ?? '';
    let completion: LocalCompletion;
    try {
      completion = await options.model.complete({ system: QUOTE_SYSTEM_PROMPT, user, schema, maxTokens }, signal);
    } catch (err) {
      if (signal?.aborted || err instanceof AppError) throw err;
      throw new AppError('UPSTREAM_ERROR', 'local model failed', { cause: err });
    }
    options.onCompletion?.({ tokens: completion.tokens, ms: completion.ms, firstTokenMs: completion.firstTokenMs });
    const result = renderQuoteAnswer(parseQuoteAnswer(completion.text), input);
    log.info('llm answer', {
      ms: completion.ms,
      firstTokenMs: completion.firstTokenMs,
      completionTokens: completion.tokens,
      chunks: input.chunks.length,
      citations: result.citations.length,
      verified: result.verified,
    });
    return result;
  }

  return { name: `local:${options.model.name}`, generate };
}
