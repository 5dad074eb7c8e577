// A real slice of SciFact in BEIR layout: the first `queries` judged train queries, every document they
// judge, and `distractors` more documents. Small enough to embed in seconds, real enough to score.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVAL_DIR } from './stack.js';

export function writeScifactSlice(dir: string, queries: number, distractors: number): { dir: string; corpus: string; documents: number } {
  mkdirSync(join(dir, 'qrels'), { recursive: true });
  const src = join(EVAL_DIR, 'scifact');
  const qrelLines = readFileSync(join(src, 'qrels', 'train.tsv'), 'utf8').trim().split('\n');
  const judged = new Map<string, string[]>();
  for (const line of qrelLines.slice(1)) {
    const [qid, did] = line.split('\t');
    if (!judged.has(qid) && judged.size >= queries) continue;
    judged.set(qid, [...(judged.get(qid) ?? []), did]);
  }
  const wanted = new Set([...judged.values()].flat());
  let extra = 0;
  const kept = readFileSync(join(src, 'corpus.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .filter((line) => wanted.has((JSON.parse(line) as { _id: string })._id) || extra++ < distractors);
  const corpus = join(dir, 'corpus.jsonl');
  writeFileSync(corpus, kept.join('\n') + '\n');
  writeFileSync(join(dir, 'qrels', 'train.tsv'), ['query-id\tcorpus-id\tscore', ...[...judged].flatMap(([q, ds]) => ds.map((d) => `${q}\t${d}\t1`))].join('\n') + '\n');
  writeFileSync(join(dir, 'queries-train.jsonl'), readFileSync(join(src, 'queries-train.jsonl'), 'utf8'));
  return { dir, corpus, documents: kept.length };
}
