// Fits the relevance curve of an embedding model (src/domain/relevance.ts) on labelled hits, and
// shows how well the fitted and the current curve are calibrated, in one run (not a test).
// Input: the features file of bench/squad.ts (every top-k hit's cosine, labelled relevant when it is
// the question's own paragraph; hits of off-corpus questions are all irrelevant).
// Usage: npm run bench:squad -- --features /tmp/squad.jsonl   (with the model to fit in SRAG_MODEL_DIR)
//        npx tsx bench/relevance.ts /tmp/squad.jsonl [--model bge-small-en-v1.5-q]
import { readFileSync } from 'node:fs';
import { relevanceCurveFor, relevanceOf, type RelevanceCurve } from '../src/domain/relevance.js';

const file = process.argv[2];
if (!file || file.startsWith('--')) {
  process.stderr.write('usage: npx tsx bench/relevance.ts FEATURES.jsonl [--model ID]\n');
  process.exit(2);
}
const modelArg = process.argv.indexOf('--model');
const modelId = modelArg > 0 ? process.argv[modelArg + 1] : 'bge-small-en-v1.5-q';

const samples: Array<{ x: number; y: number }> = [];
for (const line of readFileSync(file, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const row = JSON.parse(line) as { hits?: Array<{ dense: number | null; gold: boolean }> };
  for (const h of row.hits ?? []) if (h.dense !== null) samples.push({ x: h.dense, y: h.gold ? 1 : 0 });
}
if (samples.length === 0) throw new Error(`${file} holds no hits with a dense score`);

/** One-feature logistic regression by Newton's method on p = sigmoid(a + b x). */
function fit(data: typeof samples): RelevanceCurve {
  let a = 0;
  let b = 0;
  for (let iter = 0; iter < 100; iter++) {
    let ga = 0, gb = 0, haa = 0, hab = 0, hbb = 0;
    for (const { x, y } of data) {
      const p = 1 / (1 + Math.exp(-(a + b * x)));
      const w = p * (1 - p);
      ga += y - p;
      gb += (y - p) * x;
      haa += w;
      hab += w * x;
      hbb += w * x * x;
    }
    const det = haa * hbb - hab * hab;
    if (det <= 0) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    a += da;
    b += db;
    if (Math.abs(da) + Math.abs(db) < 1e-9) break;
  }
  return { center: -a / b, scale: 1 / b };
}

function report(name: string, curve: RelevanceCurve): void {
  const bins = [0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0001];
  let logLoss = 0;
  const rows = bins.slice(0, -1).map((lo, i) => ({ lo, hi: bins[i + 1], n: 0, predicted: 0, relevant: 0 }));
  for (const { x, y } of samples) {
    const p = Math.min(1 - 1e-6, Math.max(1e-6, relevanceOf(curve, x)));
    logLoss -= y * Math.log(p) + (1 - y) * Math.log(1 - p);
    const row = rows.find((r) => p >= r.lo && p < r.hi)!;
    row.n++;
    row.predicted += p;
    row.relevant += y;
  }
  process.stdout.write(`${name}: center ${curve.center.toFixed(4)}, scale ${curve.scale.toFixed(4)}, log loss ${(logLoss / samples.length).toFixed(4)}\n`);
  process.stdout.write('  relevance shown   hits   mean shown   share relevant\n');
  for (const r of rows) {
    if (r.n === 0) continue;
    const range = `${r.lo.toFixed(1)}-${Math.min(1, r.hi).toFixed(1)}`;
    process.stdout.write(`  ${range.padEnd(16)}  ${String(r.n).padStart(5)}   ${(r.predicted / r.n).toFixed(3).padStart(10)}   ${(r.relevant / r.n).toFixed(3).padStart(14)}\n`);
  }
}

const positives = samples.filter((s) => s.y === 1).length;
process.stdout.write(`${samples.length} hits with a cosine, ${positives} relevant (${file})\n`);
const fitted = fit(samples);
report('fitted', fitted);
const current = relevanceCurveFor(modelId);
if (current) report(`current (${modelId})`, current);
