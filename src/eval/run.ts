import { join } from 'node:path';
import { rankDocuments, scoreRun, type RetrievalScores } from '../domain/ir-metrics.js';
import { rrf } from '../domain/fusion.js';
import { sha256Hex } from '../domain/ids.js';
import type { PipelineRef } from '../domain/ingest.js';
import type { ParseResult } from '../domain/types.js';
import type { Embedder, TokenCounter } from '../embed/port.js';
import { createEmbeddedIndex } from '../index/embedded.js';
import { createLexicalIndex } from '../index/lexical.js';
import type { ScoredPoint, VectorIndex } from '../index/port.js';
import { embedStoredBatch } from '../ingest/embed-batch.js';
import { indexStoredBatch } from '../ingest/index-batch.js';
import { prepareStagedSource } from '../ingest/prepare.js';
import { createFsBlobStore } from '../store/fs.js';
import { loadBeirSplit } from './beir.js';

export type EvalMode = 'dense' | 'bm25' | 'hybrid';

export interface EvalDeps {
  embedder: Embedder;
  counter: TokenCounter;
  parse: (bytes: Uint8Array, filename: string) => Promise<ParseResult>;
  pipeline: PipelineRef;
  /** Scratch area; the index built there is reused by later runs on the same corpus and pipeline. */
  workDir: string;
  progress?: (stage: string, done: number, total: number) => void;
}

export interface EvalResult extends RetrievalScores {
  mode: EvalMode;
  split: string;
  documents: number;
  chunks: number;
  indexSeconds: number;
  querySeconds: number;
  pipeline: string;
}

/** How many chunk hits to fetch so that about 100 distinct documents remain after grouping. */
const CHUNK_DEPTH = 300;

/** Indexes the corpus with the ingestion steps themselves, then scores the split's queries. */
export async function runBeirEval(deps: EvalDeps, dir: string, split: string, mode: EvalMode, limit = 0): Promise<EvalResult> {
  const beir = loadBeirSplit(dir, split);
  const queries = limit > 0 ? beir.queries.slice(0, limit) : beir.queries;
  const store = createFsBlobStore(join(deps.workDir, 'store'));
  const staged = await store.putFile(beir.corpusPath);
  const scratch = join(deps.workDir, 'index', `${deps.pipeline.version}-${staged.hash.slice(0, 16)}`);
  const index: VectorIndex = await createEmbeddedIndex(scratch, {});
  const pipeline = { ...deps.pipeline, collection: 'eval' };
  try {
    const t0 = performance.now();
    await index.ensureCollection(pipeline.collection, pipeline.dimension);
    const sourceKey = `beir:${sha256Hex(beir.corpusPath).slice(0, 12)}`;
    const prepared = await prepareStagedSource(
      { store, index, counter: deps.counter, parse: deps.parse },
      { hash: staged.hash, size: staged.size, name: 'corpus.jsonl', sourceKey },
      [],
      pipeline,
    );
    const total = prepared.batches.reduce((n, b) => n + b.chunks, 0);
    let done = 0;
    for (const batch of prepared.batches) {
      const { vectorsKey } = await embedStoredBatch(
        { store, embedder: deps.embedder, onPiece: () => deps.progress?.('embedding', done, total) },
        batch,
        pipeline,
      );
      await indexStoredBatch({ store, index }, batch, vectorsKey, pipeline);
      done += batch.chunks;
      deps.progress?.('embedding', done, total);
    }
    const indexSeconds = (performance.now() - t0) / 1000;

    const lexical = mode === 'dense' ? undefined : createLexicalIndex(index, pipeline.collection, { recheckHits: false });
    await lexical?.refresh();
    const docKey = (h: ScoredPoint) => ({ docKey: h.payload.externalId ?? h.payload.documentId, score: h.score });
    const run = new Map<string, string[]>();
    const t1 = performance.now();
    let qi = 0;
    for (const q of queries) {
      let dense: string[] = [];
      let sparse: string[] = [];
      if (mode !== 'bm25') {
        const vector = await deps.embedder.embedQuery(q.text);
        dense = rankDocuments((await index.search(pipeline.collection, vector, CHUNK_DEPTH)).map(docKey), 100);
      }
      if (lexical) sparse = rankDocuments((await lexical.search(q.text, CHUNK_DEPTH)).map(docKey), 100);
      const ranked = mode === 'dense' ? dense : mode === 'bm25' ? sparse : rrf([dense.map((id) => ({ id })), sparse.map((id) => ({ id }))]).map((h) => h.id).slice(0, 100);
      run.set(q.id, ranked);
      deps.progress?.('queries', ++qi, queries.length);
    }
    const querySeconds = (performance.now() - t1) / 1000;
    const qrels = new Map([...beir.qrels].filter(([qid]) => run.has(qid)));
    const chunks = await index.count(pipeline.collection);
    return {
      ...scoreRun(run, qrels),
      mode,
      split,
      documents: prepared.documents.total,
      chunks,
      indexSeconds,
      querySeconds,
      pipeline: deps.pipeline.version,
    };
  } finally {
    await index.close();
  }
}
