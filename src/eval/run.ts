import { rrf } from '../domain/fusion.js';
import { rankDocuments, scoreRun, type RetrievalScores } from '../domain/ir-metrics.js';
import { createLexicalIndex } from '../index/lexical.js';
import { createSearchService, type RetrievedPoint, type SearchMode, type Viewer } from '../query/search.js';
import { loadBeirSplit } from './beir.js';
import { openScratchIndex, type ScratchDeps } from './scratch.js';

export type EvalMode = SearchMode;

export type EvalDeps = ScratchDeps;

export interface EvalResult extends RetrievalScores {
  mode: EvalMode;
  split: string;
  documents: number;
  chunks: number;
  indexSeconds: number;
  querySeconds: number;
  pipeline: string;
}

/** How many chunk hits each retriever returns so that about 100 distinct documents remain after grouping. */
const CHUNK_DEPTH = 300;
/** Documents ranked per query: Recall@100 needs 100. */
const DOCUMENT_DEPTH = 100;

const EVERYONE: Viewer = { groups: [], unrestricted: true };

/** BEIR judges documents: a corpus record's id, which a chunk carries as its external id. */
function documentScores(hits: RetrievedPoint[], score: (h: RetrievedPoint) => number): { docKey: string; score: number }[] {
  return hits.map((h) => ({ docKey: h.payload.externalId ?? h.payload.documentId, score: score(h) }));
}

/** Indexes the corpus with the ingestion steps themselves, then scores the split's queries through the search service. */
export async function runBeirEval(deps: EvalDeps, dir: string, split: string, mode: EvalMode, limit = 0): Promise<EvalResult> {
  const beir = loadBeirSplit(dir, split);
  const queries = limit > 0 ? beir.queries.slice(0, limit) : beir.queries;
  const scratch = await openScratchIndex(deps, beir.corpusPath);
  const { index, pipeline } = scratch;
  try {
    const lexical = mode === 'dense' ? undefined : createLexicalIndex(index, pipeline.collection, { recheckHits: false });
    await lexical?.refresh();
    const search = createSearchService({ index, embedder: deps.embedder, collection: async () => pipeline.collection, lexical, mode });
    // A document ranks by its best chunk. BM25 documents rank by the raw BM25 score (the service's
    // score in bm25 mode is rank-based: same order, but ties would break differently).
    const ranked = async (text: string, use: 'dense' | 'bm25'): Promise<string[]> => {
      const { hits } = await search.search(text, CHUNK_DEPTH, EVERYONE, { mode: use });
      return rankDocuments(documentScores(hits, (h) => (use === 'bm25' ? (h.bm25Score ?? h.score) : h.score)), DOCUMENT_DEPTH);
    };
    const run = new Map<string, string[]>();
    const t1 = performance.now();
    let qi = 0;
    for (const q of queries) {
      let documents: string[];
      if (mode === 'hybrid') {
        // Fused per document, not per chunk: each retriever's document ranking counts once, however
        // many chunks of a document it returned.
        const fused = rrf([(await ranked(q.text, 'dense')).map((id) => ({ id })), (await ranked(q.text, 'bm25')).map((id) => ({ id }))]);
        documents = fused.map((h) => h.id).slice(0, DOCUMENT_DEPTH);
      } else {
        documents = await ranked(q.text, mode);
      }
      run.set(q.id, documents);
      deps.progress?.('queries', ++qi, queries.length);
    }
    const querySeconds = (performance.now() - t1) / 1000;
    const qrels = new Map([...beir.qrels].filter(([qid]) => run.has(qid)));
    return {
      ...scoreRun(run, qrels),
      mode,
      split,
      documents: scratch.documents,
      chunks: await index.count(pipeline.collection),
      indexSeconds: scratch.seconds,
      querySeconds,
      pipeline: deps.pipeline.version,
    };
  } finally {
    await index.close();
  }
}
