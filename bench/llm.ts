// The local answer model on SQuAD v1.1 dev: draws questions with a fixed seed; each is asked over its
// own paragraph and a few other paragraphs of the same article (in a seeded order, so the gold one is
// not always [1]), no index involved, through the verifying answerer with the real local model
// (SRAG_LLM_MODEL_PATH, default the one `npm run setup -- --llm` installs). Prints the share of answers
// that pass verification, the share that fall back to extraction (and why), generation tokens/s and
// latency, and how often the answer holds a gold answer, next to the extractive answerer's figure.
//
// Usage: npx tsx bench/llm.ts [--questions N] [--seed S] [--others K] [--json]  (SRAG_SQUAD_FILE: another SQuAD v1.1 file)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, PROJECT_ROOT } from '../src/config.js';
import { createAnswerer } from '../src/generate/answer.js';
import { createExtractiveGenerator } from '../src/generate/extractive.js';
import { loadLlamaCppModel } from '../src/generate/llama-cpp.js';
import { createLocalGenerator } from '../src/generate/local.js';
import type { GeneratedAnswer } from '../src/generate/port.js';
import type { ScoredPoint } from '../src/index/port.js';
import { createLogger } from '../src/obs/logger.js';
import { percentile, sample, seededRandom } from './scratch-index.js';

const argv = process.argv.slice(2);
const arg = (name: string, def: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1] : def;
};
const QUESTIONS = Number(arg('questions', '50'));
const SEED = Number(arg('seed', '20240607'));
const OTHERS = Number(arg('others', '3'));
const JSON_OUT = argv.includes('--json');

interface Squad {
  data: { title: string; paragraphs: { context: string; qas: { question: string; answers: { text: string }[] }[] }[] }[];
}
/** A question with where its gold paragraph is: squad.data[article].paragraphs[paragraph]. */
type Question = { text: string; answers: string[]; article: number; paragraph: number };

const squadFile = process.env.SRAG_SQUAD_FILE ?? join(PROJECT_ROOT, '..', 'shared', 'eval', 'squad', 'dev-v1.1.json');
const squad = JSON.parse(readFileSync(squadFile, 'utf8')) as Squad;
const all: Question[] = squad.data.flatMap((a, article) =>
  a.paragraphs.flatMap((p, paragraph) => p.qas.map((qa) => ({ text: qa.question, answers: qa.answers.map((x) => x.text), article, paragraph }))),
);

function paragraphPoint(article: number, paragraph: number, score: number): ScoredPoint {
  const a = squad.data[article];
  const text = a.paragraphs[paragraph].context;
  const documentId = `squad-${article}-${paragraph}`;
  return {
    id: documentId,
    score,
    payload: {
      documentId,
      contentHash: documentId,
      chunkIndex: 0,
      chunkCount: 1,
      text,
      start: 0,
      end: text.length,
      title: a.title.replace(/_/g, ' '),
      source: `squad:${documentId}`,
      type: 'text',
      acl: [],
    },
  };
}

/** The question's paragraph plus OTHERS from the same article, in a seeded order. */
function chunksFor(q: Question, random: () => number): ScoredPoint[] {
  const others = sample(
    squad.data[q.article].paragraphs.map((_, i) => i).filter((i) => i !== q.paragraph),
    OTHERS,
    random,
  );
  const order = sample([q.paragraph, ...others], OTHERS + 1, random);
  return order.map((p, i) => paragraphPoint(q.article, p, 1 - i / 10));
}

const holdsGold = (answer: GeneratedAnswer, q: Question) => q.answers.some((g) => answer.answer.toLowerCase().includes(g.toLowerCase()));
const citesGold = (answer: GeneratedAnswer, q: Question) => answer.citations.some((c) => c.documentId === `squad-${q.article}-${q.paragraph}`);

const config = loadConfig({ ...process.env, SRAG_LLM: 'local' });
const logger = createLogger('error');
const local = config.llm.local;
if (!local) throw new Error('unreachable: SRAG_LLM=local yields a local model config');
const loadStarted = Date.now();
const model = await loadLlamaCppModel(local, { logger });
const loadMs = Date.now() - loadStarted;
let tokens = 0;
let decodeMs = 0;
const promptMs: number[] = [];
const generator = createLocalGenerator({
  model,
  logger,
  onCompletion: (s) => {
    // The first token comes out of reading the prompt; the rate is for the tokens after it.
    tokens += Math.max(0, s.tokens - 1);
    decodeMs += s.ms - s.firstTokenMs;
    promptMs.push(s.firstTokenMs);
  },
});
const extractive = createExtractiveGenerator();
const answerer = createAnswerer({ generator, extractive, logger });
const extractiveOnly = createAnswerer({ extractive, logger });

const drawn = sample(all, QUESTIONS, seededRandom(SEED));
const orderRandom = seededRandom(SEED + 1);
const latencies: number[] = [];
const reasons = new Map<string, number>();
let verified = 0;
let llmGold = 0;
let llmCitesGold = 0;
let gold = 0;
let extractiveGold = 0;
for (const [i, q] of drawn.entries()) {
  const input = { question: q.text, chunks: chunksFor(q, orderRandom) };
  const t0 = performance.now();
  const answer = await answerer.answer(input);
  latencies.push(performance.now() - t0);
  if (answer.mode === 'llm') {
    verified++;
    if (holdsGold(answer, q)) llmGold++;
    if (citesGold(answer, q)) llmCitesGold++;
  } else reasons.set(answer.fallbackReason ?? 'none', (reasons.get(answer.fallbackReason ?? 'none') ?? 0) + 1);
  if (holdsGold(answer, q)) gold++;
  if (holdsGold(await extractiveOnly.answer(input), q)) extractiveGold++;
  if (!JSON_OUT) process.stderr.write(`\r${i + 1}/${drawn.length}`);
}
await model.close();

const n = drawn.length;
const sorted = [...latencies].sort((a, b) => a - b);
const share = (k: number) => Math.round((k / n) * 1000) / 10;
const result = {
  model: model.name,
  questions: n,
  seed: SEED,
  chunksPerQuestion: OTHERS + 1,
  threads: local.threads || 'auto',
  loadSeconds: Math.round(loadMs / 100) / 10,
  verifiedPct: share(verified),
  fallbackPct: share(n - verified),
  fallbackReasons: Object.fromEntries(reasons),
  tokensPerSecond: decodeMs === 0 ? 0 : Math.round((tokens / decodeMs) * 10_000) / 10,
  completionTokens: tokens,
  promptReadMsP50: Math.round(percentile([...promptMs].sort((a, b) => a - b), 50)),
  latencyMs: { p50: Math.round(percentile(sorted, 50)), p90: Math.round(percentile(sorted, 90)), max: Math.round(sorted[n - 1] ?? 0) },
  goldInAnswerPct: share(gold),
  goldInVerifiedLlmAnswerPct: verified === 0 ? 0 : Math.round((llmGold / verified) * 1000) / 10,
  goldParagraphCitedByLlmPct: verified === 0 ? 0 : Math.round((llmCitesGold / verified) * 1000) / 10,
  extractiveGoldInAnswerPct: share(extractiveGold),
};
if (JSON_OUT) {
  process.stdout.write(JSON.stringify(result) + '\n');
} else {
  const out = (s: string) => process.stdout.write(s + '\n');
  out('');
  out(`local LLM ${result.model} on SQuAD v1.1 dev: ${n} questions (seed ${SEED}), each over its paragraph + ${OTHERS} of the same article`);
  out(`  verified model answers     ${result.verifiedPct}%`);
  out(`  fell back to extraction    ${result.fallbackPct}%  ${JSON.stringify(result.fallbackReasons)}`);
  out(`  generation                 ${result.tokensPerSecond} tokens/s after the first (${tokens} tokens); reading the prompt p50 ${result.promptReadMsP50} ms; model load ${result.loadSeconds} s; threads ${result.threads}`);
  out(`  latency per answer         p50 ${result.latencyMs.p50} ms, p90 ${result.latencyMs.p90} ms, max ${result.latencyMs.max} ms`);
  out(`  gold answer in the answer  ${result.goldInAnswerPct}% (verified model answers: ${result.goldInVerifiedLlmAnswerPct}%, citing the gold paragraph: ${result.goldParagraphCitedByLlmPct}%; extractive alone: ${result.extractiveGoldInAnswerPct}%)`);
}
