import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Qrels } from '../domain/ir-metrics.js';
import { AppError } from '../errors.js';

export interface BeirQuery {
  id: string;
  text: string;
}

export interface BeirSplit {
  corpusPath: string;
  queries: BeirQuery[];
  qrels: Qrels;
}

/**
 * Reads a BEIR-layout folder: corpus.jsonl, queries.jsonl (or queries-<split>.jsonl) and
 * qrels/<split>.tsv. Only queries with judgements in the split are kept.
 */
export function loadBeirSplit(dir: string, split: string): BeirSplit {
  const corpusPath = join(dir, 'corpus.jsonl');
  const queriesPath = [join(dir, `queries-${split}.jsonl`), join(dir, 'queries.jsonl')].find((p) => existsSync(p));
  const qrelsPath = join(dir, 'qrels', `${split}.tsv`);
  for (const [what, p] of [
    ['corpus.jsonl', corpusPath],
    [`qrels/${split}.tsv`, qrelsPath],
  ] as const) {
    if (!existsSync(p)) throw new AppError('NOT_FOUND', `${dir} is not a BEIR folder with split "${split}": missing ${what}`);
  }
  if (!queriesPath) throw new AppError('NOT_FOUND', `${dir} has neither queries-${split}.jsonl nor queries.jsonl`);

  const qrels: Qrels = new Map();
  const lines = readFileSync(qrelsPath, 'utf8').split('\n');
  for (const line of lines.slice(lines[0]?.startsWith('query-id') ? 1 : 0)) {
    const [qid, did, score] = line.trim().split('\t');
    if (!qid || !did) continue;
    if (!qrels.has(qid)) qrels.set(qid, new Map());
    qrels.get(qid)!.set(did, Number(score ?? 1));
  }
  const queries: BeirQuery[] = [];
  for (const line of readFileSync(queriesPath, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const q = JSON.parse(line) as { _id: string | number; text: string };
    if (qrels.has(String(q._id))) queries.push({ id: String(q._id), text: q.text });
  }
  return { corpusPath, queries, qrels };
}
