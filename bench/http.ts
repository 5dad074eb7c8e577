// Load benchmark of the query API (not a test): POST /v1/search (hybrid, k=10) and POST /v1/query
// (hybrid, k=8, extractive answers) at 1 and 16 connections, over SciFact indexed as `srag eval`
// indexes it (the scratch index under .cache/eval is reused or built). The API runs in a child process
// with the real embedder, index (read-only, as `srag up` serves it), BM25, answerer, audit log and
// metrics; autocannon drives it over loopback from this process. Prints client-side p50/p95/p99 and
// the server's split of time between query embedding, retrieval, answer generation and the rest
// (from its /metrics histograms).
// /v1/search is measured once per query-embedding variant, each served by its own app in the same
// child over the same model and index: `off` (no batcher: every request calls the model), `queued`
// (concurrent queries wait and share model calls, even for a model that runs one row per call),
// `batcher` (the served default: queued for models that batch rows, straight through with in-flight
// de-duplication for one-row-per-call models) and `batcher+lru` (plus the LRU of recent query
// vectors), over distinct queries (the train queries in turn) and repeated ones (a pool of 50), and
// printed with p99 ratios against the variant without the feature.
// Usage: npx tsx bench/http.ts [--seconds 10] [--connections 1,16] [--docs N] [--window 1] [--max 16] [--cache 1024] [--json]
//   SRAG_EVAL_DIR overrides the evaluation folder (default ../shared/eval beside the repository).
import autocannon from 'autocannon';
import { fork, type ChildProcess } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { loadConfig, PROJECT_ROOT } from '../src/config.js';
import { createQueryBatcher, type QueryBatcherOptions } from '../src/embed/batcher.js';
import { createEmbedder } from '../src/embed/factory.js';
import type { Embedder } from '../src/embed/port.js';
import { AppError } from '../src/errors.js';
import { createConfiguredAnswerer } from '../src/generate/factory.js';
import { createApp } from '../src/http/app.js';
import { createEmbeddedIndex } from '../src/index/embedded.js';
import { createLexicalIndex } from '../src/index/lexical.js';
import { openAuditLog } from '../src/obs/audit.js';
import { createLogger } from '../src/obs/logger.js';
import { createMetrics } from '../src/obs/metrics.js';
import { createLexicalSource } from '../src/query/lexical-source.js';
import { createSearchService } from '../src/query/search.js';
import { createFsBlobStore } from '../src/store/fs.js';
import type { JobService } from '../src/temporal/jobs.js';
import { ensureScratchIndex, percentile } from './scratch-index.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const evalDir = resolve(process.env.SRAG_EVAL_DIR ?? join(PROJECT_ROOT, '..', 'shared', 'eval'));
const scifact = join(evalDir, 'scifact');

type Variant = 'off' | 'queued' | 'batcher' | 'batcher+lru';

/**
 * The corpus to serve: all of SciFact, or with --docs N its first N documents (a stable file under
 * the cache, so the scratch index built for it is reused); on a busy machine embedding all 9,648
 * chunks first can take longer than the benchmark itself.
 */
function corpusFor(cacheDir: string): string {
  const all = join(scifact, 'corpus.jsonl');
  const docs = Number(arg('docs', '0'));
  if (!(docs > 0)) return all;
  const dir = join(cacheDir, 'eval', `scifact-first-${docs}`);
  const path = join(dir, 'corpus.jsonl');
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    const lines = readFileSync(all, 'utf8').split('\n').filter(Boolean).slice(0, docs);
    writeFileSync(path, lines.join('\n') + '\n');
  }
  return path;
}

/** The API over the SciFact scratch index, one app per variant; tells the parent their URLs, stops on SIGTERM. */
async function serve(): Promise<void> {
  // No LLM in this benchmark: answers are extractive whatever the environment says.
  const config = loadConfig({ ...process.env, LLM_URL: '' });
  const logger = createLogger('warn');
  const embedder = await createEmbedder(config.embedding, logger);
  const scratch = await ensureScratchIndex(config, embedder, corpusFor(config.cacheDir));
  const index = await createEmbeddedIndex(scratch.dir, { readOnly: true, logger });
  const work = mkdtempSync(join(tmpdir(), 'srag-bench-http-'));
  const unused = async (): Promise<never> => {
    throw new AppError('TEMPORAL_UNAVAILABLE', 'no job service in this benchmark');
  };
  const jobs: JobService = { submit: unused, get: unused, list: unused, cancel: unused };
  const collection = async () => scratch.collection;
  const { answerer, generator } = createConfiguredAnswerer(config.llm, logger);
  const store = createFsBlobStore(join(work, 'store'));
  const audit = await openAuditLog({ dir: join(work, 'audit'), rotateBytes: 64 << 20 });
  // One BM25 projection for every variant: they differ in query embedding only.
  const lexical = createLexicalSource((c) => createLexicalIndex(index, c), { logger });
  const batching = { windowMs: Number(arg('window', '1')), maxBatch: Number(arg('max', '16')) };
  const cacheSize = Number(arg('cache', '1024'));
  const variants: Record<Variant, QueryBatcherOptions | undefined> = {
    off: undefined,
    queued: { ...batching, cacheSize: 0, queuePerRowModels: true },
    batcher: { ...batching, cacheSize: 0 },
    'batcher+lru': { ...batching, cacheSize },
  };
  const modelCalls: Record<string, { calls: number; texts: number }> = {};
  const urls: Record<string, string> = {};
  const servers: Server[] = [];
  for (const [variant, options] of Object.entries(variants)) {
    const counts = (modelCalls[variant] = { calls: 0, texts: 0 });
    const queryEmbedder: Embedder = options
      ? createQueryBatcher(embedder, { ...options, onBatch: (b) => void ((counts.calls += 1), (counts.texts += b.texts)) })
      : embedder;
    const app = createApp({
      jobs,
      documents: { store, index, collection, client: {} as Client, taskQueue: config.temporal.taskQueue },
      store,
      search: createSearchService({ index, embedder: queryEmbedder, collection, lexical }),
      query: { answerer, defaults: { generator } },
      readiness: async () => ({}),
      auth: { tokens: new Map() },
      audit,
      metrics: createMetrics({ defaults: variant === 'off' }),
      logger,
      limits: { maxFileBytes: config.limits.maxFileBytes, maxJsonBytes: config.http.maxJsonBytes, maxFiles: 10, maxUploadBytes: config.http.maxUploadBytes },
      pathRoots: [],
      cwd: work,
    });
    const server = await new Promise<Server>((ok) => {
      const s = app.listen(0, '127.0.0.1', () => ok(s));
    });
    servers.push(server);
    urls[variant] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  // Model calls per variant and this process's CPU time (every thread, ORT's included), on request.
  process.on('message', (m: { stats?: boolean }) => {
    if (m.stats) {
      const cpu = process.cpuUsage();
      process.send?.({ modelCalls, cpuMicros: cpu.user + cpu.system });
    }
  });
  process.send?.({ urls, points: scratch.points, documents: scratch.documents, pipeline: scratch.pipeline.version, model: embedder.modelId, batching: { ...batching, cacheSize } });
  // Graceful: requests still in flight when the driver stops finish before the model is released.
  process.once('SIGTERM', () => {
    const exit = async () => {
      await embedder.close().catch(() => undefined);
      await index.close().catch(() => undefined);
      rmSync(work, { recursive: true, force: true });
      process.exit(0);
    };
    let open = servers.length;
    for (const server of servers) {
      server.close(() => void (--open === 0 && exit()));
      server.closeIdleConnections();
    }
    setTimeout(() => void exit(), 5000).unref();
  });
}

type Stages = Record<'embed' | 'retrieve' | 'generate' | 'http', { sum: number; count: number }>;

/** Sums and counts of the stage and request-duration histograms, from the Prometheus text. */
async function scrape(url: string, route: string): Promise<Stages> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (name: string, labels: RegExp) => {
    const line = text.split('\n').find((l) => l.startsWith(name) && labels.test(l));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };
  const stage = (s: string) => ({
    sum: read('srag_query_stage_seconds_sum', new RegExp(`stage="${s}"`)),
    count: read('srag_query_stage_seconds_count', new RegExp(`stage="${s}"`)),
  });
  const http = new RegExp(`route="${route}",status="200"`);
  return {
    embed: stage('embed'),
    retrieve: stage('retrieve'),
    generate: stage('generate'),
    http: { sum: read('srag_http_request_duration_seconds_sum', http), count: read('srag_http_request_duration_seconds_count', http) },
  };
}

/**
 * A scrape once the server is idle: requests the load generator abandoned when its time was up still
 * run to completion and would otherwise be counted in the next run's stages.
 */
async function settled(url: string, route: string): Promise<Stages> {
  let last = await scrape(url, route);
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    const now = await scrape(url, route);
    if (now.embed.count === last.embed.count && now.generate.count === last.generate.count) return now;
    last = now;
  }
}

interface Run {
  endpoint: string;
  variant: Variant;
  workload: Workload;
  connections: number;
  requests: number;
  rps: number;
  errors: number;
  non2xx: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Server-side mean ms per request. */
  server: { embed: number; retrieve: number; generate: number; rest: number; total: number };
  /** Texts per model call (batcher variants), and model calls per request (below 1: cache hits). */
  model?: { textsPerCall: number; callsPerRequest: number };
  /** CPU time of the API process (all threads) per request handled. */
  cpuMsPerRequest: number;
}

type Workload = 'distinct' | 'repeated';
/** Queries asked again and again (the LRU's case): a small pool of the train queries. */
const REPEATED_POOL = 50;

async function load(url: string, path: string, body: (q: string) => unknown, queries: string[], connections: number, seconds: number): Promise<Omit<Run, 'server' | 'variant' | 'workload' | 'model' | 'cpuMsPerRequest'>> {
  let next = 0;
  const latencies: number[] = [];
  const instance = autocannon({
    url,
    connections,
    duration: seconds,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => ({ ...req, body: JSON.stringify(body(queries[next++ % queries.length])) }),
      },
    ],
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status === 200) latencies.push(ms);
  });
  const result = await instance;
  latencies.sort((a, b) => a - b);
  const r = (x: number) => +x.toFixed(2);
  return {
    endpoint: path,
    connections,
    requests: latencies.length,
    rps: r(latencies.length / seconds),
    errors: result.errors,
    non2xx: result.non2xx,
    p50: r(percentile(latencies, 50)),
    p95: r(percentile(latencies, 95)),
    p99: r(percentile(latencies, 99)),
    max: r(latencies.at(-1) ?? NaN),
  };
}

interface ServerInfo {
  urls: Record<Variant, string>;
  points: number;
  documents: number;
  pipeline: string;
  model: string;
  batching: QueryBatcherOptions;
}

/** What each /v1/search run compares against: the same workload without the feature under test. */
const SEARCH_PLAN: { variant: Variant; workload: Workload; baseline?: Variant }[] = [
  { variant: 'off', workload: 'distinct' },
  { variant: 'queued', workload: 'distinct', baseline: 'off' },
  { variant: 'batcher', workload: 'distinct', baseline: 'off' },
  { variant: 'off', workload: 'repeated' },
  { variant: 'batcher', workload: 'repeated', baseline: 'off' },
  { variant: 'batcher+lru', workload: 'repeated', baseline: 'batcher' },
];

async function drive(): Promise<void> {
  const loadBefore = loadavg();
  const seconds = Number(arg('seconds', '10'));
  const connectionsList = arg('connections', '1,16').split(',').map(Number);
  const queries = readFileSync(join(scifact, 'queries-train.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { text: string }).text);
  const workloads: Record<Workload, string[]> = { distinct: queries, repeated: queries.slice(0, REPEATED_POOL) };

  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--serve', ...process.argv.slice(2)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const info = await new Promise<ServerInfo>((resolveInfo, reject) => {
    child.once('message', (m) => resolveInfo(m as never));
    child.once('exit', (code) => reject(new Error(`the API process exited (${code}) before it listened`)));
  });
  type Stats = { modelCalls: Record<string, { calls: number; texts: number }>; cpuMicros: number };
  const stats = () =>
    new Promise<Stats>((ok) => {
      child.once('message', (m) => ok(m as Stats));
      child.send({ stats: true });
    });
  const runs: Run[] = [];
  const measure = async (variant: Variant, workload: Workload, ep: { path: string; route: string; body: (q: string) => unknown }, connections: number) => {
    const url = info.urls[variant];
    const before = await settled(url, ep.route);
    const statsBefore = await stats();
    const run = await load(url, ep.path, ep.body, workloads[workload], connections, seconds);
    const after = await settled(url, ep.route);
    const statsAfter = await stats();
    const callsBefore = statsBefore.modelCalls[variant];
    const callsAfter = statsAfter.modelCalls[variant];
    const mean = (k: keyof Stages) => {
      const n = after[k].count - before[k].count;
      return n > 0 ? (1000 * (after[k].sum - before[k].sum)) / n : 0;
    };
    const total = mean('http');
    const server = { embed: mean('embed'), retrieve: mean('retrieve'), generate: mean('generate'), rest: 0, total };
    server.rest = Math.max(0, total - server.embed - server.retrieve - server.generate);
    for (const k of Object.keys(server) as (keyof typeof server)[]) server[k] = +server[k].toFixed(2);
    const calls = callsAfter && callsBefore ? callsAfter.calls - callsBefore.calls : 0;
    const handled = after.http.count - before.http.count;
    const model =
      calls > 0 || (callsAfter && handled > 0)
        ? { textsPerCall: calls > 0 ? +((callsAfter.texts - callsBefore.texts) / calls).toFixed(2) : 0, callsPerRequest: +(calls / Math.max(1, handled)).toFixed(3) }
        : undefined;
    const cpuMsPerRequest = +((statsAfter.cpuMicros - statsBefore.cpuMicros) / 1000 / Math.max(1, handled)).toFixed(2);
    runs.push({ ...run, variant, workload, server, model, cpuMsPerRequest });
    process.stderr.write(`${ep.path} ${variant} ${workload} c=${connections}: p99 ${run.p99} ms\n`);
  };
  try {
    // Warm-up of every variant alike: model, BM25 projection, JIT, and the repeated pool asked once,
    // so the LRU variant is measured in its steady state (its cache holds the pool; distinct queries
    // are not in it).
    const post = (url: string, path: string, body: unknown) => fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (const url of Object.values(info.urls)) {
      for (const q of queries.slice(-30)) await post(url, '/v1/query', { question: q });
      for (const q of workloads.repeated) await post(url, '/v1/search', { query: q, k: 10 });
    }
    const search = { path: '/v1/search', route: '/search', body: (q: string) => ({ query: q, k: 10 }) };
    const query = { path: '/v1/query', route: '/query', body: (q: string) => ({ question: q, k: 8 }) };
    for (const connections of connectionsList) {
      for (const step of SEARCH_PLAN) await measure(step.variant, step.workload, search, connections);
    }
    for (const connections of connectionsList) await measure('batcher', 'distinct', query, connections);
  } finally {
    child.kill('SIGTERM');
  }

  if (process.argv.includes('--json')) {
    process.stdout.write(JSON.stringify({ ...info, seconds, runs }) + '\n');
    return;
  }
  const out = (s: string) => process.stdout.write(s + '\n');
  const b = info.batching;
  out(`srag HTTP load: SciFact${Number(arg('docs', '0')) > 0 ? ` (first ${arg('docs', '0')})` : ''} ${info.documents} documents / ${info.points} chunks, ${info.model}, pipeline ${info.pipeline}; ${seconds}s per run, loopback`);
  out(`query batching: window ${b.windowMs} ms, max ${b.maxBatch} texts per model call; LRU ${b.cacheSize} vectors; repeated = a pool of ${REPEATED_POOL} queries, distinct = ${queries.length} in turn`);
  out(`machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), shared by the API process and this load generator; load average before: ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`);
  out('endpoint    variant    queries   conns   req/s     p50      p95      p99   p99 ratio | server mean ms: embed retrieve  rest  total | cpu ms/req | texts/call calls/req');
  const f = (x: number, w = 8) => x.toFixed(2).padStart(w);
  for (const r of runs) {
    const s = r.server;
    const step = SEARCH_PLAN.find((p) => r.endpoint === '/v1/search' && p.variant === r.variant && p.workload === r.workload);
    const base = step?.baseline && runs.find((x) => x.endpoint === r.endpoint && x.variant === step.baseline && x.workload === r.workload && x.connections === r.connections);
    const ratio = base ? `${(r.p99 / base.p99).toFixed(2)}x ${step!.baseline}`.padStart(11) : ''.padStart(11);
    const m = r.model ? `${f(r.model.textsPerCall, 10)} ${f(r.model.callsPerRequest, 9)}` : '';
    out(
      `${r.endpoint.padEnd(11)} ${r.variant.padEnd(10)} ${r.workload.padEnd(9)} ${String(r.connections).padStart(4)} ${f(r.rps)} ${f(r.p50)} ${f(r.p95)} ${f(r.p99)} ${ratio} | ${f(s.embed, 14)} ${f(s.retrieve)} ${f(s.rest, 5)} ${f(s.total, 6)} | ${f(r.cpuMsPerRequest, 10)} | ${m}` +
        (r.errors || r.non2xx ? `  (errors ${r.errors}, non-2xx ${r.non2xx})` : ''),
    );
  }
  const at16 = runs.filter((r) => r.endpoint === '/v1/search' && r.connections === 16 && r.workload === 'distinct');
  for (const r of at16) out(`goal: /v1/search p99 <= 50 ms at 16 connections, ${r.variant}, distinct queries: ${r.p99 <= 50 ? 'met' : 'NOT met'} (${r.p99} ms)`);
  const single = runs.find((r) => r.endpoint === '/v1/search' && r.connections === 1 && r.variant === 'off' && r.workload === 'distinct');
  if (single) {
    // 16 requests arriving together need 16 x the CPU time of one, shared by the cores: the last one
    // cannot finish sooner, however they are queued or batched (unless batching makes each cheaper).
    const cores = cpus().length;
    out(
      `floor at 16 connections: ${single.cpuMsPerRequest.toFixed(2)} CPU-ms per /v1/search request (API process, all threads, 1 connection) x 16 / ${cores} cores = ${((single.cpuMsPerRequest * 16) / cores).toFixed(1)} ms for the last of 16 simultaneous distinct queries`,
    );
  }
}

if (process.argv.includes('--serve')) await serve();
else await drive();
