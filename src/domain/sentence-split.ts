import { sentenceSpans, type Span } from './sentences.js';

/** A sentence's [start, end) range inside a text. */
export type SentenceSpan = Span;

/** Sentence spans over a whole text: the chunker's splitter, so quotes and chunks agree on sentences. */
export function splitSentences(text: string): SentenceSpan[] {
  return sentenceSpans(text, 0, text.length);
}
