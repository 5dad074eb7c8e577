// Measures what batching concurrent queries into one ONNX run would cost and give (not a test):
// the cosine between each query's vector embedded alone and embedded padded together with batch-mates
// (per-tensor dynamic int8 quantization computes one scale over the whole batch), and the model time
// per query for batches of 1 and N.
// Usage: npx tsx bench/query-batch.ts [--queries 160] [--batch 16]
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig, PROJECT_ROOT } from '../src/config.js';
import { findModelFiles, usesDynamicQuantization } from '../src/embed/model-profile.js';
import { createOnnxEmbedder } from '../src/embed/onnx.js';
import { silentLogger } from '../src/obs/logger.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const evalDir = resolve(process.env.SRAG_EVAL_DIR ?? join(PROJECT_ROOT, '..', 'shared', 'eval'));
const n = Number(arg('queries', '160'));
const batch = Number(arg('batch', '16'));
const queries = readFileSync(join(evalDir, 'scifact', 'queries-train.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .slice(0, n)
  .map((l) => (JSON.parse(l) as { text: string }).text);
const config = loadConfig(process.env);
const base = { modelDir: config.embedding.modelDir, device: 'cpu' as const, threads: config.embedding.threads, logger: silentLogger };
const single = await createOnnxEmbedder({ ...base, batchSize: 1, batching: 'per-sequence' });
const padded = await createOnnxEmbedder({ ...base, batchSize: batch, batching: 'padded' });
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);

// Warm both sessions.
await single.embedDocuments(queries.slice(0, 8));
await padded.embedDocuments(queries.slice(0, 8));

let t = performance.now();
const alone: Float32Array[] = [];
for (const q of queries) alone.push((await single.embedDocuments([q]))[0]);
const aloneMs = (performance.now() - t) / queries.length;

t = performance.now();
const together: Float32Array[] = [];
for (let i = 0; i < queries.length; i += batch) together.push(...(await padded.embedDocuments(queries.slice(i, i + batch))));
const togetherMs = (performance.now() - t) / queries.length;

t = performance.now();
for (let i = 0; i < queries.length; i += batch) await single.embedDocuments(queries.slice(i, i + batch));
const sequentialMs = (performance.now() - t) / queries.length;

// Rows of one token length need no padding, but the quantization scale still spans the whole batch.
const byLength = new Map<number, number[]>();
queries.forEach((q, i) => {
  const n = single.tokenizer.encode(q, single.maxTokens).ids.length;
  byLength.set(n, [...(byLength.get(n) ?? []), i]);
});
const equalCos: number[] = [];
for (const rows of byLength.values()) {
  if (rows.length < 2) continue;
  const vs = await padded.embedDocuments(rows.map((i) => queries[i]));
  rows.forEach((i, j) => equalCos.push(dot(alone[i], vs[j])));
}
equalCos.sort((a, b) => a - b);

const cos = alone.map((v, i) => dot(v, together[i])).sort((a, b) => a - b);
const at = (p: number) => cos[Math.min(cos.length - 1, Math.floor((p / 100) * cos.length))].toFixed(5);
const dynamicInt8 = await usesDynamicQuantization((await findModelFiles(base.modelDir)).onnxPath);
console.log(`${single.modelId} (dynamically quantized: ${dynamicInt8}), ${queries.length} SciFact queries, batches of ${batch}, ${base.threads || 'default'} ORT threads`);
console.log(`cosine(alone, batched): min ${at(0)}  p1 ${at(1)}  p50 ${at(50)}  max ${cos.at(-1)!.toFixed(5)}; below 0.999: ${cos.filter((c) => c < 0.999).length}`);
if (equalCos.length > 0) {
  console.log(
    `cosine(alone, equal-length batch, no padding): min ${equalCos[0].toFixed(5)}  p50 ${equalCos[Math.floor(equalCos.length / 2)].toFixed(5)}  max ${equalCos.at(-1)!.toFixed(5)}; ${equalCos.length} rows, below 0.999: ${equalCos.filter((c) => c < 0.999).length}`,
  );
}
console.log(`model ms per query: alone ${aloneMs.toFixed(2)}; one padded run per ${batch} ${togetherMs.toFixed(2)}; ${batch} single runs pipelined ${sequentialMs.toFixed(2)}`);
await single.close();
await padded.close();
