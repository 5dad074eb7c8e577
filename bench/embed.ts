// Raw ONNX embedder throughput by batching mode and thread count: npx tsx bench/embed.ts [passages] [reps]
import { loadConfig } from '../src/config.js';
import { createOnnxEmbedder } from '../src/embed/onnx.js';
import { loadWordPieceTokenizer } from '../src/embed/wordpiece.js';
import { silentLogger } from '../src/obs/logger.js';
import { cpus, loadavg } from 'node:os';
const MODEL = loadConfig(process.env).embedding.modelDir;
const SENTENCES = [
  'Interleukin-6 is a pleiotropic cytokine that regulates acute-phase responses, haematopoiesis and B-cell differentiation.',
  'In a randomised, double-blind trial of 412 adults, tocilizumab reduced the need for mechanical ventilation by 31 percent.',
  'Serum concentrations were measured by enzyme-linked immunosorbent assay at baseline, day 7 and day 28.',
  'Photosynthetic efficiency in C4 grasses depends on the spatial separation of carbon fixation between mesophyll and bundle-sheath cells.',
  'The authors report a hazard ratio of 0.72 (95% CI 0.58-0.89) for all-cause mortality after adjustment for age and comorbidities.',
  'Retrieval-augmented generation conditions a language model on passages selected from an external corpus by a dense retriever.',
  'Sediment cores from the continental shelf reveal three distinct depositional phases during the late Holocene.',
  'Transcriptomic profiling identified 1,284 differentially expressed genes, many of them enriched in interferon signalling pathways.',
  'Lithium iron phosphate cathodes retain over 90 percent of their capacity after 2,000 charge-discharge cycles at room temperature.',
  'The committee recommended that the guideline be revised once the results of the ongoing multicentre study become available.',
];
const n = Number(process.argv[2] ?? 512);
const reps = Number(process.argv[3] ?? 1);
let seed = 42; const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
const passages = Array.from({ length: n }, () => {
  const out: string[] = []; let words = 0;
  while (words < 200) { const s = SENTENCES[Math.floor(rnd() * SENTENCES.length)]; out.push(s); words += s.split(' ').length; }
  return out.join(' ');
});
const tok = await loadWordPieceTokenizer(`${MODEL}/bge-small-en-v1.5-q-tokenizer.json`);
const lens = passages.map((p) => tok.encode(p).ids.length);
console.log(`# ${n} passages, mean ${Math.round(passages.reduce((a, p) => a + p.split(' ').length, 0) / n)} words, mean ${Math.round(lens.reduce((a, b) => a + b, 0) / n)} tokens (max ${Math.max(...lens)}), ${cpus().length} cpus, node ${process.version}`);
const configs: [('padded' | 'per-sequence'), number, number][] = [];
for (const threads of [0, 2]) {
  configs.push(['per-sequence', 32, threads]);
  for (const bs of [8, 32, 64]) configs.push(['padded', bs, threads]);
}
for (const [batching, batchSize, threads] of configs) {
  const e = await createOnnxEmbedder({ modelDir: MODEL, device: 'cpu', batchSize, threads, logger: silentLogger, batching });
  await e.embedDocuments(passages.slice(0, 4));
  const times: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now(); await e.embedDocuments(passages); times.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0); cpu.push((c.user + c.system) / 1e6);
  }
  await e.close();
  const best = Math.min(...times);
  console.log(`batching=${batching} batch=${batchSize} threads=${threads}: best ${best.toFixed(1)} s -> ${(n / best).toFixed(1)} chunks/s (runs: ${times.map((t) => t.toFixed(1)).join(', ')} s; ${(Math.min(...cpu) / n * 1000).toFixed(0)} cpu-ms/chunk; load ${loadavg()[0].toFixed(1)})`);
}
