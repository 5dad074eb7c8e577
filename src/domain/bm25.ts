import { analyze } from './tokenize-lexical.js';

/**
 * In-memory Okapi BM25 over an inverted index. Pure: no I/O, no clocks. Document ids are opaque
 * strings; internally each gets a dense number so postings and accumulators are plain arrays.
 *
 * Filters (ACLs) are applied while scoring: `accept` is asked about a document before it can enter the
 * candidate set, so top-k is taken over accepted documents only and never comes back short because
 * rejected documents crowded it.
 */

export interface Bm25Params {
  /** Term-frequency saturation. Anserini/BEIR default 0.9. */
  k1: number;
  /** Length normalisation. Anserini/BEIR default 0.4. */
  b: number;
}

export const DEFAULT_BM25: Bm25Params = { k1: 0.9, b: 0.4 };

export interface Bm25Hit {
  id: string;
  score: number;
}

/**
 * Decides whether a document may be returned. `key` is the document's filter key (the one given to
 * `add`, else its id); the answer is cached per key for the duration of one query, so a check that
 * depends only on the key (e.g. a document's ACL) runs once per key, not once per chunk.
 */
export type Bm25Accept = (id: string, key: string) => boolean;

export interface Bm25Index {
  readonly size: number;
  /** Adds a document, replacing any previous one with the same id. */
  add(id: string, text: string, filterKey?: string): void;
  /** Returns false when the id was not indexed. */
  remove(id: string): boolean;
  has(id: string): boolean;
  search(query: string, k: number, accept?: Bm25Accept): Bm25Hit[];
  /** Search with pre-analyzed query terms (duplicates count as query term frequency). */
  searchTerms(terms: readonly string[], k: number, accept?: Bm25Accept): Bm25Hit[];
  clear(): void;
}

export interface Bm25Options extends Partial<Bm25Params> {
  /** Defaults to the shared English analyzer. */
  analyzer?: (text: string) => string[];
}

interface Postings {
  docs: number[];
  tfs: number[];
  /** Live documents containing the term (postings of removed documents linger until compaction). */
  df: number;
}

export function createBm25Index(options: Bm25Options = {}): Bm25Index {
  const k1 = options.k1 ?? DEFAULT_BM25.k1;
  const b = options.b ?? DEFAULT_BM25.b;
  const analyzer = options.analyzer ?? analyze;
  if (!(k1 >= 0) || !(b >= 0 && b <= 1)) throw new RangeError('BM25 needs k1 >= 0 and 0 <= b <= 1');

  let postings = new Map<string, Postings>();
  const numberOf = new Map<string, number>();
  let ids: (string | undefined)[] = [];
  let keys: string[] = [];
  let lengths: number[] = [];
  /** Distinct terms per document, needed to keep df exact on removal. */
  let docTerms: (string[] | undefined)[] = [];
  let live = 0;
  let dead = 0;
  let totalLength = 0;

  function compact(): void {
    const remap = new Int32Array(ids.length).fill(-1);
    const nextIds: (string | undefined)[] = [];
    const nextKeys: string[] = [];
    const nextLengths: number[] = [];
    const nextTerms: (string[] | undefined)[] = [];
    for (let d = 0; d < ids.length; d++) {
      const id = ids[d];
      if (id === undefined) continue;
      remap[d] = nextIds.length;
      numberOf.set(id, nextIds.length);
      nextIds.push(id);
      nextKeys.push(keys[d]);
      nextLengths.push(lengths[d]);
      nextTerms.push(docTerms[d]);
    }
    const nextPostings = new Map<string, Postings>();
    for (const [term, p] of postings) {
      if (p.df === 0) continue;
      const docs: number[] = [];
      const tfs: number[] = [];
      for (let i = 0; i < p.docs.length; i++) {
        const nd = remap[p.docs[i]];
        if (nd < 0) continue;
        docs.push(nd);
        tfs.push(p.tfs[i]);
      }
      nextPostings.set(term, { docs, tfs, df: p.df });
    }
    postings = nextPostings;
    ids = nextIds;
    keys = nextKeys;
    lengths = nextLengths;
    docTerms = nextTerms;
    dead = 0;
  }

  function remove(id: string): boolean {
    const d = numberOf.get(id);
    if (d === undefined) return false;
    numberOf.delete(id);
    for (const term of docTerms[d] ?? []) {
      const p = postings.get(term);
      if (p) p.df--;
    }
    totalLength -= lengths[d];
    ids[d] = undefined;
    docTerms[d] = undefined;
    live--;
    dead++;
    // Removed documents are skipped while scoring; compacting once they are a quarter of the slots
    // keeps postings short without paying a rebuild per removal.
    if (dead > 64 && dead * 4 > ids.length) compact();
    return true;
  }

  function add(id: string, text: string, filterKey?: string): void {
    if (numberOf.has(id)) remove(id);
    const terms = analyzer(text);
    const tf = new Map<string, number>();
    for (const t of terms) tf.set(t, (tf.get(t) ?? 0) + 1);
    const d = ids.length;
    ids.push(id);
    keys.push(filterKey ?? id);
    lengths.push(terms.length);
    docTerms.push([...tf.keys()]);
    numberOf.set(id, d);
    for (const [term, n] of tf) {
      let p = postings.get(term);
      if (!p) {
        p = { docs: [], tfs: [], df: 0 };
        postings.set(term, p);
      }
      p.docs.push(d);
      p.tfs.push(n);
      p.df++;
    }
    totalLength += terms.length;
    live++;
  }

  function searchTerms(terms: readonly string[], k: number, accept?: Bm25Accept): Bm25Hit[] {
    if (k <= 0 || live === 0 || terms.length === 0) return [];
    const qtf = new Map<string, number>();
    for (const t of terms) qtf.set(t, (qtf.get(t) ?? 0) + 1);

    const avgdl = totalLength / live || 1;
    const scores = new Float64Array(ids.length);
    // 0 = not seen yet, 1 = candidate, 2 = rejected by the filter or removed.
    const state = new Uint8Array(ids.length);
    const candidates: number[] = [];
    const verdicts = new Map<string, boolean>();

    for (const [term, weight] of qtf) {
      const p = postings.get(term);
      if (!p || p.df === 0) continue;
      // Lucene's BM25 IDF: always positive, so a term in most documents still helps a little.
      const idf = Math.log(1 + (live - p.df + 0.5) / (p.df + 0.5));
      const { docs, tfs } = p;
      for (let i = 0; i < docs.length; i++) {
        const d = docs[i];
        let s = state[d];
        if (s === 0) {
          const id = ids[d];
          if (id === undefined) s = 2;
          else if (accept) {
            const key = keys[d];
            let ok = verdicts.get(key);
            if (ok === undefined) {
              ok = accept(id, key);
              verdicts.set(key, ok);
            }
            s = ok ? 1 : 2;
          } else s = 1;
          state[d] = s;
          if (s === 1) candidates.push(d);
        }
        if (s !== 1) continue;
        const f = tfs[i];
        const norm = k1 * (1 - b + (b * lengths[d]) / avgdl);
        scores[d] += (weight * idf * f * (k1 + 1)) / (f + norm);
      }
    }
    return topK(candidates, scores, k).map((d) => ({ id: ids[d] as string, score: scores[d] }));
  }

  return {
    get size() {
      return live;
    },
    add,
    remove,
    has: (id) => numberOf.has(id),
    search: (query, k, accept) => searchTerms(analyzer(query), k, accept),
    searchTerms,
    clear() {
      postings = new Map();
      numberOf.clear();
      ids = [];
      keys = [];
      lengths = [];
      docTerms = [];
      live = 0;
      dead = 0;
      totalLength = 0;
    },
  };
}

/** Higher score first; ties by lower document number (insertion order), so results are stable. */
function better(a: number, b: number, scores: Float64Array): boolean {
  return scores[a] > scores[b] || (scores[a] === scores[b] && a < b);
}

/** Top k of the candidates with a size-k min-heap: O(n log k), no full sort of every match. */
function topK(candidates: number[], scores: Float64Array, k: number): number[] {
  const heap: number[] = [];
  const worse = (i: number, j: number) => better(heap[j], heap[i], scores);
  const siftUp = (i: number) => {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!worse(i, parent)) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  };
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && worse(l, m)) m = l;
      if (r < heap.length && worse(r, m)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  for (const d of candidates) {
    if (heap.length < k) {
      heap.push(d);
      siftUp(heap.length - 1);
    } else if (better(d, heap[0], scores)) {
      heap[0] = d;
      siftDown(0);
    }
  }
  return heap.sort((a, b) => (better(a, b, scores) ? -1 : 1));
}
