// SQuAD v1.1 dev as an end-to-end check of retrieval + extractive answers (not a test).
// Indexes all 2,067 paragraphs (one document each) with the ingestion steps into a scratch embedded
// index under .cache/eval (reused by later runs), draws 300 questions with a fixed seed, retrieves
// top 5 (hybrid) and answers extractively. Prints:
//   - gold paragraph in top 5: share of questions whose source paragraph was retrieved;
//   - answer quoted: share whose answer citations quote one of the gold answer texts (case-insensitive);
//   - timings per stage.
// Usage: npx tsx bench/squad.ts [--questions N] [--seed S] [--k K] [--mode dense|bm25|hybrid] [--json]
//   SRAG_EVAL_DIR overrides the evaluation folder (default ../shared/eval beside the repository).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadConfig, PROJECT_ROOT } from '../src/config.js';
import { createEmbedder } from '../src/embed/factory.js';
import { createAnswerer } from '../src/generate/answer.js';
import { createExtractiveGenerator, NOT_FOUND_ANSWER } from '../src/generate/extractive.js';
import { createEmbeddedIndex } from '../src/index/embedded.js';
import { createLexicalIndex } from '../src/index/lexical.js';
import { createLogger } from '../src/obs/logger.js';
import { createSearchService, type SearchMode } from '../src/query/search.js';
import { ensureScratchIndex, percentile, sample, seededRandom } from './scratch-index.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const QUESTIONS = Number(arg('questions', '300'));
const SEED = Number(arg('seed', '20240607'));
const K = Number(arg('k', '5'));
const MODE = arg('mode', 'hybrid') as SearchMode;
const JSON_OUT = process.argv.includes('--json');

interface Squad {
  data: { title: string; paragraphs: { context: string; qas: { id: string; question: string; answers: { text: string }[] }[] }[] }[];
}
interface Question {
  id: string;
  text: string;
  paragraphId: string;
  answers: string[];
}

const evalDir = resolve(process.env.SRAG_EVAL_DIR ?? join(PROJECT_ROOT, '..', 'shared', 'eval'));
const squad = JSON.parse(readFileSync(join(evalDir, 'squad', 'dev-v1.1.json'), 'utf8')) as Squad;

const config = loadConfig(process.env);
const logger = createLogger('warn');

// BEIR layout at a fixed path: the same bytes hash to the same scratch index on every run.
const corpusPath = join(config.cacheDir, 'eval', 'squad', 'corpus.jsonl');
const questions: Question[] = [];
const lines: string[] = [];
squad.data.forEach((article, ai) => {
  article.paragraphs.forEach((p, pi) => {
    const paragraphId = `${ai}-${pi}`;
    lines.push(JSON.stringify({ _id: paragraphId, title: article.title.replace(/_/g, ' '), text: p.context }));
    for (const qa of p.qas) questions.push({ id: qa.id, text: qa.question, paragraphId, answers: [...new Set(qa.answers.map((a) => a.text))] });
  });
});
mkdirSync(dirname(corpusPath), { recursive: true });
writeFileSync(corpusPath, lines.join('\n') + '\n');

const embedder = await createEmbedder(config.embedding, logger);
try {
  const scratch = await ensureScratchIndex(config, embedder, corpusPath);
  const index = await createEmbeddedIndex(scratch.dir, { readOnly: true });
  try {
    const search = createSearchService({
      index,
      embedder,
      collection: async () => scratch.collection,
      lexical: createLexicalIndex(index, scratch.collection),
      mode: MODE,
    });
    const answerer = createAnswerer({ extractive: createExtractiveGenerator(), logger });
    const everyone = { groups: [], unrestricted: true };
    await search.search('warm up', K, everyone); // builds BM25 and loads the model outside the timings

    const drawn = sample(questions, QUESTIONS, seededRandom(SEED));
    let retrieved = 0;
    let quoted = 0;
    let answerInChunks = 0;
    let notFound = 0;
    const embedMs: number[] = [];
    const retrieveMs: number[] = [];
    const generateMs: number[] = [];
    const t0 = performance.now();
    for (const q of drawn) {
      const { hits, timings } = await search.search(q.text, K, everyone);
      embedMs.push(timings.embedMs);
      retrieveMs.push(timings.retrieveMs);
      if (hits.some((h) => h.payload.externalId === q.paragraphId)) retrieved++;
      const gold = q.answers.map((a) => a.toLowerCase());
      if (hits.some((h) => gold.some((a) => h.payload.text.toLowerCase().includes(a)))) answerInChunks++;
      const g0 = performance.now();
      const answer = await answerer.answer({ question: q.text, chunks: hits });
      generateMs.push(performance.now() - g0);
      if (answer.answer === NOT_FOUND_ANSWER) notFound++;
      if (answer.citations.some((c) => gold.some((a) => c.quote.toLowerCase().includes(a)))) quoted++;
    }
    const seconds = (performance.now() - t0) / 1000;
    const stats = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return { p50: +percentile(s, 50).toFixed(2), p95: +percentile(s, 95).toFixed(2), mean: +(s.reduce((a, b) => a + b, 0) / s.length).toFixed(2) };
    };
    const result = {
      questions: drawn.length,
      seed: SEED,
      k: K,
      mode: MODE,
      paragraphs: lines.length,
      indexedDocuments: scratch.documents,
      points: scratch.points,
      pipeline: scratch.pipeline.version,
      model: embedder.modelId,
      goldParagraphInTopK: +(retrieved / drawn.length).toFixed(4),
      answerQuoted: +(quoted / drawn.length).toFixed(4),
      answerInRetrievedChunks: +(answerInChunks / drawn.length).toFixed(4),
      notFoundAnswers: notFound,
      indexSeconds: +scratch.indexSeconds.toFixed(1),
      querySeconds: +seconds.toFixed(2),
      ms: { embed: stats(embedMs), retrieve: stats(retrieveMs), generate: stats(generateMs) },
    };
    if (JSON_OUT) {
      process.stdout.write(JSON.stringify(result) + '\n');
    } else {
      const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
      const out = (s: string) => process.stdout.write(s + '\n');
      out(`SQuAD v1.1 dev: ${result.paragraphs} paragraphs (${result.points} chunks, pipeline ${result.pipeline}, ${result.model}), ${result.questions} questions (seed ${SEED}), ${MODE} k=${K}`);
      out(`  gold paragraph in top ${K}:        ${pct(result.goldParagraphInTopK)}`);
      out(`  extractive citations quote answer: ${pct(result.answerQuoted)}   (gold answer anywhere in the top ${K} chunks: ${pct(result.answerInRetrievedChunks)}; "not found" answers: ${notFound})`);
      out(`  indexing ${result.indexSeconds}s (0 = cached), ${result.questions} queries in ${result.querySeconds}s`);
      for (const [stage, s] of Object.entries(result.ms)) out(`  ${stage.padEnd(9)} p50 ${s.p50} ms  p95 ${s.p95} ms  mean ${s.mean} ms`);
    }
  } finally {
    await index.close();
  }
} finally {
  await embedder.close();
}
