import type { GateScores } from '../domain/rollout.js';
import type { PipelineRef } from '../domain/ingest.js';
import type { Embedder } from '../embed/port.js';
import { AppError } from '../errors.js';
import { readFileSync } from 'node:fs';
import { loadBeirSplit, type BeirSplit } from '../eval/beir.js';
import { scoreCollection } from '../eval/run.js';
import type { VectorIndex } from '../index/port.js';
import type { Logger } from '../obs/logger.js';
import { createSearchService } from '../query/search.js';
import { createLexicalIndex } from '../index/lexical.js';
import { listCatalog } from '../store/catalog.js';
import { markBuilding, readPipeline, recordPipeline, type PipelineRecord } from '../store/pipelines.js';
import type { BlobStore } from '../store/port.js';

/**
 * The rollout gate's eval set, over documents in the knowledge base: a BEIR-layout folder (`dir`,
 * `split`: queries and qrels; its corpus ingested), or a golden questions file (`file`, JSON lines
 * `{"question": "...", "documents": ["<corpus id or document id>", ...]}`).
 */
export interface GateEvalSet {
  dir?: string;
  split?: string;
  file?: string;
  /** First N queries only (0: all). */
  limit?: number;
}

/** The queries and judgements of an eval set, whichever form it takes. */
export function loadGateSet(evalSet: GateEvalSet): Pick<BeirSplit, 'queries' | 'qrels'> {
  let set: Pick<BeirSplit, 'queries' | 'qrels'>;
  if (evalSet.file) {
    const queries: BeirSplit['queries'] = [];
    const qrels: BeirSplit['qrels'] = new Map();
    readFileSync(evalSet.file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (!line.trim()) return;
        const g = JSON.parse(line) as { question?: unknown; documents?: unknown };
        if (typeof g.question !== 'string' || !Array.isArray(g.documents) || g.documents.length === 0) {
          throw new AppError('INVALID_INPUT', `${evalSet.file} line ${i + 1}: expected {"question": "...", "documents": ["..."]}`);
        }
        const id = `g${i + 1}`;
        queries.push({ id, text: g.question });
        qrels.set(id, new Map(g.documents.map((d) => [String(d), 1])));
      });
    set = { queries, qrels };
  } else if (evalSet.dir) {
    set = loadBeirSplit(evalSet.dir, evalSet.split ?? 'test');
  } else {
    throw new AppError('INVALID_INPUT', 'the gate needs an eval set: a BEIR folder or a golden questions file');
  }
  return evalSet.limit ? { queries: set.queries.slice(0, evalSet.limit), qrels: set.qrels } : set;
}

export interface RolloutDeps {
  store: BlobStore;
  index: VectorIndex;
  /** The embedder of a pipeline's own model (loaded once per pipeline). */
  embedderFor: (pipeline: PipelineRef) => Promise<Embedder>;
  logger: Logger;
}

/** The candidate's pipeline is recorded and its collection created and marked as being built: new ingests write there too from now on. */
export async function prepareCandidate(deps: Pick<RolloutDeps, 'store' | 'index' | 'logger'>, candidate: PipelineRecord, alias: string): Promise<{ served: PipelineRef }> {
  const servedCollection = await deps.index.getAlias(alias);
  const served = servedCollection ? await readPipeline(deps.store, servedCollection) : undefined;
  if (!served) throw new AppError('NOT_FOUND', `alias ${alias} serves no recorded collection: nothing to roll out from`);
  if (served.ref.collection === candidate.ref.collection) {
    throw new AppError('INVALID_INPUT', `the candidate pipeline ${candidate.ref.version} is the one already served`);
  }
  await recordPipeline(deps.store, candidate);
  await deps.index.ensureCollection(candidate.ref.collection, candidate.ref.dimension);
  await markBuilding(deps.store, candidate.ref.collection);
  deps.logger.info('rollout: candidate prepared', { candidate: candidate.ref.version, collection: candidate.ref.collection, served: served.ref.version });
  return { served: served.ref };
}

/** Scores one collection on the gate's eval set, with the collection's own model, as the answer API retrieves. */
export async function evaluateForGate(deps: RolloutDeps, pipeline: PipelineRef, evalSet: GateEvalSet): Promise<GateScores> {
  const set = loadGateSet(evalSet);
  const embedder = await deps.embedderFor(pipeline);
  const scores = await scoreCollection({ index: deps.index, collection: pipeline.collection }, embedder, set, 'served');
  deps.logger.info('rollout: gate scored a collection', { collection: pipeline.collection, ndcg10: scores.ndcg10, recall100: scores.recall100, queries: scores.queries });
  return { ndcg10: scores.ndcg10, recall100: scores.recall100, mrr10: scores.mrr10, queries: scores.queries };
}

/** Points the alias at `to`; returns where it pointed before. */
export async function switchAlias(index: VectorIndex, alias: string, to: string): Promise<{ previous?: string }> {
  const previous = await index.getAlias(alias);
  await index.setAlias(alias, to);
  return { previous };
}

/**
 * After a switch: the alias serves the expected collection, every catalog document has chunks there,
 * and the gate's first queries return hits through the search service with the collection's own model.
 * `rehearse` fails the check on purpose (a rollback drill). Throws INDEX_ERROR saying what failed.
 */
export async function postSwitchCheck(
  deps: RolloutDeps,
  opts: { alias: string; pipeline: PipelineRef; evalSet: GateEvalSet; queries?: number; rehearse?: boolean },
): Promise<{ documents: number; queries: number }> {
  const fail = (why: string) => new AppError('INDEX_ERROR', `post-switch check failed: ${why}`);
  if (opts.rehearse) throw fail('rehearsal: the rollout was asked to fail its post-switch check (rollback drill)');
  const served = await deps.index.getAlias(opts.alias);
  if (served !== opts.pipeline.collection) throw fail(`alias ${opts.alias} serves ${served ?? 'nothing'}, not ${opts.pipeline.collection}`);
  const present = new Set<string>();
  await deps.index.scroll(served, undefined, (_id, p) => present.add(p.documentId));
  const missing = (await listCatalog(deps.store)).filter((r) => !present.has(r.documentId));
  if (missing.length > 0) throw fail(`${missing.length} catalog documents have no chunks in ${served}`);
  const embedder = await deps.embedderFor(opts.pipeline);
  const search = createSearchService({ index: deps.index, embedder, collection: async () => served, lexical: createLexicalIndex(deps.index, served), mode: 'hybrid' });
  const queries = loadGateSet(opts.evalSet).queries.slice(0, opts.queries ?? 5);
  for (const q of queries) {
    const { hits } = await search.search(q.text, 10, { groups: [], unrestricted: true });
    if (hits.length === 0) throw fail(`no hits for a drill query in ${served}`);
  }
  return { documents: present.size, queries: queries.length };
}
