import { DEFAULT_BM25, type Bm25Params } from './bm25.js';
import { analyze } from './tokenize-lexical.js';

/**
 * BM25 as sparse vectors, for an engine that stores them and applies IDF itself (Qdrant's
 * `modifier: "idf"`). Pure: no I/O.
 *
 * A document vector holds, per distinct analyzed term, the BM25 term-frequency part
 *   tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / AVG_DOC_TERMS))
 * and a query vector holds 1.0 per distinct query term; the engine's dot product, with each query
 * term weighted by its IDF, is then the Okapi BM25 score of the document.
 *
 * Length normalisation uses a fixed average document length, not the collection's: the engine cannot
 * recompute stored vectors when the collection's average moves, and a running average would make a
 * document's weights depend on when it was written. Chunks are bounded by the chunker's token budget
 * (256 model tokens by default, about 190 words, about 120 analyzed terms once stopwords go), so their
 * lengths cluster near the constant and the approximation stays close to exact BM25.
 *
 * Term ids are the 32-bit FNV-1a hash of the stemmed term's UTF-8 bytes: stable across processes and
 * versions, no vocabulary to store. Two terms that collide share one id (their frequencies add up),
 * which at 2^32 ids is rare enough to ignore for ranking.
 */

/** Analyzed terms of a typical chunk; see the module comment. */
export const AVG_DOC_TERMS = 128;

export interface SparseVector {
  /** Unique, ascending. */
  indices: number[];
  values: number[];
}

export interface SparseBm25Options extends Partial<Bm25Params> {
  /** Defaults to AVG_DOC_TERMS. */
  avgDocTerms?: number;
  /** Defaults to the shared English analyzer (the one the in-memory BM25 uses). */
  analyzer?: (text: string) => string[];
}

const encoder = new TextEncoder();

/** 32-bit FNV-1a of the term's UTF-8 bytes, as an unsigned integer. */
export function termId(term: string): number {
  let h = 0x811c9dc5;
  for (const byte of encoder.encode(term)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function counts(terms: readonly string[]): Map<number, number> {
  const tf = new Map<number, number>();
  for (const t of terms) {
    const id = termId(t);
    tf.set(id, (tf.get(id) ?? 0) + 1);
  }
  return tf;
}

function sorted(entries: Iterable<[number, number]>): SparseVector {
  const pairs = [...entries].sort((a, b) => a[0] - b[0]);
  return { indices: pairs.map((p) => p[0]), values: pairs.map((p) => p[1]) };
}

/** The document side: BM25 term-frequency saturation with length normalisation, per term id. */
export function encodeDocument(text: string, options: SparseBm25Options = {}): SparseVector {
  const k1 = options.k1 ?? DEFAULT_BM25.k1;
  const b = options.b ?? DEFAULT_BM25.b;
  const avg = options.avgDocTerms ?? AVG_DOC_TERMS;
  if (!(k1 >= 0) || !(b >= 0 && b <= 1) || !(avg > 0)) throw new RangeError('sparse BM25 needs k1 >= 0, 0 <= b <= 1 and avgDocTerms > 0');
  const terms = (options.analyzer ?? analyze)(text);
  const norm = k1 * (1 - b + (b * terms.length) / avg);
  const out: [number, number][] = [];
  for (const [id, tf] of counts(terms)) out.push([id, (tf * (k1 + 1)) / (tf + norm)]);
  return sorted(out);
}

/** The query side: 1.0 per distinct term id (the engine supplies IDF). Empty when no term survives analysis. */
export function encodeQuery(text: string, options: Pick<SparseBm25Options, 'analyzer'> = {}): SparseVector {
  const ids = new Set((options.analyzer ?? analyze)(text).map(termId));
  return sorted([...ids].map((id): [number, number] => [id, 1]));
}

/** The text srag indexes for a chunk, the same as the in-memory BM25 (title, then chunk text). */
export function chunkLexicalText(payload: { title?: string; text?: string }): string {
  return `${payload.title ?? ''}\n${payload.text ?? ''}`;
}
