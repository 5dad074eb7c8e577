import type { Citation } from '../domain/types.js';
import type { ScoredPoint } from '../index/port.js';

/**
 * The Generator port: an OpenAI-compatible chat model or the extractive (no-model) generator, same
 * contract. Answers only ever reach users through the answerer (answer.ts), which verifies them.
 */
export interface GenerateInput {
  question: string;
  /** Retrieved chunks, best first; prompts and markers number them 1..n in this order. */
  chunks: ScoredPoint[];
}

export type FallbackReason = 'upstream_error' | 'verification_failed' | 'no_citations' | 'extractive_failed';

export interface GeneratedAnswer {
  answer: string;
  citations: Citation[];
  mode: 'llm' | 'extractive';
  /** True once `verifyAnswer` passed on this exact answer and these citations. */
  verified: boolean;
  /** Set when the answer is the extractive fallback for a configured model that failed. */
  fallbackReason?: FallbackReason;
  /** Verification problems (numbers and ids only; safe to log). */
  problems?: string[];
  /** How well the retrieved chunks match the question (extractive answers; diagnostics, never shown to users). */
  relevance?: { unionCoverage: number; coverage: number; dense?: number; best?: number; namesFound?: number };
}

export type GenerateEvent = { type: 'token'; text: string } | { type: 'done'; answer: GeneratedAnswer };

export interface Generator {
  readonly name: string;
  generate(input: GenerateInput, signal?: AbortSignal): Promise<GeneratedAnswer>;
  /** Streams text as it is produced, then one `done` with the full (not yet trusted) answer. */
  stream?(input: GenerateInput, signal?: AbortSignal): AsyncIterable<GenerateEvent>;
}

/**
 * What the answerer streams to clients. `token` text is provisional and carries no citations. If the
 * model's finished answer fails verification, `replace` tells the client to discard every token shown
 * so far and show `answer` (the extractive fallback) instead. Every stream ends with exactly one
 * `done` whose answer is verified; citations are only ever sent in `replace` and `done`.
 */
export type AnswerEvent =
  | { type: 'token'; text: string }
  | { type: 'replace'; answer: GeneratedAnswer }
  | { type: 'done'; answer: GeneratedAnswer };
