import { porterStem } from './porter-stemmer.js';

/**
 * The English analyzer shared by BM25, the extractive generator and citation matching: NFKD +
 * diacritics folded, lowercase, Unicode word split (letters and digits), stopwords dropped, Porter
 * stemmed. One analyzer everywhere, so a question term means the same thing in every scorer.
 */

// Lucene's classic English stop set plus the most frequent function words; kept compact on purpose:
// BM25's IDF already discounts common words, and over-eager lists hurt queries like "to be or not".
const STOPWORDS: ReadonlySet<string> = new Set([
  'a', 'an', 'and', 'are', 'as', 'at', 'be', 'but', 'by', 'for', 'if', 'in', 'into', 'is', 'it', 'no',
  'not', 'of', 'on', 'or', 'such', 'that', 'the', 'their', 'then', 'there', 'these', 'they', 'this',
  'to', 'was', 'will', 'with', 'been', 'being', 'do', 'does', 'did', 'from', 'has', 'have', 'had',
  'he', 'her', 'his', 'i', 'its', 'me', 'my', 'our', 'she', 'so', 'than', 'them', 'those', 'us', 'we',
  'were', 'what', 'when', 'where', 'which', 'who', 'whom', 'why', 'how', 'would', 'you', 'your', 'can',
  'could', 'should', 'may', 'might', 'also', 'about', 'any', 'all', 'some', 'each', 'other', 'yes', 's', 't',
]);

const WORD = /[\p{L}\p{N}]+/gu;
const MARKS = /\p{M}+/gu;
const NON_ASCII = /[^\u0000-\u007f]/;

export function isStopword(word: string): boolean {
  return STOPWORDS.has(word);
}

/** Lowercased, diacritics-free words in text order (no stopword removal, no stemming). */
export function words(text: string): string[] {
  // Most text is ASCII; Unicode normalisation is the costliest step, so it runs only when needed.
  const folded = (NON_ASCII.test(text) ? text.normalize('NFKD').replace(MARKS, '') : text).toLowerCase();
  return folded.match(WORD) ?? [];
}

const stemCache = new Map<string, string>();
const STEM_CACHE_LIMIT = 200_000;

function stem(word: string): string {
  let s = stemCache.get(word);
  if (s === undefined) {
    s = porterStem(word);
    // A bounded memo: corpora repeat words heavily, and an unbounded map would grow with every typo.
    if (stemCache.size >= STEM_CACHE_LIMIT) stemCache.clear();
    stemCache.set(word, s);
  }
  return s;
}

/** Index/query terms: words minus stopwords, stemmed. Duplicates are kept (term frequency matters). */
export function analyze(text: string): string[] {
  const out: string[] = [];
  for (const w of words(text)) {
    if (STOPWORDS.has(w)) continue;
    out.push(stem(w));
  }
  return out;
}

/** Distinct analyzed terms. */
export function termSet(text: string): Set<string> {
  return new Set(analyze(text));
}
