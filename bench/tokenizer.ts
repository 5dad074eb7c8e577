// Hand-written BERT WordPiece vs @huggingface/tokenizers on SciFact + SQuAD texts: speed and exactness.
// npm run bench:tokenizer [-- --rounds 3]
// Prints texts/s and tokens/s for both (first pass on a fresh tokenizer, then the best warm pass) and
// the number of texts whose ids differ (encode truncated at the model's 512, and the untruncated count).
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { findModelFiles } from '../src/embed/model-profile.js';
import { createModelTokenizer, sameIds, type ModelTokenizer } from '../src/embed/tokenizer.js';
import { MAX_MODEL_TOKENS } from '../src/embed/wordpiece.js';

const ROOT = resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
const rounds = Math.max(1, Number(values.rounds));

function corpusTexts(): string[] {
  const texts: string[] = [];
  const scifact = readFileSync(join(ROOT, '../shared/eval/scifact/corpus.jsonl'), 'utf8');
  for (const line of scifact.split('\n')) {
    if (!line.trim()) continue;
    const doc = JSON.parse(line) as { title?: string; text?: string };
    if (doc.title) texts.push(doc.title);
    if (doc.text) texts.push(doc.text);
  }
  const squad = JSON.parse(readFileSync(join(ROOT, '../shared/eval/squad/dev-v1.1.json'), 'utf8')) as {
    data: { paragraphs: { context: string }[] }[];
  };
  for (const article of squad.data) for (const p of article.paragraphs) texts.push(p.context);
  return texts;
}

const files = await findModelFiles(loadConfig(process.env).embedding.modelDir);
const json: unknown = JSON.parse(readFileSync(files.tokenizerPath, 'utf8'));
const make = {
  wordpiece: () => createModelTokenizer(json, { engine: 'auto', onMismatch: () => {} }),
  library: () => createModelTokenizer(json, { engine: 'library' }),
};
const texts = corpusTexts();
const chars = texts.reduce((a, t) => a + t.length, 0);
console.log(`# ${texts.length} texts (SciFact titles+abstracts, SQuAD dev contexts), ${(chars / 1e6).toFixed(1)} M chars; tokenizer ${files.tokenizerPath}`);
console.log(`# ${cpus().length} cpus, load ${loadavg()[0].toFixed(1)} (shared machine), node ${process.version}`);

function pass(tok: ModelTokenizer): { seconds: number; tokens: number; ids: number[][] } {
  const ids: number[][] = new Array(texts.length);
  let tokens = 0;
  const t0 = performance.now();
  for (let i = 0; i < texts.length; i++) {
    ids[i] = tok.encode(texts[i], MAX_MODEL_TOKENS).ids;
    tokens += ids[i].length;
  }
  return { seconds: (performance.now() - t0) / 1000, tokens, ids };
}

const results: Record<string, { ids: number[][]; counts: number[] }> = {};
for (const [name, create] of Object.entries(make)) {
  const tok = create();
  if (name === 'wordpiece' && tok.engine !== 'wordpiece') throw new Error('hand-written tokenizer rejected by the load-time check');
  const first = pass(tok);
  let best = first;
  for (let r = 1; r < rounds; r++) {
    const p = pass(tok);
    if (p.seconds < best.seconds) best = p;
  }
  const t0 = performance.now();
  const counts = texts.map((t) => tok.countTokens(t));
  const countSeconds = (performance.now() - t0) / 1000;
  results[name] = { ids: first.ids, counts };
  const rate = (p: { seconds: number; tokens: number }) =>
    `${Math.round(texts.length / p.seconds)} texts/s, ${(p.tokens / p.seconds / 1e6).toFixed(2)} M tokens/s`;
  console.log(
    `${name.padEnd(9)} encode(512): first pass ${first.seconds.toFixed(2)} s (${rate(first)}); best of ${rounds} ${best.seconds.toFixed(2)} s (${rate(best)}); countTokens ${Math.round(texts.length / countSeconds)} texts/s`,
  );
}

const a = results.wordpiece;
const b = results.library;
let idMismatch = 0;
let countMismatch = 0;
let truncated = 0;
for (let i = 0; i < texts.length; i++) {
  if (!sameIds(a.ids[i], b.ids[i])) {
    if (idMismatch < 3) console.log(`  mismatch on text ${i}: ${JSON.stringify(texts[i].slice(0, 80))}`);
    idMismatch++;
  }
  if (a.counts[i] !== b.counts[i]) countMismatch++;
  if (b.counts[i] + 2 > MAX_MODEL_TOKENS) truncated++;
}
console.log(`mismatching texts: ${idMismatch} of ${texts.length} (encode, ${truncated} of them truncated at ${MAX_MODEL_TOKENS}); countTokens mismatches: ${countMismatch}`);
