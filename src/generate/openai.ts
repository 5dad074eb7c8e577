import { AppError } from '../errors.js';
import type { Logger } from '../obs/logger.js';
import { answerFromMarkers } from './marked-answer.js';
import type { GeneratedAnswer, GenerateEvent, GenerateInput, Generator } from './port.js';
import { buildChatMessages } from './prompt.js';
import { sseData } from './sse.js';

/**
 * Generator over any OpenAI-compatible chat server (vLLM, Ollama, llama.cpp, LiteLLM). The answer's
 * [n] markers are turned into verbatim citations here and checked; the answerer decides what to do
 * with an answer that fails. Logs carry the model, status, timings and token counts, never text.
 */

export interface OpenAiChatOptions {
  /** Server base URL, with or without the trailing /v1. */
  url: string;
  model: string;
  apiKey?: string;
  fetchImpl?: typeof fetch;
  /** Whole-request limit, streaming included. Default 60 s. */
  timeoutMs?: number;
  logger: Logger;
  maxTokens?: number;
  temperature?: number;
}

export function chatCompletionsUrl(url: string): string {
  const base = url.replace(/\/+$/, '');
  if (base.endsWith('/chat/completions')) return base;
  return base.endsWith('/v1') ? `${base}/chat/completions` : `${base}/v1/chat/completions`;
}

// Reasoning models (Qwen3, DeepSeek-R1 distills) put their scratchpad in <think> tags; it is not the answer.
function cleanAnswer(text: string): string {
  return text.replace(/<think>[\s\S]*?(<\/think>|$)/g, '').trim();
}

export function createOpenAiChatGenerator(options: OpenAiChatOptions): Generator {
  const endpoint = chatCompletionsUrl(options.url);
  const fetchImpl = options.fetchImpl ?? fetch;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const log = options.logger.child({ component: 'openai-chat', model: options.model });

  const finish = (input: GenerateInput, raw: string): GeneratedAnswer => answerFromMarkers(input, cleanAnswer(raw));

  /** Maps a failed request to UPSTREAM_ERROR, except the caller's own abort, which propagates as is. */
  function upstreamError(err: unknown, signal: AbortSignal | undefined, timeout: AbortSignal): unknown {
    if (signal?.aborted) return signal.reason;
    if (err instanceof AppError) return err;
    if (timeout.aborted) return new AppError('UPSTREAM_ERROR', `LLM request timed out after ${timeoutMs} ms`, { cause: err });
    return new AppError('UPSTREAM_ERROR', 'LLM request failed', { cause: err });
  }

  async function post(input: GenerateInput, stream: boolean, signal: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: stream ? 'text/event-stream' : 'application/json' };
    if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
    const body: Record<string, unknown> = { model: options.model, messages: buildChatMessages(input), stream };
    if (options.maxTokens !== undefined) body.max_tokens = options.maxTokens;
    if (options.temperature !== undefined) body.temperature = options.temperature;
    const res = await fetchImpl(endpoint, { method: 'POST', headers, body: JSON.stringify(body), signal });
    if (!res.ok) {
      // The body may echo the prompt: it is neither logged nor put in the error.
      await res.body?.cancel().catch(() => {});
      throw new AppError('UPSTREAM_ERROR', `LLM server answered HTTP ${res.status}`, { details: { status: res.status } });
    }
    return res;
  }

  async function generate(input: GenerateInput, signal?: AbortSignal): Promise<GeneratedAnswer> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const started = Date.now();
    let json: unknown;
    try {
      const res = await post(input, false, combined);
      json = await res.json();
    } catch (err) {
      throw upstreamError(err, signal, timeout);
    }
    const content = (json as { choices?: { message?: { content?: unknown } }[] }).choices?.[0]?.message?.content;
    if (typeof content !== 'string') throw new AppError('UPSTREAM_ERROR', 'LLM response has no message content');
    const usage = (json as { usage?: { prompt_tokens?: number; completion_tokens?: number } }).usage;
    const result = finish(input, content);
    log.info('llm answer', {
      ms: Date.now() - started,
      promptTokens: usage?.prompt_tokens,
      completionTokens: usage?.completion_tokens,
      chunks: input.chunks.length,
      citations: result.citations.length,
      verified: result.verified,
    });
    return result;
  }

  async function* stream(input: GenerateInput, signal?: AbortSignal): AsyncGenerator<GenerateEvent> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const started = Date.now();
    let text = '';
    let finished = false;
    let deltas = 0;
    try {
      const res = await post(input, true, combined);
      if (!res.body) throw new AppError('UPSTREAM_ERROR', 'LLM stream has no body');
      for await (const data of sseData(res.body)) {
        if (data.trim() === '[DONE]') {
          finished = true;
          break;
        }
        const event = parseEvent(data);
        const choice = event.choices?.[0];
        if (typeof choice?.delta?.content === 'string' && choice.delta.content !== '') {
          text += choice.delta.content;
          deltas++;
          yield { type: 'token', text: choice.delta.content };
        }
        if (choice?.finish_reason) finished = true;
      }
    } catch (err) {
      throw upstreamError(err, signal, timeout);
    }
    if (!finished) throw new AppError('UPSTREAM_ERROR', 'LLM stream ended before it finished');
    const answer = finish(input, text);
    log.info('llm answer streamed', {
      ms: Date.now() - started,
      deltas,
      chunks: input.chunks.length,
      citations: answer.citations.length,
      verified: answer.verified,
    });
    yield { type: 'done', answer };
  }

  return { name: `openai:${options.model}`, generate, stream };
}

interface StreamEvent {
  choices?: { delta?: { content?: unknown }; finish_reason?: string | null }[];
  error?: unknown;
}

function parseEvent(data: string): StreamEvent {
  let event: StreamEvent;
  try {
    event = JSON.parse(data) as StreamEvent;
  } catch (err) {
    throw new AppError('UPSTREAM_ERROR', 'LLM stream sent malformed JSON', { cause: err });
  }
  if (event.error) throw new AppError('UPSTREAM_ERROR', 'LLM stream reported an error');
  return event;
}
