// Page-level answer quality on real PDFs (not a test). Every PDF of ../shared/eval/pdfs that parses is
// ingested with the ingestion steps themselves (stage, parse, chunk per page, embed, index: the local
// ingest service `srag eval` uses) into a scratch embedded index under .cache/eval/pdf-qa, reused by later
// runs; the PDFs the QA set does not name are distractors. Each question then goes through the search
// service (hybrid by default) and the configured verifying answerer, as /v1/query does. Prints:
//   - answer quoted: share of questions whose citations quote a gold answer; first citation quotes it;
//   - pageCorrect: share whose first citation is on the gold page of the gold PDF; pageCited: any citation;
//   - gold page in top k: share whose retrieved chunks include one from that page;
//   - "not found" answers, and latency (retrieval + answer) per question.
// Usage: npx tsx bench/pdf-qa.ts [--qa FILE.jsonl] [--k K] [--mode dense|bm25|hybrid] [--json]
//   SRAG_EVAL_DIR overrides the evaluation folder (default ../shared/eval beside the repository).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { loadConfig, PROJECT_ROOT } from '../src/config.js';
import { createEmbedder } from '../src/embed/factory.js';
import { parseQaSet, scoreAnswers, type AnswerResult } from '../src/eval/answers.js';
import { scratchDepsFor } from '../src/eval/scratch.js';
import { isAppError } from '../src/errors.js';
import { createConfiguredAnswerer } from '../src/generate/factory.js';
import { NOT_FOUND_ANSWER, notFoundAnswer } from '../src/generate/extractive.js';
import { createEmbeddedIndex } from '../src/index/embedded.js';
import { createLexicalIndex } from '../src/index/lexical.js';
import { createLogger } from '../src/obs/logger.js';
import { createSearchService, type SearchMode } from '../src/query/search.js';
import { ingestInProcess } from '../src/services/local-ingest.js';
import { createFsBlobStore } from '../src/store/fs.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const K = Number(arg('k', '8'));
const MODE = arg('mode', 'hybrid') as SearchMode;
const JSON_OUT = process.argv.includes('--json');
const QA_FILE = resolve(arg('qa', join(PROJECT_ROOT, 'test', 'fixtures', 'pdf-qa.jsonl')));

const evalDir = resolve(process.env.SRAG_EVAL_DIR ?? join(PROJECT_ROOT, '..', 'shared', 'eval'));
const pdfDir = join(evalDir, 'pdfs');
const items = parseQaSet(readFileSync(QA_FILE, 'utf8'), QA_FILE);

const allPdfs = (readdirSync(pdfDir, { recursive: true }) as string[]).filter((f) => f.toLowerCase().endsWith('.pdf')).sort();
for (const source of new Set(items.flatMap((i) => (i.source ? [i.source] : [])))) {
  if (!allPdfs.includes(source)) throw new Error(`${QA_FILE} names ${source}, which is not under ${pdfDir}`);
}

// A PDF parser closing its child process waits for the exit of an unreferenced child; with nothing else
// pending Node would end this script there (exit 13). Held until the benchmark is done.
const keepAlive = setInterval(() => {}, 1 << 30);

const config = loadConfig(process.env);
const logger = createLogger('warn');
const embedder = await createEmbedder(config.embedding, logger);
try {
  const deps = await scratchDepsFor(config, embedder);
  const pipeline = { ...deps.pipeline, collection: 'pdfqa' };
  const workDir = join(deps.workDir, 'pdf-qa');
  const indexDir = join(workDir, 'index', pipeline.version);
  const store = createFsBlobStore(join(workDir, 'store'));

  // Ingest every PDF; unchanged ones are found indexed and cost only a parse.
  const t0 = performance.now();
  const writer = await createEmbeddedIndex(indexDir, {});
  const skipped: Record<string, string> = {};
  let embedded = 0;
  try {
    for (const rel of allPdfs) {
      try {
        const { chunks } = await ingestInProcess({ ...deps, store, index: writer, pipeline }, { path: join(pdfDir, rel) });
        embedded += chunks;
      } catch (err) {
        if (!isAppError(err)) throw err;
        skipped[rel] = err.code;
      }
    }
  } finally {
    await writer.close();
  }
  const indexSeconds = (performance.now() - t0) / 1000;
  const missing = items.filter((i) => i.source && i.source in skipped).map((i) => `${i.source} (${skipped[i.source as string]})`);
  if (missing.length > 0) throw new Error(`the QA set's PDFs must ingest: ${[...new Set(missing)].join(', ')}`);

  const index = await createEmbeddedIndex(indexDir, { readOnly: true });
  try {
    const search = createSearchService({
      index,
      embedder,
      collection: async () => pipeline.collection,
      lexical: createLexicalIndex(index, pipeline.collection),
      mode: MODE,
    });
    const { answerer, generator } = createConfiguredAnswerer(config.llm, logger);
    const everyone = { groups: [], unrestricted: true };
    await search.search('warm up', K, everyone); // builds BM25 and loads the model outside the timings

    const fromSource = (source: string, path: string) => relative(pdfDir, path) === source;
    const results: AnswerResult[] = [];
    const perQuestion: { line: number; page?: number; goldPageInTopK: boolean; firstCitationPage: number | null; firstCitationSource: boolean }[] = [];
    let goldPageRetrieved = 0;
    for (const [i, item] of items.entries()) {
      const started = performance.now();
      const { hits } = await search.search(item.question, K, everyone);
      // As /v1/query: nothing retrieved, nothing to answer from.
      const answer = hits.length === 0 ? notFoundAnswer() : await answerer.answer({ question: item.question, chunks: hits });
      results.push({ answer: answer.answer, citations: answer.citations, notFound: answer.citations.length === 0 || answer.answer === NOT_FOUND_ANSWER, ms: performance.now() - started });
      const inTopK = item.source !== undefined && hits.some((h) => h.payload.page === item.page && fromSource(item.source as string, h.payload.source));
      if (inTopK) goldPageRetrieved++;
      const first = answer.citations[0];
      perQuestion.push({
        line: i + 1,
        ...(item.page !== undefined ? { page: item.page } : {}),
        goldPageInTopK: inTopK,
        firstCitationPage: first?.page ?? null,
        firstCitationSource: first !== undefined && item.source !== undefined && fromSource(item.source, first.source),
      });
    }
    const report = scoreAnswers(items, results);
    const withPage = items.filter((i) => i.page !== undefined).length;
    const result = {
      qa: relative(PROJECT_ROOT, QA_FILE),
      questions: report.questions,
      sources: new Set(items.map((i) => i.source)).size,
      pdfsIndexed: allPdfs.length - Object.keys(skipped).length,
      pdfsSkipped: skipped,
      points: await index.count(pipeline.collection),
      pipeline: pipeline.version,
      model: embedder.modelId,
      generator,
      k: K,
      mode: MODE,
      answerQuoted: report.containment,
      firstCitationQuotesAnswer: report.firstContainment,
      pageCorrect: report.pageCorrect ?? 0,
      pageCited: report.pageCited ?? 0,
      sourceCited: report.citationCorrect ?? 0,
      goldPageInTopK: +(goldPageRetrieved / Math.max(1, withPage)).toFixed(4),
      notFoundAnswers: report.notFound.answered,
      latencyMs: report.latencyMs,
      indexSeconds: +indexSeconds.toFixed(1),
      chunksEmbedded: embedded,
      perQuestion,
    };
    if (JSON_OUT) {
      process.stdout.write(JSON.stringify(result) + '\n');
    } else {
      const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
      const out = (s: string) => process.stdout.write(s + '\n');
      out(`PDF QA (${result.qa}): ${result.questions} questions over ${result.sources} PDFs; ${result.pdfsIndexed} PDFs indexed (${result.points} chunks, pipeline ${result.pipeline}, ${result.model}), ${Object.keys(skipped).length} skipped; ${generator}, ${MODE} k=${K}`);
      out(`  answer quoted by a citation:        ${pct(result.answerQuoted)}`);
      out(`  first citation quotes the answer:   ${pct(result.firstCitationQuotesAnswer)}`);
      out(`  first citation on the gold page:    ${pct(result.pageCorrect)}   (pageCorrect)`);
      out(`  a citation on the gold page:        ${pct(result.pageCited)}   (pageCited; gold PDF cited at all: ${pct(result.sourceCited)})`);
      out(`  gold page in the top ${K} hits:       ${pct(result.goldPageInTopK)}`);
      out(`  "not found" answers:                ${result.notFoundAnswers}`);
      out(`  latency per question:               p50 ${result.latencyMs.p50} ms, p95 ${result.latencyMs.p95} ms`);
      out(`  indexing ${result.indexSeconds}s (${embedded} chunks embedded by this run; 0 = cached)`);
    }
  } finally {
    await index.close();
  }
} finally {
  await embedder.close();
  clearInterval(keepAlive);
}
