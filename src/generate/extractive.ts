import { citationFor, neutralizeMarkers, verifyAnswer } from '../domain/citations.js';
import { contentTerms, overlap, termStats } from '../domain/overlap.js';
import { splitSentences, type SentenceSpan } from '../domain/sentence-split.js';
import type { ScoredPoint } from '../index/port.js';
import type { GeneratedAnswer, GenerateEvent, GenerateInput, Generator } from './port.js';

/**
 * The no-model generator: answers with sentences quoted from the retrieved chunks, each followed by
 * its citation marker. It never writes a word of its own beyond the fixed "not found" sentence.
 */

export const NOT_FOUND_ANSWER = 'I could not find this in the indexed documents.';

export interface ExtractiveOptions {
  /** Most sentences quoted (1-3 is what reads well). Default 3. */
  maxSentences?: number;
  /** Least share of the question's IDF-weighted content words the best sentence must contain. Default 0.2. */
  minCoverage?: number;
  /** Chunks scoring below this are ignored (scores depend on the retriever, so off by default). */
  minChunkScore?: number;
  /** Extra sentences must score at least this fraction of the best one. Default 0.5. */
  relativeCutoff?: number;
  /** Boost for the retriever's order: a sentence of chunk i (0-based) gets x(1 + rankWeight/(1+i)). Default 0.3. */
  rankWeight?: number;
}

export function notFoundAnswer(): GeneratedAnswer {
  return { answer: NOT_FOUND_ANSWER, citations: [], mode: 'extractive', verified: true };
}

interface Candidate {
  chunk: number;
  sentence: number;
  span: SentenceSpan;
  terms: Set<string>;
  coverage: number;
  score: number;
}

// Sentences longer than this are rarely a crisp answer; they are discounted, not excluded.
const COMFORTABLE_CHARS = 400;
const MIN_WORDS = 4;
const MAX_REDUNDANCY = 0.6;

export function createExtractiveGenerator(options: ExtractiveOptions = {}): Generator {
  const maxSentences = Math.max(1, options.maxSentences ?? 3);
  const minCoverage = options.minCoverage ?? 0.2;
  const relativeCutoff = options.relativeCutoff ?? 0.5;
  const rankWeight = options.rankWeight ?? 0.3;

  function extract({ question, chunks }: GenerateInput): GeneratedAnswer {
    const questionTerms = contentTerms(question);
    if (questionTerms.size === 0 || chunks.length === 0) return notFoundAnswer();

    const candidates: Candidate[] = [];
    chunks.forEach((chunk, ci) => {
      if (options.minChunkScore !== undefined && !(chunk.score >= options.minChunkScore)) return;
      splitSentences(chunk.payload.text).forEach((span, si) => {
        const text = chunk.payload.text.slice(span.start, span.end);
        candidates.push({ chunk: ci, sentence: si, span, terms: contentTerms(text), coverage: 0, score: 0 });
      });
    });
    const stats = termStats(candidates.map((c) => c.terms));

    for (const c of candidates) {
      const ov = overlap(questionTerms, c.terms, stats);
      if (ov.shared === 0) continue;
      const length = c.span.end - c.span.start;
      const lengthFactor = length > COMFORTABLE_CHARS ? Math.sqrt(COMFORTABLE_CHARS / length) : 1;
      // Headings and fragments share words with the question without answering it.
      const fragmentFactor = c.terms.size < MIN_WORDS ? 0.5 : 1;
      c.coverage = ov.coverage;
      c.score = ov.coverage * (1 + rankWeight / (1 + c.chunk)) * lengthFactor * fragmentFactor;
    }
    const ranked = candidates
      .filter((c) => c.score > 0 && c.coverage >= minCoverage)
      .sort((a, b) => b.score - a.score || a.chunk - b.chunk || a.sentence - b.sentence);
    if (ranked.length === 0) return notFoundAnswer();

    const chosen: Candidate[] = [];
    for (const c of ranked) {
      if (chosen.length >= maxSentences || c.score < relativeCutoff * ranked[0].score) break;
      if (chosen.some((s) => sameSource(chunks, s, c) || jaccard(s.terms, c.terms) > MAX_REDUNDANCY)) continue;
      chosen.push(c);
    }

    const citations = chosen.map((c, i) => citationFor(i + 1, chunks[c.chunk], c.span));
    const answer = citations.map((c) => `${render(c.quote)} [${c.n}]`).join(' ');
    const check = verifyAnswer(answer, citations, chunks);
    return { answer, citations, mode: 'extractive', verified: check.ok, ...(check.ok ? {} : { problems: check.problems }) };
  }

  return {
    name: 'extractive',
    async generate(input, signal) {
      signal?.throwIfAborted();
      return extract(input);
    },
    async *stream(input, signal): AsyncIterable<GenerateEvent> {
      signal?.throwIfAborted();
      const answer = extract(input);
      yield { type: 'token', text: answer.answer };
      yield { type: 'done', answer };
    },
  };
}

/** Adjacent chunks overlap, so the same sentence can come back twice: compare absolute spans. */
function sameSource(chunks: readonly ScoredPoint[], a: Candidate, b: Candidate): boolean {
  const pa = chunks[a.chunk].payload;
  const pb = chunks[b.chunk].payload;
  if (pa.documentId !== pb.documentId) {
    return pa.text.slice(a.span.start, a.span.end) === pb.text.slice(b.span.start, b.span.end);
  }
  const aStart = pa.start + a.span.start;
  const bStart = pb.start + b.span.start;
  return aStart < pb.start + b.span.end && bStart < pa.start + a.span.end;
}

function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  let inter = 0;
  for (const t of a) if (b.has(t)) inter++;
  const union = a.size + b.size - inter;
  return union === 0 ? 0 : inter / union;
}

/**
 * How a quote reads inside the answer: whitespace runs (PDF line breaks) become one space, and the
 * source's own "[12]" reference marks become "(12)" so they cannot pose as our markers. The citation's
 * `quote` stays byte-for-byte verbatim.
 */
function render(quote: string): string {
  return neutralizeMarkers(quote.replace(/\s+/g, ' '));
}
