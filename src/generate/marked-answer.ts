import { citationsFromMarkers, verifyAnswer } from '../domain/citations.js';
import type { GeneratedAnswer, GenerateInput } from './port.js';

/**
 * A model's answer text with [n] markers, turned into verbatim citations of chunk n and checked. The
 * answerer re-checks and decides what to do with an answer that fails; this only reports.
 */
export function answerFromMarkers(input: GenerateInput, answer: string): GeneratedAnswer {
  const citations = citationsFromMarkers(answer, input.chunks);
  const check = verifyAnswer(answer, citations, input.chunks);
  // An answer without a single citation passes verifyAnswer vacuously but proves nothing.
  const problems = citations.length === 0 ? [...check.problems, 'answer has no citations'] : check.problems;
  const verified = problems.length === 0;
  return { answer, citations, mode: 'llm', verified, ...(verified ? {} : { problems }) };
}
