// Load benchmark of the query API (not a test): POST /v1/search (hybrid, k=10) and POST /v1/query
// (hybrid, k=8, extractive answers) at 1 and 16 connections, over SciFact indexed as `srag eval`
// indexes it (the scratch index under .cache/eval is reused or built). The API runs in a child process
// with the real embedder, index (read-only, as `srag up` serves it), BM25, answerer, audit log and
// metrics; autocannon drives it over loopback from this process. Prints client-side p50/p95/p99 and
// the server's split of time between query embedding, retrieval, answer generation and the rest
// (from its /metrics histograms).
// Usage: npx tsx bench/http.ts [--seconds 10] [--connections 1,16] [--json]
//   SRAG_EVAL_DIR overrides the evaluation folder (default ../shared/eval beside the repository).
import autocannon from 'autocannon';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { loadConfig, PROJECT_ROOT } from '../src/config.js';
import { createEmbedder } from '../src/embed/factory.js';
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

/** The API over the SciFact scratch index; tells the parent its URL, stops on SIGTERM. */
async function serve(): Promise<void> {
  // No LLM in this benchmark: answers are extractive whatever the environment says.
  const config = loadConfig({ ...process.env, LLM_URL: '' });
  const logger = createLogger('warn');
  const embedder = await createEmbedder(config.embedding, logger);
  const scratch = await ensureScratchIndex(config, embedder, join(scifact, 'corpus.jsonl'));
  const index = await createEmbeddedIndex(scratch.dir, { readOnly: true, logger });
  const work = mkdtempSync(join(tmpdir(), 'srag-bench-http-'));
  const unused = async (): Promise<never> => {
    throw new AppError('TEMPORAL_UNAVAILABLE', 'no job service in this benchmark');
  };
  const jobs: JobService = { submit: unused, get: unused, list: unused, cancel: unused };
  const collection = async () => scratch.collection;
  const { answerer, generator } = createConfiguredAnswerer(config.llm, logger);
  const store = createFsBlobStore(join(work, 'store'));
  const app = createApp({
    jobs,
    documents: { store, index, collection, client: {} as Client, taskQueue: config.temporal.taskQueue },
    store,
    search: createSearchService({ index, embedder, collection, lexical: createLexicalSource((c) => createLexicalIndex(index, c), { logger }) }),
    query: { answerer, defaults: { generator } },
    readiness: async () => ({}),
    auth: { tokens: new Map() },
    audit: await openAuditLog({ dir: join(work, 'audit'), rotateBytes: 64 << 20 }),
    metrics: createMetrics(),
    logger,
    limits: { maxFileBytes: config.limits.maxFileBytes, maxJsonBytes: config.http.maxJsonBytes, maxFiles: 10, maxUploadBytes: config.http.maxUploadBytes },
    pathRoots: [],
    cwd: work,
  });
  const server = app.listen(0, '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    process.send?.({ url: `http://127.0.0.1:${port}`, points: scratch.points, documents: scratch.documents, pipeline: scratch.pipeline.version, model: embedder.modelId });
  });
  // Graceful: requests still in flight when the driver stops finish before the model is released.
  process.once('SIGTERM', () => {
    const exit = async () => {
      await embedder.close().catch(() => undefined);
      await index.close().catch(() => undefined);
      rmSync(work, { recursive: true, force: true });
      process.exit(0);
    };
    server.close(() => void exit());
    server.closeIdleConnections();
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
}

async function load(url: string, path: string, body: (q: string) => unknown, queries: string[], connections: number, seconds: number): Promise<Omit<Run, 'server'>> {
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

async function drive(): Promise<void> {
  const loadBefore = loadavg();
  const seconds = Number(arg('seconds', '10'));
  const connectionsList = arg('connections', '1,16').split(',').map(Number);
  const queries = readFileSync(join(scifact, 'queries-train.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { text: string }).text);

  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const info = await new Promise<{ url: string; points: number; documents: number; pipeline: string; model: string }>((resolveInfo, reject) => {
    child.once('message', (m) => resolveInfo(m as never));
    child.once('exit', (code) => reject(new Error(`the API process exited (${code}) before it listened`)));
  });
  const runs: Run[] = [];
  try {
    // Warm-up: model, BM25 projection, JIT.
    for (const q of queries.slice(0, 30)) {
      await fetch(`${info.url}/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: q }) });
    }
    const endpoints = [
      { path: '/v1/search', route: '/search', body: (q: string) => ({ query: q, k: 10 }) },
      { path: '/v1/query', route: '/query', body: (q: string) => ({ question: q, k: 8 }) },
    ];
    for (const ep of endpoints) {
      for (const connections of connectionsList) {
        const before = await settled(info.url, ep.route);
        const run = await load(info.url, ep.path, ep.body, queries, connections, seconds);
        const after = await settled(info.url, ep.route);
        const mean = (k: keyof Stages) => {
          const n = after[k].count - before[k].count;
          return n > 0 ? (1000 * (after[k].sum - before[k].sum)) / n : 0;
        };
        const total = mean('http');
        const server = { embed: mean('embed'), retrieve: mean('retrieve'), generate: mean('generate'), rest: 0, total };
        server.rest = Math.max(0, total - server.embed - server.retrieve - server.generate);
        for (const k of Object.keys(server) as (keyof typeof server)[]) server[k] = +server[k].toFixed(2);
        runs.push({ ...run, server });
        process.stderr.write(`${ep.path} c=${connections}: p99 ${run.p99} ms\n`);
      }
    }
  } finally {
    child.kill('SIGTERM');
  }

  if (process.argv.includes('--json')) {
    process.stdout.write(JSON.stringify({ ...info, seconds, runs }) + '\n');
    return;
  }
  const out = (s: string) => process.stdout.write(s + '\n');
  out(`srag HTTP load: SciFact ${info.documents} documents / ${info.points} chunks, ${info.model}, pipeline ${info.pipeline}; ${seconds}s per run, loopback`);
  out(`machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), shared by the API process and this load generator; load average before: ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`);
  out('endpoint     conns   req/s     p50      p95      p99      max  | server mean ms: embed  retrieve  generate  rest   total');
  for (const r of runs) {
    const f = (x: number, w = 8) => x.toFixed(2).padStart(w);
    const s = r.server;
    out(
      `${r.endpoint.padEnd(12)} ${String(r.connections).padStart(5)} ${f(r.rps)} ${f(r.p50)} ${f(r.p95)} ${f(r.p99)} ${f(r.max)}  |  ${f(s.embed, 13)} ${f(s.retrieve, 9)} ${f(s.generate, 9)} ${f(s.rest, 6)} ${f(s.total, 7)}` +
        (r.errors || r.non2xx ? `  (errors ${r.errors}, non-2xx ${r.non2xx})` : ''),
    );
  }
  const search16 = runs.find((r) => r.endpoint === '/v1/search' && r.connections === 16);
  if (search16) out(`goal: /v1/search p99 <= 50 ms at 16 connections: ${search16.p99 <= 50 ? 'met' : 'NOT met'} (${search16.p99} ms)`);
}

if (process.argv.includes('--serve')) await serve();
else await drive();
