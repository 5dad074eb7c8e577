// SQuAD v1.1 dev as an end-to-end check of retrieval + extractive answers (not a test).
// Indexes all 2,067 paragraphs (one document each) with the ingestion steps into a scratch embedded
// index under .cache/eval (reused by later runs), draws 300 questions with a fixed seed, retrieves
// top 5 (hybrid) and answers extractively. Prints:
//   - gold paragraph in top 5: share of questions whose source paragraph was retrieved;
//   - answer quoted: share whose answer citations quote one of the gold answer texts (case-insensitive);
//   - timings per stage.
//   - first citation quotes the answer: the answer leads with it;
//   - off-corpus: questions of held-out articles, asked of the index without them: "not found" recall
//     (share answered "not found") and precision (share of all "not found" answers that were off-corpus).
// Usage: npx tsx bench/squad.ts [--questions N] [--seed S] [--k K] [--mode dense|bm25|hybrid] [--hold-out ARTICLES]
//          [--features FILE.jsonl] [--json]
//   SRAG_EVAL_DIR overrides the evaluation folder (default ../shared/eval beside the repository).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadConfig, PROJECT_ROOT } from '../src/config.js';
import { createEmbedder } from '../src/embed/factory.js';
import { createAnswerer } from '../src/generate/answer.js';
import { createExtractiveGenerator, NOT_FOUND_ANSWER, type ExtractiveOptions } from '../src/generate/extractive.js';
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
/** Articles held out: their questions are the off-corpus set, asked of an index without their paragraphs. */
const HOLD_OUT = Number(arg('hold-out', '8'));
const FEATURES = arg('features', '');

interface Squad {
  data: { title: string; paragraphs: { context: string; qas: { id: string; question: string; answers: { text: string }[] }[] }[] }[];
}
interface Question {
  id: string;
  text: string;
  paragraphId: string;
  article: number;
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
    for (const qa of p.qas) questions.push({ id: qa.id, text: qa.question, paragraphId, article: ai, answers: [...new Set(qa.answers.map((a) => a.text))] });
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
    // --extractive '{"kindBoost":1.6}': try generator settings without editing code.
    const answerer = createAnswerer({ extractive: createExtractiveGenerator(JSON.parse(arg('extractive', '{}')) as ExtractiveOptions), logger });
    const everyone = { groups: [], unrestricted: true };
    await search.search('warm up', K, everyone); // builds BM25 and loads the model outside the timings

    // The held-out articles are drawn with their own seed, so the in-corpus sample stays the same.
    const heldOut = new Set(sample([...squad.data.keys()], HOLD_OUT, seededRandom(SEED ^ 0x5eed)));
    const visible = (h: { payload: { externalId?: string } }) => !heldOut.has(Number(String(h.payload.externalId).split('-')[0]));
    // An index without the held-out paragraphs, approximated by dropping them from a longer result list
    // (dense scores are unaffected; BM25's document frequencies still count them).
    const retrieve = async (text: string) => {
      const { hits, timings } = await search.search(text, K + 80, everyone);
      return { hits: hits.filter(visible).slice(0, K), timings };
    };
    const drawn = sample(
      questions.filter((q) => !heldOut.has(q.article)),
      QUESTIONS,
      seededRandom(SEED),
    );
    const negatives = sample(
      questions.filter((q) => heldOut.has(q.article)),
      QUESTIONS,
      seededRandom(SEED + 1),
    );
    const features: string[] = [];
    const featureOf = (q: Question, hits: Awaited<ReturnType<typeof retrieve>>['hits'], answer: Awaited<ReturnType<typeof answerer.answer>>, negative: boolean) => {
      const gold = q.answers.map((a) => a.toLowerCase());
      return JSON.stringify({
        negative,
        question: q.text,
        dense: Math.max(...hits.map((h) => h.denseScore ?? 0)),
        fused: hits[0]?.score ?? 0,
        notFound: answer.answer === NOT_FOUND_ANSWER,
        first: answer.citations[0] ? gold.some((a) => answer.citations[0].quote.toLowerCase().includes(a)) : false,
        any: answer.citations.some((c) => gold.some((a) => c.quote.toLowerCase().includes(a))),
        relevance: answer.relevance,
        // Cosine and label of every hit: what bench/relevance.ts fits the relevance curve on.
        hits: hits.map((h) => ({
          dense: h.denseScore ?? null,
          gold: !negative && h.payload.externalId === q.paragraphId,
          ...(process.env.SRAG_BENCH_DUMP_HITS ? { text: h.payload.text } : {}),
        })),
        ...(process.env.SRAG_BENCH_DUMP_HITS ? { answers: q.answers, quotes: answer.citations.map((c) => c.quote) } : {}),
      });
    };
    let firstQuoted = 0;
    let negativesNotFound = 0;
    for (const q of negatives) {
      const { hits } = await retrieve(q.text);
      const answer = await answerer.answer({ question: q.text, chunks: hits });
      if (answer.answer === NOT_FOUND_ANSWER) negativesNotFound++;
      if (FEATURES) features.push(featureOf(q, hits, answer, true));
    }
    let retrieved = 0;
    let quoted = 0;
    let answerInChunks = 0;
    let notFound = 0;
    const embedMs: number[] = [];
    const retrieveMs: number[] = [];
    const generateMs: number[] = [];
    const t0 = performance.now();
    for (const q of drawn) {
      const { hits, timings } = await retrieve(q.text);
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
      if (answer.citations[0] && gold.some((a) => answer.citations[0].quote.toLowerCase().includes(a))) firstQuoted++;
      if (FEATURES) features.push(featureOf(q, hits, answer, false));
    }
    if (FEATURES) writeFileSync(FEATURES, features.join('\n') + '\n');
    const notFoundTotal = notFound + negativesNotFound;
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
      firstCitationQuotesAnswer: +(firstQuoted / drawn.length).toFixed(4),
      heldOutArticles: HOLD_OUT,
      offCorpusQuestions: negatives.length,
      notFoundRecall: +(negativesNotFound / Math.max(1, negatives.length)).toFixed(4),
      notFoundPrecision: +(negativesNotFound / Math.max(1, notFoundTotal)).toFixed(4),
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
      out(`  first citation quotes the answer:  ${pct(result.firstCitationQuotesAnswer)}`);
      out(`  off-corpus (${negatives.length} questions of ${HOLD_OUT} held-out articles): "not found" recall ${pct(result.notFoundRecall)}, precision ${pct(result.notFoundPrecision)}`);
      out(`  indexing ${result.indexSeconds}s (0 = cached), ${result.questions} queries in ${result.querySeconds}s`);
      for (const [stage, s] of Object.entries(result.ms)) out(`  ${stage.padEnd(9)} p50 ${s.p50} ms  p95 ${s.p95} ms  mean ${s.mean} ms`);
    }
  } finally {
    await index.close();
  }
} finally {
  await embedder.close();
}
