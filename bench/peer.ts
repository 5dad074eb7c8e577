// srag against a popular TypeScript RAG stack on the same work: 1,000 SciFact documents (title + text)
// chunked at srag's defaults (SRAG_CHUNK_TOKENS / SRAG_CHUNK_OVERLAP, counted in model tokens),
// embedded with the same local bge-small-en-v1.5 int8 ONNX (CLS pooling, normalised) and stored in an
// in-process vector store. The peer is LangChain.js: RecursiveCharacterTextSplitter measuring length
// with the model's tokenizer, an Embeddings class over transformers.js feature extraction (what
// @langchain/community's HuggingFaceTransformersEmbeddings does) and MemoryVectorStore.
// Each pipeline runs in its own child process, so peak RSS (VmHWM) is its own.
// Usage: npm run bench:peer [-- --docs 1000] [--no-workflow]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = resolve(import.meta.dirname, '..');
const MODEL_DIR = join(ROOT, '.cache/models/bge-small-en-v1.5-q');
const MODEL_NAME = 'bge-small-en-v1.5-q';
const TRANSFORMERS_ROOT = join(ROOT, '.cache/transformers');

const { values } = parseArgs({
  options: {
    docs: { type: 'string', default: '1000' },
    child: { type: 'string' },
    'no-workflow': { type: 'boolean', default: false },
  },
});
const DOCS = Number(values.docs);

interface Result {
  pipeline: string;
  documents: number;
  chunks: number;
  seconds: number;
  loadSeconds: number;
  peakRssMb: number;
  note?: string;
  sample?: { text: string; vector: number[] }[];
}

function peakRssMb(pid: number | string = 'self'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

function corpus(): { title: string; text: string }[] {
  const lines = readFileSync(join(ROOT, '../shared/eval/scifact/corpus.jsonl'), 'utf8').split('\n').filter(Boolean);
  return lines.slice(0, DOCS).map((l) => JSON.parse(l) as { title: string; text: string });
}

/** The same text srag chunks for a JSONL record: title, blank line, text. */
const docText = (d: { title: string; text: string }) => (d.title ? `${d.title}\n\n${d.text}` : d.text);

/**
 * transformers.js wants a Hub-shaped directory: config.json, tokenizer files and onnx/model_quantized.onnx.
 * Built from srag's model files by links, plus the small configs a BertModel with this tokenizer needs.
 */
function transformersLayout(): void {
  const dir = join(TRANSFORMERS_ROOT, MODEL_NAME);
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  const link = (target: string, path: string) => {
    if (!existsSync(path)) symlinkSync(target, path);
  };
  link(join(MODEL_DIR, `${MODEL_NAME}.onnx`), join(dir, 'onnx/model_quantized.onnx'));
  link(join(MODEL_DIR, `${MODEL_NAME}-tokenizer.json`), join(dir, 'tokenizer.json'));
  // bge-small-en-v1.5: BERT, 12 layers, hidden size 384, 512 positions, uncased WordPiece.
  const config = {
    architectures: ['BertModel'],
    model_type: 'bert',
    hidden_size: 384,
    num_hidden_layers: 12,
    num_attention_heads: 12,
    intermediate_size: 1536,
    max_position_embeddings: 512,
    vocab_size: 30522,
    type_vocab_size: 2,
    pad_token_id: 0,
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const tokenizerConfig = {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: true,
    model_max_length: 512,
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    mask_token: '[MASK]',
    clean_up_tokenization_spaces: true,
  };
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig, null, 2));
}

// ---- the peer: LangChain.js + transformers.js -------------------------------------------------------
// Each pipeline imports its libraries inside its own child, so its peak RSS holds nothing of the other.

async function runLangChain(): Promise<Result> {
  const { env, pipeline, AutoTokenizer } = await import('@huggingface/transformers');
  const { Embeddings } = await import('@langchain/core/embeddings');
  const { Document } = await import('@langchain/core/documents');
  const { RecursiveCharacterTextSplitter } = await import('@langchain/textsplitters');
  const { MemoryVectorStore } = await import('@langchain/classic/vectorstores/memory');
  const { loadConfig } = await import('../src/config.js');
  const chunk = loadConfig(process.env).chunk;

  env.allowRemoteModels = false;
  env.localModelPath = TRANSFORMERS_ROOT + '/';
  const t0 = performance.now();
  const tokenizer = await AutoTokenizer.from_pretrained(MODEL_NAME);
  const extractor = await pipeline('feature-extraction', MODEL_NAME, { dtype: 'q8', device: 'cpu' });

  class TransformersEmbeddings extends Embeddings {
    constructor(private readonly batchSize = 512) {
      super({});
    }
    async embedDocuments(texts: string[]): Promise<number[][]> {
      const out: number[][] = [];
      for (let i = 0; i < texts.length; i += this.batchSize) out.push(...(await this.#embed(texts.slice(i, i + this.batchSize))));
      return out;
    }
    async embedQuery(text: string): Promise<number[]> {
      return (await this.#embed([text]))[0];
    }
    async #embed(texts: string[]): Promise<number[][]> {
      const output = await extractor(texts.map((t) => t.replace(/\n/g, ' ')), { pooling: 'cls', normalize: true });
      return output.tolist() as number[][];
    }
  }
  const embeddings = new TransformersEmbeddings();
  await embeddings.embedQuery('warm up');
  const loadSeconds = (performance.now() - t0) / 1000;

  const docs = corpus();
  const start = performance.now();
  const splitter = new RecursiveCharacterTextSplitter({
    chunkSize: chunk.maxTokens,
    chunkOverlap: chunk.overlapTokens,
    lengthFunction: (text: string) => tokenizer.encode(text, { add_special_tokens: false }).length,
  });
  const chunks = await splitter.splitDocuments(docs.map((d) => new Document({ pageContent: docText(d), metadata: { title: d.title } })));
  const store = new MemoryVectorStore(embeddings);
  await store.addDocuments(chunks);
  const seconds = (performance.now() - start) / 1000;
  if (store.memoryVectors.length !== chunks.length) throw new Error('the store did not keep every chunk');
  const sample = await sampleVectors((texts) => embeddings.embedDocuments(texts));
  return { pipeline: 'LangChain.js + transformers.js', documents: docs.length, chunks: chunks.length, seconds, loadSeconds, peakRssMb: peakRssMb(), sample };
}

// ---- srag, in process: parse, chunk, embed, embedded index ------------------------------------------

async function runSragRaw(): Promise<Result> {
  const { loadConfig } = await import('../src/config.js');
  const { chunkDocument } = await import('../src/domain/chunker.js');
  const { chunkId, documentIdFor, sha256Hex } = await import('../src/domain/ids.js');
  const { createOnnxEmbedder } = await import('../src/embed/onnx.js');
  const { createEmbeddedIndex } = await import('../src/index/embedded.js');
  const { PIECE_CHUNKS } = await import('../src/ingest/embed-batch.js');
  const { silentLogger } = await import('../src/obs/logger.js');
  const { parseSource } = await import('../src/parse/index.js');
  const { openTokenCounterAt } = await import('../src/runtime.js');
  const config = loadConfig({ ...process.env, SRAG_MODEL_DIR: MODEL_DIR });

  const t0 = performance.now();
  const counter = await openTokenCounterAt(MODEL_DIR);
  const embedder = await createOnnxEmbedder({
    modelDir: MODEL_DIR,
    device: 'cpu',
    batchSize: config.embedding.batchSize,
    threads: config.embedding.threads,
    logger: silentLogger,
  });
  await embedder.embedQuery('warm up');
  const dir = mkdtempSync(join(tmpdir(), 'srag-peer-'));
  const index = await createEmbeddedIndex(dir, { logger: silentLogger });
  const loadSeconds = (performance.now() - t0) / 1000;
  try {
    const docs = corpus();
    const start = performance.now();
    const jsonl = Buffer.from(docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
    const parsed = await parseSource(jsonl, { filename: 'corpus.jsonl', limits: { maxFileBytes: 1 << 30, maxPages: 1 } });
    if (parsed.kind !== 'records') throw new Error('expected JSONL records');
    const collection = 'peer-bench';
    await index.ensureCollection(collection, embedder.dimension);
    let chunks = 0;
    const pending: { id: string; text: string; payload: Parameters<typeof index.upsert>[1][number]['payload'] }[] = [];
    const flush = async () => {
      const piece = pending.splice(0, pending.length);
      const vectors = await embedder.embedDocuments(piece.map((p) => p.text));
      await index.upsert(collection, piece.map((p, i) => ({ id: p.id, vector: vectors[i], payload: p.payload })));
    };
    for (const [n, r] of parsed.records.entries()) {
      const text = docText({ title: r.title ?? '', text: r.text });
      const headings = r.title ? [{ start: 0, end: r.title.length, level: 1, text: r.title }] : [];
      const drafts = chunkDocument({ type: 'jsonl', text, pages: [], headings }, config.chunk, counter);
      const documentId = documentIdFor(`peer-bench:${n}`);
      const contentHash = sha256Hex(text);
      for (const d of drafts) {
        pending.push({
          id: chunkId(documentId, contentHash, d.index, 'peer-bench'),
          text: d.text,
          payload: {
            documentId,
            contentHash,
            chunkIndex: d.index,
            chunkCount: drafts.length,
            text: d.text,
            start: d.start,
            end: d.end,
            title: r.title ?? '',
            source: 'corpus.jsonl',
            type: 'jsonl',
            acl: [],
          },
        });
        if (pending.length >= PIECE_CHUNKS) await flush();
      }
      chunks += drafts.length;
    }
    if (pending.length > 0) await flush();
    const seconds = (performance.now() - start) / 1000;
    const sample = await sampleVectors((texts) => embedder.embedDocuments(texts).then((vs) => vs.map((v) => Array.from(v))));
    return { pipeline: 'srag (chunk + embed + embedded index)', documents: docs.length, chunks, seconds, loadSeconds, peakRssMb: peakRssMb(), sample };
  } finally {
    await embedder.close();
    await index.close?.();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- srag, the full workflow pipeline (dev server + worker processes), as bench/ingest.ts -----------

async function runSragWorkflow(): Promise<Result> {
  const { startStack } = await import('../test/support/stack.js');
  const { createJobService } = await import('../src/temporal/jobs.js');
  const { openStore } = await import('../src/runtime.js');
  const work = mkdtempSync(join(tmpdir(), 'srag-peer-wf-'));
  const file = join(work, 'corpus.jsonl');
  writeFileSync(file, corpus().map((d) => JSON.stringify(d)).join('\n') + '\n');
  const t0 = performance.now();
  const stack = await startStack({ SRAG_MODEL_DIR: MODEL_DIR });
  try {
    const workers = await stack.startWorkers();
    const loadSeconds = (performance.now() - t0) / 1000;
    const jobs = createJobService({
      client: stack.client,
      store: openStore(stack.config),
      taskQueue: stack.config.temporal.taskQueue,
      embedTaskQueue: stack.config.temporal.embedTaskQueue,
      pipeline: stack.pipeline,
      concurrency: stack.config.ingest.concurrency,
    });
    const start = performance.now();
    const { jobId } = await jobs.submit([{ kind: 'path', path: file }], []);
    let report = await jobs.get(jobId);
    while (report.status === 'running') {
      await new Promise((r) => setTimeout(r, 200));
      report = await jobs.get(jobId);
    }
    const seconds = (performance.now() - start) / 1000;
    const peaks = workers.map((w) => peakRssMb(w.pid!));
    await Promise.all(workers.map((w) => w.stop()));
    return {
      pipeline: 'srag workflows (Temporal + workers)',
      documents: report.documents.done,
      chunks: report.chunks,
      seconds,
      loadSeconds,
      peakRssMb: peaks.reduce((a, b) => a + b, 0),
      note: `${report.status}; RSS is the sum of the ingest and embed workers (${peaks.map((p) => p.toFixed(0)).join(' + ')} MB); the dev server and this process hold the stack's own embedder`,
    };
  } finally {
    await stack.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** A few fixed passages embedded by a pipeline, to check that both really compute the same vectors. */
async function sampleVectors(embed: (texts: string[]) => Promise<number[][]>): Promise<{ text: string; vector: number[] }[]> {
  const texts = corpus()
    .slice(0, 5)
    .map((d) => d.text.slice(0, 600));
  const vectors = await embed(texts);
  return texts.map((text, i) => ({ text, vector: vectors[i] }));
}

// ---- parent: one child per pipeline, then the table ------------------------------------------------

function runChild(kind: string): Promise<Result> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, import.meta.filename, '--child', kind, '--docs', String(DOCS)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) reject(new Error(`${kind} child exited ${code}: ${out.slice(-2000)}`));
      else resolvePromise(JSON.parse(line.slice('RESULT '.length)) as Result);
    });
  });
}

const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);

if (values.child) {
  const run = { langchain: runLangChain, srag: runSragRaw, workflow: runSragWorkflow }[values.child];
  if (!run) throw new Error(`unknown child ${values.child}`);
  const result = await run();
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
} else {
  transformersLayout();
  console.log(`# ${DOCS} SciFact documents; ${cpus().length} cpus, load ${loadavg()[0].toFixed(1)} at start (shared machine), node ${process.version}`);
  const results: Result[] = [];
  // The peer first, then srag: later runs do not get a warmer page cache for the model than the first.
  for (const kind of ['langchain', 'srag', ...(values['no-workflow'] ? [] : ['workflow'])]) {
    const r = await runChild(kind);
    results.push(r);
    console.log(`  done: ${r.pipeline} (load ${loadavg()[0].toFixed(1)})`);
  }
  const [peer, srag] = results;
  const rows = results.map((r) => ({
    pipeline: r.pipeline,
    docs: r.documents,
    chunks: r.chunks,
    's (ingest)': r.seconds.toFixed(1),
    'docs/s': (r.documents / r.seconds).toFixed(1),
    'chunks/s': (r.chunks / r.seconds).toFixed(1),
    'peak RSS MB': r.peakRssMb.toFixed(0),
    's (load)': r.loadSeconds.toFixed(1),
  }));
  console.table(rows);
  for (const r of results) if (r.note) console.log(`note (${r.pipeline}): ${r.note}`);
  const cos = peer.sample!.map((s, i) => cosine(s.vector, srag.sample![i].vector));
  console.log(`same passages embedded by both: cosine min ${Math.min(...cos).toFixed(4)}, mean ${(cos.reduce((a, b) => a + b, 0) / cos.length).toFixed(4)}`);
  const rate = (r: Result) => r.chunks / r.seconds;
  console.log(`srag raw / peer: ${(rate(srag) / rate(peer)).toFixed(2)}x chunks/s, ${(srag.documents / srag.seconds / (peer.documents / peer.seconds)).toFixed(2)}x docs/s, ${(srag.peakRssMb / peer.peakRssMb).toFixed(2)}x peak RSS (goal: >= 1.5x chunks/s)`);
  if (results[2]) {
    const wf = results[2];
    console.log(`srag workflow pipeline / raw: ${(rate(wf) / rate(srag)).toFixed(2)}; workflow / peer: ${(rate(wf) / rate(peer)).toFixed(2)}x chunks/s`);
  }
}
