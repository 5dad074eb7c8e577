import { contentTerms, overlap, termStats, type TermStats } from './overlap.js';
import { splitSentences, type SentenceSpan } from './sentence-split.js';
import type { ChunkPayload, Citation } from './types.js';

/**
 * Citation markers and their verification. The /v1/query contract: every `[n]` in an answer resolves
 * to a citation whose quote is verbatim source text at the stated offsets. Problems are phrased with
 * numbers and ids only, never text, so they can be logged.
 */

/** A retrieved chunk as citations need it; the index's CitableChunk fits (domain imports nothing from index/). */
export interface CitableChunk {
  score: number;
  /** 0-1 relevance shown to users, when retrieval knows it. */
  relevance?: number;
  payload: ChunkPayload;
}

export interface Marker {
  /** Offset of the opening bracket in the answer. */
  index: number;
  length: number;
  numbers: number[];
}

// [1], [1, 2], [1,2], [1-3] and [1–3]; "[1][2]" is two markers. Ranges are capped so "[1-9999]" is
// not turned into thousands of numbers (it then simply fails to resolve).
const MARKER = /\[\s*\d{1,4}(?:\s*[-\u2013]\s*\d{1,4})?(?:\s*,\s*\d{1,4}(?:\s*[-\u2013]\s*\d{1,4})?)*\s*\]/g;
const MAX_RANGE = 20;

export function parseMarkers(answer: string): Marker[] {
  const out: Marker[] = [];
  for (const m of answer.matchAll(MARKER)) {
    const numbers: number[] = [];
    for (const part of m[0].slice(1, -1).split(',')) {
      const [a, b] = part.split(/[-\u2013]/).map((s) => Number.parseInt(s.trim(), 10));
      if (b === undefined) numbers.push(a);
      else if (b >= a && b - a < MAX_RANGE) for (let n = a; n <= b; n++) numbers.push(n);
      else numbers.push(a, b);
    }
    out.push({ index: m.index ?? 0, length: m[0].length, numbers: [...new Set(numbers)] });
  }
  return out;
}

/**
 * Rewrites marker-like brackets ("[12]", a source's own reference numbers) as "(12)", so quoted source
 * text inside an answer cannot be mistaken for the answer's citation markers.
 */
export function neutralizeMarkers(text: string): string {
  return text.replace(MARKER, (m) => `(${m.slice(1, -1)})`);
}

/** The claim each marker supports: the text since the previous marker (or the previous claim when empty). */
export function markerClaims(answer: string, markers: readonly Marker[]): string[] {
  const claims: string[] = [];
  let lastEnd = 0;
  let lastClaim = '';
  for (const m of markers) {
    const segment = answer.slice(lastEnd, m.index);
    const claim = /[\p{L}\p{N}]/u.test(segment) ? segment : lastClaim;
    claims.push(claim);
    lastClaim = claim;
    lastEnd = m.index + m.length;
  }
  return claims;
}

/** A citation quoting `span` (offsets within the chunk's text) of a retrieved chunk. */
export function citationFor(n: number, chunk: CitableChunk, span: SentenceSpan): Citation {
  const p = chunk.payload;
  const c: Citation = {
    n,
    documentId: p.documentId,
    title: p.title,
    source: p.source,
    start: p.start + span.start,
    end: p.start + span.end,
    quote: p.text.slice(span.start, span.end),
    score: chunk.score,
  };
  if (p.page !== undefined) c.page = p.page;
  if (chunk.relevance !== undefined) c.relevance = chunk.relevance;
  return c;
}

interface SentenceIndex {
  spans: SentenceSpan[][];
  terms: Set<string>[][];
  stats: TermStats;
}

function indexSentences(chunks: readonly CitableChunk[]): SentenceIndex {
  const spans = chunks.map((c) => splitSentences(c.payload.text));
  const terms = spans.map((list, i) => list.map((s) => contentTerms(chunks[i].payload.text.slice(s.start, s.end))));
  return { spans, terms, stats: termStats(terms.flat()) };
}

/**
 * Citations for an answer whose markers number the retrieved chunks 1..n (as the LLM prompt asks):
 * for each cited chunk, the quote is the chunk's sentence most lexically similar to the claims citing
 * it, so LLM answers carry verbatim quotes too. Citation n is chunk n. Markers outside 1..n get no
 * citation, which `verifyAnswer` then reports.
 */
export function citationsFromMarkers(answer: string, chunks: readonly CitableChunk[]): Citation[] {
  const markers = parseMarkers(answer);
  const claims = markerClaims(answer, markers);
  const claimsByChunk = new Map<number, string[]>();
  markers.forEach((m, i) => {
    for (const n of m.numbers) {
      if (n < 1 || n > chunks.length) continue;
      const list = claimsByChunk.get(n) ?? [];
      list.push(claims[i]);
      claimsByChunk.set(n, list);
    }
  });
  if (claimsByChunk.size === 0) return [];

  const index = indexSentences(chunks);
  const citations: Citation[] = [];
  for (const [n, claimTexts] of claimsByChunk) {
    const spans = index.spans[n - 1];
    if (spans.length === 0) continue;
    const claimTerms = claimTexts.map(contentTerms);
    let best = 0;
    let bestScore = -1;
    spans.forEach((_, si) => {
      const sentenceTerms = index.terms[n - 1][si];
      const score = Math.max(...claimTerms.map((q) => overlap(q, sentenceTerms, index.stats).matched));
      if (score > bestScore) {
        bestScore = score;
        best = si;
      }
    });
    citations.push(citationFor(n, chunks[n - 1], spans[best]));
  }
  return citations;
}

export interface Verification {
  ok: boolean;
  problems: string[];
}

export interface VerifyOptions {
  /**
   * Each marker's claim must share at least one content word with every quote it cites (claims
   * without content words, like "Yes", are not checked). A cheap guard against a model citing a
   * source that says something else; extractive answers pass it by construction. Default true.
   */
  requireOverlap?: boolean;
}

export function verifyAnswer(
  answer: string,
  citations: readonly Citation[],
  chunks: readonly CitableChunk[],
  options: VerifyOptions = {},
): Verification {
  const problems: string[] = [];
  const byN = new Map<number, Citation>();
  for (const c of citations) {
    if (byN.has(c.n)) problems.push(`citation ${c.n} is duplicated`);
    else byN.set(c.n, c);
  }

  const markers = parseMarkers(answer);
  const referenced = new Set<number>();
  for (const m of markers) {
    for (const n of m.numbers) {
      referenced.add(n);
      if (!byN.has(n)) {
        problems.push(
          n >= 1 && n <= chunks.length
            ? `marker [${n}] has no citation`
            : `marker [${n}] has no citation and points past the ${chunks.length} retrieved chunks`,
        );
      }
    }
  }
  for (const c of byN.values()) {
    if (!referenced.has(c.n)) problems.push(`citation ${c.n} is not referenced in the answer`);
    const problem = checkQuote(c, chunks);
    if (problem) problems.push(`citation ${c.n}: ${problem}`);
  }

  if (options.requireOverlap ?? true) {
    const claims = markerClaims(answer, markers);
    markers.forEach((m, i) => {
      const claimTerms = contentTerms(claims[i]);
      if (claimTerms.size === 0) return;
      for (const n of m.numbers) {
        const c = byN.get(n);
        if (!c) continue;
        const quoteTerms = contentTerms(c.quote);
        if (![...claimTerms].some((t) => quoteTerms.has(t))) {
          problems.push(`marker [${n}] at offset ${m.index}: claim shares no content word with its quote`);
        }
      }
    });
  }
  return { ok: problems.length === 0, problems };
}

/** Why a citation's quote is not verbatim text of a retrieved chunk at its offsets, or undefined. */
function checkQuote(c: Citation, chunks: readonly CitableChunk[]): string | undefined {
  if (c.quote.length === 0) return 'empty quote';
  if (!(c.end > c.start) || c.end - c.start !== c.quote.length) return 'offsets do not match the quote length';
  const sameDoc = chunks.filter((ch) => ch.payload.documentId === c.documentId);
  if (sameDoc.length === 0) return `document ${c.documentId} is not among the retrieved chunks`;
  const containing = sameDoc.filter((ch) => ch.payload.start <= c.start && c.end <= ch.payload.start + ch.payload.text.length);
  if (containing.length === 0) return 'offsets fall outside every retrieved chunk of the document';
  const match = containing.find((ch) => ch.payload.text.slice(c.start - ch.payload.start, c.end - ch.payload.start) === c.quote);
  if (!match) return 'quote is not the chunk text at the stated offsets';
  const p = match.payload;
  if (p.page !== c.page) return `page ${String(c.page)} differs from the chunk's page ${String(p.page)}`;
  if (p.title !== c.title || p.source !== c.source) return 'title or source differs from the chunk';
  return undefined;
}
