import { join } from 'node:path';
import type { GateScores } from '../domain/rollout.js';
import type { PipelineRef } from '../domain/ingest.js';
import type { Embedder } from '../embed/port.js';
import { AppError } from '../errors.js';
import { loadBeirSplit } from '../eval/beir.js';
import { scoreCollection } from '../eval/run.js';
import type { VectorIndex } from '../index/port.js';
import type { Logger } from '../obs/logger.js';
import { createSearchService } from '../query/search.js';
import { createLexicalIndex } from '../index/lexical.js';
import { listCatalog } from '../store/catalog.js';
import { markBuilding, readPipeline, recordPipeline, type PipelineRecord } from '../store/pipelines.js';
import type { BlobStore } from '../store/port.js';

/** The rollout gate's eval set: a BEIR-layout folder whose corpus is part of the knowledge base. */
export interface GateEvalSet {
  dir: string;
  split: string;
  /** First N queries only (0: all). */
  limit?: number;
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
  const beir = loadBeirSplit(evalSet.dir, evalSet.split);
  const queries = evalSet.limit ? beir.queries.slice(0, evalSet.limit) : beir.queries;
  const embedder = await deps.embedderFor(pipeline);
  const scores = await scoreCollection({ index: deps.index, collection: pipeline.collection }, embedder, { queries, qrels: beir.qrels }, 'served');
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
  const queries = loadBeirSplit(opts.evalSet.dir, opts.evalSet.split).queries.slice(0, opts.queries ?? 5);
  for (const q of queries) {
    const { hits } = await search.search(q.text, 10, { groups: [], unrestricted: true });
    if (hits.length === 0) throw fail(`no hits for a drill query in ${served}`);
  }
  return { documents: present.size, queries: queries.length };
}

/** A gate eval set given relative to the project is resolved once, by whoever starts the rollout. */
export function resolveEvalDir(dir: string, cwd: string): string {
  return dir.startsWith('/') ? dir : join(cwd, dir);
}
