// Scale benchmark of the vector index (not a test): per size and backend, in one run, N synthetic
// 384-d unit vectors with realistic payloads (20 chunks a document, ~100 characters of text, ACLs drawn
// from 20 groups, a tenth of the documents public) go in through the VectorIndex port in batches; then
// it reports the upsert rate, the embedded index's start-up (open + replay of its files) in a fresh
// process, memory (RSS, peak RSS, V8 heap) after the load and after that start-up, disk bytes, and
// top-10 latency p50/p99 over random queries without a filter and with an ACL filter (aclAny of 2
// groups). Each phase runs in its own child process, so one size's memory never shows in another's.
// Qdrant runs when QDRANT_URL is set (its memory and disk are the server's, not measured from here).
// `embedded-int8` serves the same files with the int8 scan and f32 rescoring, and adds its recall@10
// against the exact top-10 of the same queries.
// Usage: npm run bench:scale -- [--sizes 10000,100000,1000000] [--backend embedded,embedded-int8,qdrant]
//                               [--queries 200] [--batch 1000] [--json]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ChunkPayload } from '../src/domain/types.js';
import { createEmbeddedIndex } from '../src/index/embedded.js';
import type { IndexPoint, PointFilter, VectorIndex } from '../src/index/port.js';
import { createQdrantIndex } from '../src/index/qdrant/qdrant-index.js';
import { createLogger } from '../src/obs/logger.js';
import { randomUnit, rng } from '../test/support/random.js';
import { percentile } from './scratch-index.js';

const DIM = 384;
const GROUPS = 20;
const CHUNKS_PER_DOCUMENT = 20;
const COLLECTION = 'scale';
const WORDS = ['policy', 'invoice', 'travel', 'contract', 'budget', 'quarter', 'review', 'security', 'release', 'customer', 'incident', 'vendor'];

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000' },
    backend: { type: 'string', default: 'embedded,embedded-int8,qdrant' },
    queries: { type: 'string', default: '200' },
    batch: { type: 'string', default: '1000' },
    json: { type: 'boolean', default: false },
    // Child-process options, set by the parent.
    child: { type: 'string' },
    size: { type: 'string' },
    dir: { type: 'string' },
  },
});
const QUERIES = Number(values.queries);
const BATCH = Number(values.batch);

interface Memory {
  rssMb: number;
  peakRssMb: number;
  heapMb: number;
}

interface Latency {
  p50Ms: number;
  p99Ms: number;
}

interface Row {
  backend: string;
  points: number;
  upsertPerSec?: number;
  loadSeconds?: number;
  afterLoad?: Memory;
  startupSeconds?: number;
  afterStartup?: Memory;
  diskMb?: number;
  search?: Latency;
  searchAcl?: Latency;
  /** Share of the points the ACL filter lets through. */
  aclSelectivity?: number;
  /** int8 scan: share of the exact top-10 found, over the queries with and without the filter. */
  recallAt10?: number;
  note?: string;
}

// ---- synthetic data: the same seed gives the same points and queries to every backend -------------------

/** A valid UUID per point number (Qdrant takes only UUIDs or integers as ids). */
const pointId = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

/** xorshift's first draws follow its seed closely: spread small seeds over 32 bits first. */
const seeded = (n: number) => rng(Math.imul(n + 1, 0x9e3779b1) >>> 0);

function documentAcl(doc: number, next: () => number): string[] {
  if (doc % 10 === 0) return [];
  const first = Math.floor(next() * GROUPS);
  const acl = [`group-${first}`];
  if (next() < 0.5) acl.push(`group-${(first + 1 + Math.floor(next() * (GROUPS - 1))) % GROUPS}`);
  return acl;
}

function chunkText(next: () => number): string {
  const words: string[] = [];
  let length = 0;
  while (length < 100) {
    const word = WORDS[Math.floor(next() * WORDS.length)];
    words.push(word);
    length += word.length + 1;
  }
  return words.join(' ');
}

/** Points [from, to) of the synthetic collection; each batch draws from its own seed, so any batch can be made alone. */
function batchOf(from: number, to: number, total: number): IndexPoint[] {
  const next = seeded(from);
  const points: IndexPoint[] = [];
  let acl: string[] = [];
  for (let n = from; n < to; n++) {
    const doc = Math.floor(n / CHUNKS_PER_DOCUMENT);
    if (n === from || n % CHUNKS_PER_DOCUMENT === 0) acl = documentAcl(doc, seeded(doc));
    const text = chunkText(next);
    const payload: ChunkPayload = {
      documentId: `doc-${doc}`,
      contentHash: `sha256-${doc.toString(16).padStart(8, '0')}`,
      chunkIndex: n % CHUNKS_PER_DOCUMENT,
      chunkCount: Math.min(CHUNKS_PER_DOCUMENT, total - doc * CHUNKS_PER_DOCUMENT),
      text,
      start: (n % CHUNKS_PER_DOCUMENT) * 100,
      end: (n % CHUNKS_PER_DOCUMENT) * 100 + text.length,
      title: `Document ${doc}`,
      source: `docs/document-${doc}.pdf`,
      type: 'pdf',
      page: 1 + (n % CHUNKS_PER_DOCUMENT),
      acl,
    };
    points.push({ id: pointId(n), vector: randomUnit(DIM, next), payload });
  }
  return points;
}

const ACL_FILTER: PointFilter = { aclAny: ['group-3', 'group-11'] };

// ---- measurements ------------------------------------------------------------------------------------

function memory(): Memory {
  (globalThis as { gc?: () => void }).gc?.();
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
  return { rssMb: mb(kb('VmRSS') * 1024), peakRssMb: mb(kb('VmHWM') * 1024), heapMb: mb(process.memoryUsage().heapUsed) };
}

async function diskBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

async function load(index: VectorIndex, n: number): Promise<{ upsertPerSec: number; loadSeconds: number }> {
  await index.ensureCollection(COLLECTION, DIM);
  // Only the upsert calls are timed: drawing the synthetic data is not the index's work.
  let upsertMs = 0;
  const started = performance.now();
  for (let from = 0; from < n; from += BATCH) {
    const batch = batchOf(from, Math.min(n, from + BATCH), n);
    const t = performance.now();
    await index.upsert(COLLECTION, batch);
    upsertMs += performance.now() - t;
  }
  return { upsertPerSec: Math.round(n / (upsertMs / 1000)), loadSeconds: +((performance.now() - started) / 1000).toFixed(1) };
}

function queryVectors(): Float32Array[] {
  const next = rng(424242);
  return Array.from({ length: QUERIES }, () => randomUnit(DIM, next));
}

async function latencies(index: VectorIndex, filter?: PointFilter): Promise<Latency> {
  const queries = queryVectors();
  for (const q of queries.slice(0, 10)) await index.search(COLLECTION, q, 10, filter);
  const times: number[] = [];
  for (const q of queries) {
    const t = performance.now();
    await index.search(COLLECTION, q, 10, filter);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { p50Ms: +percentile(times, 50).toFixed(2), p99Ms: +percentile(times, 99).toFixed(2) };
}

async function queryFigures(index: VectorIndex, n: number): Promise<Pick<Row, 'search' | 'searchAcl' | 'aclSelectivity'>> {
  return {
    search: await latencies(index),
    searchAcl: await latencies(index, ACL_FILTER),
    aclSelectivity: +((await index.count(COLLECTION, ACL_FILTER)) / n).toFixed(3),
  };
}

// ---- children: one phase each ------------------------------------------------------------------------

async function embeddedLoad(dir: string, n: number): Promise<Partial<Row>> {
  const index = await createEmbeddedIndex(dir);
  try {
    const figures = await load(index, n);
    return { ...figures, afterLoad: memory() };
  } finally {
    await index.close();
  }
}

async function recallAt10(index: VectorIndex): Promise<number> {
  let found = 0;
  let wanted = 0;
  for (const q of queryVectors()) {
    for (const filter of [undefined, ACL_FILTER]) {
      const truth = new Set((await index.search(COLLECTION, q, 10, filter, { exact: true })).map((h) => h.id));
      found += (await index.search(COLLECTION, q, 10, filter)).filter((h) => truth.has(h.id)).length;
      wanted += truth.size;
    }
  }
  return +(found / wanted).toFixed(4);
}

async function embeddedServe(dir: string, n: number, quantization: 'none' | 'int8'): Promise<Partial<Row>> {
  const started = performance.now();
  const index = await createEmbeddedIndex(dir, { readOnly: true, quantization });
  const startupSeconds = +((performance.now() - started) / 1000).toFixed(2);
  try {
    const afterStartup = memory();
    const figures = { startupSeconds, afterStartup, ...(await queryFigures(index, n)), diskMb: Math.round((await diskBytes(dir)) / 1024 / 1024) };
    return quantization === 'int8' ? { ...figures, recallAt10: await recallAt10(index) } : figures;
  } finally {
    await index.close();
  }
}

async function qdrantAll(n: number): Promise<Partial<Row>> {
  const index = await createQdrantIndex({ url: process.env.QDRANT_URL!, apiKey: process.env.QDRANT_API_KEY, logger: createLogger('warn') });
  try {
    await index.dropCollection(COLLECTION);
    const figures = await load(index, n);
    // Timed once the optimizer has built the HNSW graph, as a served collection would be.
    await index.waitUntilOptimized(COLLECTION, { timeoutMs: 3_600_000 });
    return { ...figures, ...(await queryFigures(index, n)), note: 'Qdrant memory, disk and start-up are the server\'s: not measured from here' };
  } finally {
    await index.dropCollection(COLLECTION).catch(() => undefined);
    await index.close();
  }
}

async function runChildPhase(phase: string, n: number, dir: string): Promise<Partial<Row>> {
  if (phase === 'embedded-load') return embeddedLoad(dir, n);
  if (phase === 'embedded-serve') return embeddedServe(dir, n, 'none');
  if (phase === 'embedded-int8-serve') return embeddedServe(dir, n, 'int8');
  if (phase === 'qdrant') return qdrantAll(n);
  throw new Error(`unknown phase ${phase}`);
}

// ---- parent ------------------------------------------------------------------------------------------

function child(phase: string, n: number, dir = ''): Promise<Partial<Row>> {
  const args = [...process.execArgv, '--expose-gc', import.meta.filename, '--child', phase, '--size', String(n), '--dir', dir];
  args.push('--queries', String(QUERIES), '--batch', String(BATCH));
  return new Promise((resolvePromise, reject) => {
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.on('error', reject);
    proc.on('exit', (code, signal) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code === 0 && line) resolvePromise(JSON.parse(line.slice('RESULT '.length)) as Partial<Row>);
      else reject(new Error(`${phase} at ${n} points ended with ${signal ?? `exit code ${code}`}`));
    });
  });
}

const failed = (backend: string, n: number, err: unknown): Row => ({ backend, points: n, note: `failed: ${err instanceof Error ? err.message : String(err)}` });

/** One load, then each embedded variant served from the same files in its own process. */
async function measureEmbedded(n: number, variants: string[]): Promise<Row[]> {
  const dir = await mkdtemp(join(tmpdir(), 'srag-bench-scale-'));
  try {
    let loaded: Partial<Row>;
    try {
      loaded = await child('embedded-load', n, dir);
    } catch (err) {
      return variants.map((v) => failed(v, n, err));
    }
    const rows: Row[] = [];
    for (const backend of variants) {
      try {
        rows.push({ backend, points: n, ...loaded, ...(await child(`${backend}-serve`, n, dir)) });
      } catch (err) {
        rows.push(failed(backend, n, err));
      }
    }
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function measureQdrant(n: number): Promise<Row> {
  if (!process.env.QDRANT_URL) return { backend: 'qdrant', points: n, note: 'not measured here: set QDRANT_URL' };
  try {
    return { backend: 'qdrant', points: n, ...(await child('qdrant', n)) };
  } catch (err) {
    return failed('qdrant', n, err);
  }
}

const cell = (value: number | undefined, width: number, digits = 0) => (value === undefined ? '-' : value.toFixed(digits)).padStart(width);

function printRow(r: Row): void {
  const mem = (m: Memory | undefined) => (m ? `${m.rssMb}/${m.peakRssMb}/${m.heapMb}` : '-').padStart(16);
  const lat = (l: Latency | undefined) => (l ? `${l.p50Ms.toFixed(1)}/${l.p99Ms.toFixed(1)}` : '-').padStart(13);
  console.log(
    `${r.backend.padEnd(14)}${cell(r.points, 9)}${cell(r.upsertPerSec, 10)}${cell(r.startupSeconds, 10, 2)}${mem(r.afterLoad)}${mem(r.afterStartup)}` +
      `${cell(r.diskMb, 8)}${lat(r.search)}${lat(r.searchAcl)}${cell(r.aclSelectivity, 6, 2)}${cell(r.recallAt10, 8, 3)}${r.note ? `  ${r.note}` : ''}`,
  );
}

if (values.child) {
  const result = await runChildPhase(values.child, Number(values.size), values.dir ?? '');
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
} else {
  const sizes = values.sizes.split(',').map((s) => Number(s.replace(/_/g, '')));
  const backends = values.backend.split(',').map((s) => s.trim());
  if (sizes.some((n) => !(Number.isInteger(n) && n > 0)) || !(QUERIES > 0) || !(BATCH > 0)) throw new Error('--sizes, --queries and --batch take positive integers');
  const unknown = backends.filter((b) => !['embedded', 'embedded-int8', 'qdrant'].includes(b));
  if (unknown.length > 0) throw new Error(`unknown backend ${unknown.join(', ')} (embedded, embedded-int8, qdrant)`);
  if (!values.json) {
    console.log(`# ${DIM}-d synthetic unit vectors, top-10, ${QUERIES} queries, upsert batches of ${BATCH}; ${cpus().length} cpus, ${Math.round(totalmem() / 1024 ** 3)} GiB, load ${loadavg()[0].toFixed(1)} at start, node ${process.version}`);
    console.log('# memory columns: RSS/peak RSS/V8 heap in MB; latency columns: p50/p99 in ms; acl%: share of points the ACL filter lets through; recall: int8 top-10 vs exact');
    console.log(`${'backend'.padEnd(14)}${'points'.padStart(9)}${'upsert/s'.padStart(10)}${'start s'.padStart(10)}${'mem load'.padStart(16)}${'mem start'.padStart(16)}${'disk MB'.padStart(8)}${'top-10'.padStart(13)}${'top-10 acl'.padStart(13)}${'acl%'.padStart(6)}${'recall'.padStart(8)}`);
  }
  for (const n of sizes) {
    const embedded = backends.filter((b) => b.startsWith('embedded'));
    const rows = embedded.length > 0 ? await measureEmbedded(n, embedded) : [];
    if (backends.includes('qdrant')) rows.push(await measureQdrant(n));
    for (const row of rows) {
      if (values.json) console.log(JSON.stringify({ ...row, dim: DIM, queries: QUERIES, node: process.version }));
      else printRow(row);
    }
  }
}
