import { citationFor, neutralizeMarkers, verifyAnswer } from '../domain/citations.js';
import { contentTerms, overlap, termStats } from '../domain/overlap.js';
import { answerKind, holdsAnswerKind } from '../domain/question-type.js';
import { trimSpan } from '../domain/sentences.js';
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
  /**
   * Least share of the question's IDF-weighted content words the best sentence must contain, else "not
   * found". Default 0.22: on SQuAD (bench/squad.ts) it turns 22 more off-corpus questions of 100 into
   * "not found" than 0.2 with the names rule, for 1.6 points of answers.
   */
  minCoverage?: number;
  /** Chunks scoring below this are ignored (scores depend on the retriever, so off by default). */
  minChunkScore?: number;
  /** Extra sentences must score at least this fraction of the best one. Default 0.5. */
  relativeCutoff?: number;
  /** Boost for the retriever's order: a sentence of chunk i (0-based) gets x(1 + rankWeight/(1+i)). Default 0.3. */
  rankWeight?: number;
  /** Boost for a sentence holding the kind of answer asked for (a duration for "how long", ...). Default 1.4. */
  kindBoost?: number;
  /** A sentence holding the kind of answer asked for leads if it scores at least this share of the best. Default 0.6. */
  leadShare?: number;
  /**
   * "Not found" when the best retrieved chunk's relevance (domain/relevance.ts: the chance, fitted per
   * model, that a passage is the one answering) is below this; chunks without a relevance are not
   * judged by it. Default 0.015: on SQuAD it turns 2.4 % more off-corpus questions into "not found"
   * for 1 point of answers (0.02: 6 % for 2 points; `npm run bench:squad -- --extractive '{"minRelevance":0.02}'`).
   */
  minRelevance?: number;
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
  /** Holds the kind of answer the question asks for (a duration, a number, ...). */
  holdsKind: boolean;
}

/** A line of a table or list: long "sentences" made of many lines are quoted line by line. */
const MIN_TABLE_LINES = 3;

/**
 * The spans a sentence is quoted as: itself, or, when it is a long run of lines (a table, a list, a
 * form), each of its lines, so the quote is the row that answers rather than the whole table. A short
 * heading line glued to the front of a sentence (PDF text has no blank line after headings) is left
 * out. Spans stay inside the sentence, so quotes stay verbatim.
 */
function quotableSpans(text: string, span: SentenceSpan): SentenceSpan[] {
  const body = text.slice(span.start, span.end);
  const lines: SentenceSpan[] = [];
  let from = span.start;
  for (let i = body.indexOf('\n'); i !== -1; i = body.indexOf('\n', i + 1)) {
    const at = span.start + i;
    if (text.slice(from, at).trim()) lines.push({ start: from, end: at });
    from = at + 1;
  }
  if (text.slice(from, span.end).trim()) lines.push({ start: from, end: span.end });
  const trimmed = lines.map((l) => trimSpan(text, l.start, l.end)!);
  if (span.end - span.start > COMFORTABLE_CHARS && trimmed.length >= MIN_TABLE_LINES) return trimmed;
  if (trimmed.length >= 2 && isHeadingLine(text.slice(trimmed[0].start, trimmed[0].end)) && /^\p{Lu}/u.test(text[trimmed[1].start] ?? '')) {
    return [{ start: trimmed[1].start, end: span.end }];
  }
  return [span];
}

/** A short line with no sentence punctuation at its end: a heading or a label. */
function isHeadingLine(line: string): boolean {
  const words = line.trim().split(/\s+/).length;
  return words <= 8 && !/[.!?,;:]$/.test(line.trim());
}

// Sentences longer than this are rarely a crisp answer; they are discounted, not excluded.
const COMFORTABLE_CHARS = 400;
const MIN_WORDS = 4;
const MAX_REDUNDANCY = 0.6;

export function createExtractiveGenerator(options: ExtractiveOptions = {}): Generator {
  const maxSentences = Math.max(1, options.maxSentences ?? 3);
  const minCoverage = options.minCoverage ?? 0.22;
  const minRelevance = options.minRelevance ?? 0.015;
  const relativeCutoff = options.relativeCutoff ?? 0.5;
  const rankWeight = options.rankWeight ?? 0.3;
  const kindBoost = options.kindBoost ?? 1.4;
  const leadShare = options.leadShare ?? 0.6;

  function extract({ question, chunks }: GenerateInput): GeneratedAnswer {
    const questionTerms = contentTerms(question);
    // "how long", "how many", "how much": the second word is the question's form, not its topic
    // (the kind of answer, below, takes its place).
    for (const m of question.matchAll(/\bhow\s+(\p{L}+)/giu)) for (const t of contentTerms(m[1])) questionTerms.delete(t);
    if (questionTerms.size === 0 || chunks.length === 0) return notFoundAnswer();
    const kind = answerKind(question);

    const candidates: Candidate[] = [];
    chunks.forEach((chunk, ci) => {
      if (options.minChunkScore !== undefined && !(chunk.score >= options.minChunkScore)) return;
      let si = 0;
      for (const sentence of splitSentences(chunk.payload.text)) {
        for (const span of quotableSpans(chunk.payload.text, sentence)) {
          const text = chunk.payload.text.slice(span.start, span.end);
          candidates.push({ chunk: ci, sentence: si++, span, terms: contentTerms(text), coverage: 0, score: 0, holdsKind: holdsAnswerKind(kind, text, question) });
        }
      }
    });
    const stats = termStats(candidates.map((c) => c.terms));

    for (const c of candidates) {
      const ov = overlap(questionTerms, c.terms, stats);
      if (ov.shared === 0) continue;
      const length = c.span.end - c.span.start;
      const lengthFactor = length > COMFORTABLE_CHARS ? Math.sqrt(COMFORTABLE_CHARS / length) : 1;
      // Headings and fragments share words with the question without answering it.
      const fragmentFactor = c.terms.size < MIN_WORDS ? 0.5 : 1;
      const kindFactor = c.holdsKind ? kindBoost : 1;
      c.coverage = ov.coverage;
      c.score = ov.coverage * (1 + rankWeight / (1 + c.chunk)) * lengthFactor * fragmentFactor * kindFactor;
    }
    const relevance = relevanceOf(question, questionTerms, candidates, stats, chunks);
    // Off-topic: the question names something (a place, a person, a number) no retrieved chunk mentions.
    if (relevance.namesFound === 0 || (relevance.best !== undefined && relevance.best < minRelevance)) {
      return { ...notFoundAnswer(), relevance };
    }
    const ranked = candidates
      .filter((c) => c.score > 0 && c.coverage >= minCoverage)
      .sort((a, b) => b.score - a.score || a.chunk - b.chunk || a.sentence - b.sentence);
    if (ranked.length === 0) return { ...notFoundAnswer(), relevance };
    // Answer first: when the question asks for a duration, number, date, name or place, the best
    // sentence that states one leads, if it matches the question nearly as well as the best overall.
    if (kind !== 'other' && !ranked[0].holdsKind) {
      const lead = ranked.findIndex((c) => c.score >= leadShare * ranked[0].score && c.holdsKind);
      if (lead > 0) ranked.unshift(...ranked.splice(lead, 1));
    }

    const chosen: Candidate[] = [];
    for (const c of ranked) {
      if (chosen.length >= maxSentences || c.score < relativeCutoff * ranked[0].score) break;
      if (chosen.some((s) => sameSource(chunks, s, c) || jaccard(s.terms, c.terms) > MAX_REDUNDANCY)) continue;
      chosen.push(c);
    }

    const citations = chosen.map((c, i) => citationFor(i + 1, chunks[c.chunk], c.span));
    const answer = citations.map((c) => `${render(c.quote)} [${c.n}]`).join(' ');
    const check = verifyAnswer(answer, citations, chunks);
    return { answer, citations, mode: 'extractive', verified: check.ok, relevance, ...(check.ok ? {} : { problems: check.problems }) };
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

/**
 * How well the retrieved chunks as a whole match the question: the share of its IDF-weighted content
 * words found anywhere in them, the best single sentence's share (scored candidates carry it), and the
 * best dense similarity.
 */
function relevanceOf(question: string, questionTerms: ReadonlySet<string>, candidates: readonly Candidate[], stats: ReturnType<typeof termStats>, chunks: readonly ScoredPoint[]) {
  const union = new Set<string>();
  for (const c of candidates) for (const t of c.terms) union.add(t);
  const names = namedTerms(question);
  const best = candidates.reduce((m, c) => Math.max(m, c.coverage), 0);
  const dense = chunks.map((c) => (c as { denseScore?: number }).denseScore).filter((d): d is number => typeof d === 'number');
  const shown = chunks.map((c) => (c as { relevance?: number }).relevance).filter((r): r is number => typeof r === 'number');
  return {
    unionCoverage: overlap(questionTerms, union, stats).coverage,
    coverage: best,
    // Of the names and numbers the question mentions (if any), how many the chunks mention at all.
    ...(names.size > 0 ? { namesFound: [...names].filter((t) => union.has(t)).length } : {}),
    ...(dense.length > 0 ? { dense: Math.max(...dense) } : {}),
    ...(shown.length > 0 ? { best: Math.max(...shown) } : {}),
  };
}

/**
 * Terms of the names and numbers a question mentions: words that start with a capital (not the
 * question's first word) or a digit. A question about "Mongolia" over documents that never say it is
 * off-topic, however well "capital" matches.
 */
function namedTerms(question: string): Set<string> {
  const out = new Set<string>();
  const words = question.match(/[\p{L}\p{N}][\p{L}\p{N}'’.-]*/gu) ?? [];
  words.forEach((w, i) => {
    if (i === 0 || !/^[\p{Lu}\p{N}]/u.test(w)) return;
    for (const t of contentTerms(w)) out.add(t);
  });
  return out;
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
