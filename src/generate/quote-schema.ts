import { z } from 'zod';
import { neutralizeMarkers } from '../domain/citations.js';
import { splitSentences } from '../domain/sentence-split.js';
import { AppError } from '../errors.js';
import { NOT_FOUND_ANSWER } from './extractive.js';
import { answerFromMarkers } from './marked-answer.js';
import type { GeneratedAnswer, GenerateInput } from './port.js';

/**
 * The constrained answer format for small local models: a list of (source number, sentence) picks,
 * where the JSON schema lets source n be paired only with sentences of chunk n. A 135M model
 * paraphrases badly and cites loosely; confining it to verbatim sentences of the source it names
 * makes every claim checkable, so verifyAnswer judges the model's choice rather than its prose.
 */

/** Sentences longer than this are offered cut at a word boundary: the model must emit every token it quotes. */
const MAX_QUOTE_CHARS = 300;
/** Picks per answer: the first is usually the model's best; more mostly add noise and tokens. */
export const MAX_PICKS = 2;

/** The sentences of a chunk the model may quote, whitespace collapsed, each at most MAX_QUOTE_CHARS. */
export function quotableSentences(text: string): string[] {
  const out = new Set<string>();
  for (const span of splitSentences(text)) {
    let s = text.slice(span.start, span.end).replace(/\s+/g, ' ').trim();
    if (!/[\p{L}\p{N}]/u.test(s)) continue;
    if (s.length > MAX_QUOTE_CHARS) {
      const cut = s.lastIndexOf(' ', MAX_QUOTE_CHARS);
      s = s.slice(0, cut > MAX_QUOTE_CHARS / 2 ? cut : MAX_QUOTE_CHARS);
    }
    out.add(s);
  }
  return [...out];
}

/** A JSON schema in the subset node-llama-cpp turns into a grammar (object, array, oneOf, const, enum). */
export type AnswerSchema = Record<string, unknown>;

/**
 * `{"answer": [{"source": n, "quote": "<a sentence of chunk n>"}, ...]}`, at most MAX_PICKS items; an
 * empty list is the model saying no source answers. Undefined when no chunk has a quotable sentence.
 */
export function quoteAnswerSchema(chunks: GenerateInput['chunks']): AnswerSchema | undefined {
  const branches = chunks.flatMap((c, i) => {
    const sentences = quotableSentences(c.payload.text);
    return sentences.length === 0
      ? []
      : [{ type: 'object', properties: { source: { const: i + 1 }, quote: { enum: sentences } } }];
  });
  if (branches.length === 0) return undefined;
  return {
    type: 'object',
    properties: { answer: { type: 'array', maxItems: MAX_PICKS, items: { oneOf: branches } } },
  };
}

export const QUOTE_SYSTEM_PROMPT = [
  'You answer questions by quoting the numbered sources you are given.',
  'Reply in JSON: "answer" lists the number of a source and the exact sentence of that source that answers the question, best first.',
  'Only if no source is about the question at all, reply with an empty "answer" list.',
].join(' ');

const QuoteAnswer = z.object({
  answer: z.array(z.object({ source: z.number().int(), quote: z.string() })),
});
export type QuoteAnswer = z.infer<typeof QuoteAnswer>;

/** The model's raw text as a QuoteAnswer; anything else (a truncated or malformed reply) is an upstream error. */
export function parseQuoteAnswer(text: string): QuoteAnswer {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AppError('UPSTREAM_ERROR', 'local model reply is not JSON (cut off at the token limit?)', { cause: err });
  }
  const parsed = QuoteAnswer.safeParse(json);
  if (!parsed.success) throw new AppError('UPSTREAM_ERROR', 'local model reply does not follow the answer schema');
  return parsed.data;
}

/**
 * Renders picks as srag's answer text, each quote followed by its [n] marker, and cites them the way
 * every model answer is cited (answerFromMarkers). Brackets inside quotes are neutralized so a
 * source's own "[12]" cannot pose as a marker. No picks: the not-found text, with no citations.
 */
export function renderQuoteAnswer(output: QuoteAnswer, input: GenerateInput): GeneratedAnswer {
  const parts = output.answer
    .map((pick) => ({ text: neutralizeMarkers(pick.quote).trim(), source: pick.source }))
    .filter((p) => p.text !== '')
    .map((p) => `${p.text} [${p.source}]`);
  if (parts.length === 0) {
    return { answer: NOT_FOUND_ANSWER, citations: [], mode: 'llm', verified: false, problems: ['model found no answer'] };
  }
  return answerFromMarkers(input, parts.join(' '));
}
