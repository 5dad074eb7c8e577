import { rrf } from '../domain/fusion.js';
import { rankDocuments, scoreRun, type RetrievalScores } from '../domain/ir-metrics.js';
import { createLexicalIndex } from '../index/lexical.js';
import type { VectorIndex } from '../index/port.js';
import { createSearchService, type RetrievedPoint, type SearchMode, type Viewer } from '../query/search.js';
import type { Embedder } from '../embed/port.js';
import { loadBeirSplit, type BeirSplit } from './beir.js';
import { openScratchIndex, type OpenedScratchIndex, type ScratchDeps } from './scratch.js';

/**
 * `dense`, `bm25`: one retriever. `hybrid`: the two document rankings fused per document (each
 * retriever's ranking counts once however many chunks of a document it returned). `served`: what the
 * answer API retrieves, chunk-level fusion through the search service (inside Qdrant on Qdrant).
 */
export type EvalMode = SearchMode | 'served';

export const EVAL_MODES: readonly EvalMode[] = ['dense', 'bm25', 'hybrid', 'served'];

/** Where the scored searches run: the scratch embedded index itself, or a copy of it elsewhere. */
export interface EvalTarget {
  backend: string;
  index: VectorIndex & { refresh?: () => Promise<void> };
  collection: string;
  close(): Promise<void>;
}

export type EvalBackend = (scratch: OpenedScratchIndex) => Promise<EvalTarget>;

export type EvalDeps = ScratchDeps & { backend?: EvalBackend };

export interface EvalResult extends RetrievalScores {
  mode: EvalMode;
  backend: string;
  /** The collection scored (in the backend's index). */
  collection: string;
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

const embeddedTarget: EvalBackend = async (scratch) => ({
  backend: 'embedded',
  index: scratch.index,
  collection: scratch.pipeline.collection,
  close: async () => {},
});

/**
 * Scores a collection as it is on a BEIR split: each query embedded with `embedder` (the collection's
 * own model), searched through the search service, documents ranked by their best chunk, nDCG@10,
 * Recall@100 and MRR@10 against the qrels. Eval, benchmarks and the rollout gate all score this way.
 */
export async function scoreCollection(
  target: Pick<EvalTarget, 'index' | 'collection'>,
  embedder: Embedder,
  beir: Pick<BeirSplit, 'queries' | 'qrels'>,
  mode: EvalMode,
  progress?: (stage: string, done: number, total: number) => void,
): Promise<RetrievalScores & { querySeconds: number }> {
  const { index, collection } = target;
  // An index that ranks BM25 itself (Qdrant) needs no in-memory copy of the collection.
  const lexical = mode === 'dense' || index.lexicalSearch ? undefined : createLexicalIndex(index, collection, { recheckHits: false });
  await lexical?.refresh();
  const search = createSearchService({
    index,
    embedder,
    collection: async () => collection,
    lexical: lexical ?? (async () => Promise.reject(new Error('BM25 runs inside this index'))),
    mode: mode === 'served' ? 'hybrid' : mode,
  });
  // A document ranks by its best chunk. BM25 documents rank by the raw BM25 score (the service's
  // score in bm25 mode is rank-based: same order, but ties would break differently).
  const ranked = async (text: string, use: SearchMode): Promise<string[]> => {
    const { hits } = await search.search(text, CHUNK_DEPTH, EVERYONE, { mode: use });
    return rankDocuments(documentScores(hits, (h) => (use === 'bm25' ? (h.bm25Score ?? h.score) : h.score)), DOCUMENT_DEPTH);
  };
  const run = new Map<string, string[]>();
  const t1 = performance.now();
  let qi = 0;
  for (const q of beir.queries) {
    let documents: string[];
    if (mode === 'hybrid') {
      const fused = rrf([(await ranked(q.text, 'dense')).map((id) => ({ id })), (await ranked(q.text, 'bm25')).map((id) => ({ id }))]);
      documents = fused.map((h) => h.id).slice(0, DOCUMENT_DEPTH);
    } else {
      documents = await ranked(q.text, mode === 'served' ? 'hybrid' : mode);
    }
    run.set(q.id, documents);
    progress?.('queries', ++qi, beir.queries.length);
  }
  const querySeconds = (performance.now() - t1) / 1000;
  const qrels = new Map([...beir.qrels].filter(([qid]) => run.has(qid)));
  return { ...scoreRun(run, qrels), querySeconds };
}

/** Indexes the corpus with the ingestion steps themselves, then scores the split's queries through the search service. */
export async function runBeirEval(deps: EvalDeps, dir: string, split: string, mode: EvalMode, limit = 0): Promise<EvalResult> {
  const beir = loadBeirSplit(dir, split);
  const queries = limit > 0 ? beir.queries.slice(0, limit) : beir.queries;
  const scratch = await openScratchIndex(deps, beir.corpusPath);
  try {
    const target = await (deps.backend ?? embeddedTarget)(scratch);
    try {
      const scores = await scoreCollection(target, deps.embedder, { queries, qrels: beir.qrels }, mode, deps.progress);
      return {
        ...scores,
        mode,
        backend: target.backend,
        collection: target.collection,
        split,
        documents: scratch.documents,
        chunks: await target.index.count(target.collection),
        indexSeconds: scratch.seconds,
        pipeline: deps.pipeline.version,
      };
    } finally {
      await target.close();
    }
  } finally {
    await scratch.index.close();
  }
}
