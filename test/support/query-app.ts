import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { ChunkPayload, Citation } from '../../src/domain/types.js';
import { parseMarkers } from '../../src/domain/citations.js';
import { AppError } from '../../src/errors.js';
import { createAnswerer, type Answerer } from '../../src/generate/answer.js';
import { createExtractiveGenerator } from '../../src/generate/extractive.js';
import { createApp, type AppDeps } from '../../src/http/app.js';
import type { KeyStore } from '../../src/http/gateway/keys.js';
import { createRateLimits } from '../../src/http/gateway/rate-limit.js';
import { parseApiTokens } from '../../src/http/gateway/tokens.js';
import type { ScoredPoint } from '../../src/index/port.js';
import { createHmac } from 'node:crypto';
import type { AuditLog, AuditRecord } from '../../src/obs/audit.js';
import { silentLogger, type Logger } from '../../src/obs/logger.js';
import { createMetrics, type Metrics } from '../../src/obs/metrics.js';
import type { SearchMode, SearchService, Viewer } from '../../src/query/search.js';
import { createFsBlobStore } from '../../src/store/fs.js';
import type { BlobStore } from '../../src/store/port.js';
import type { JobService } from '../../src/temporal/jobs.js';

// Fakes for createApp: the HTTP layer over fixed retrieval results, with the real extractive answerer.

const TRAVEL_DOC = [
  'Travel policy',
  '',
  'Employees book economy class for flights under six hours. Business class is allowed for flights longer than six hours, ',
  'with a manager approval. Receipts for hotels and taxis must be submitted within 30 days of the trip [4].',
].join('\n');
const LUNCH_DOC = 'Cafeteria\n\nThe cafeteria serves a vegetarian lunch every weekday. Lunch breaks last thirty minutes.';

function chunkOf(id: string, documentId: string, doc: string, start: number, end: number, score: number, extra: Partial<ChunkPayload> = {}): ScoredPoint {
  return {
    id,
    score,
    payload: {
      documentId,
      contentHash: `hash-${documentId}`,
      chunkIndex: 0,
      chunkCount: 1,
      text: doc.slice(start, end),
      start,
      end,
      title: doc.split('\n')[0],
      source: `${documentId}.md`,
      type: 'markdown',
      acl: [],
      ...extra,
    },
  };
}

/** Chunks whose payload offsets point into a longer document (start > 0), as real chunks do. */
export const FIXED_HITS: ScoredPoint[] = [
  chunkOf('c-travel-1', 'doc_travel', TRAVEL_DOC, 15, TRAVEL_DOC.length, 0.031, { page: 2 }),
  chunkOf('c-lunch-1', 'doc_lunch', LUNCH_DOC, 11, LUNCH_DOC.length, 0.016),
];

export interface SearchCall {
  query: string;
  k: number;
  viewer: Viewer;
  mode?: SearchMode;
}

export function fakeSearch(hits: ScoredPoint[] = FIXED_HITS): SearchService & { calls: SearchCall[] } {
  const calls: SearchCall[] = [];
  return {
    mode: 'hybrid',
    calls,
    async search(query, k, viewer, options) {
      calls.push({ query, k, viewer, mode: options?.mode });
      return { hits: hits.slice(0, k), timings: { embedMs: 1.5, retrieveMs: 0.5 } };
    },
  };
}

export function fakeJobs(): JobService {
  return {
    async submit() {
      return { jobId: 'job_00000000000000000001' };
    },
    async get(jobId) {
      throw new AppError('NOT_FOUND', `no job ${jobId}`);
    },
    async list() {
      return [];
    },
    async cancel(jobId) {
      throw new AppError('NOT_FOUND', `no job ${jobId}`);
    },
  };
}

export function extractiveAnswerer(logger: Logger = silentLogger): Answerer {
  return createAnswerer({ extractive: createExtractiveGenerator(), logger });
}

export interface TestApp {
  url: string;
  audits: AuditRecord[];
  metrics: Metrics;
  search: ReturnType<typeof fakeSearch>;
  /** The app's source store (its catalog decides what /v1/documents lists). */
  store: BlobStore;
  close(): Promise<void>;
}

export interface TestAppOptions {
  hits?: ScoredPoint[];
  answerer?: Answerer;
  /** SRAG_API_TOKENS syntax; none: the loopback operator, no auth. */
  tokens?: string;
  maxJsonBytes?: number;
  /** API keys (the admin key routes are mounted with them). */
  keys?: KeyStore;
  /** Per-minute budgets; absent: no rate limits. */
  rateLimits?: { queryPerMin: number; ingestPerMin: number; ipPerMin: number; authFailuresPerMin: number };
  /** Default: silent. */
  logger?: Logger;
  /** The parser behind /v1/documents/:id/content; absent: those routes are not mounted. */
  parse?: AppDeps['parse'];
  /** POST /v1/embeddings; absent: not mounted. */
  embeddings?: AppDeps['embeddings'];
}

export async function startTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'srag-http-'));
  const audits: AuditRecord[] = [];
  // In memory, keyed like the real log: tests read the records the app wrote.
  const audit: AuditLog = {
    append: async (rec) => {
      audits.push(rec);
    },
    hashQuestion: (q) => createHmac('sha256', 'test-audit-key').update(q).digest('hex'),
    close: async () => {},
  };
  const metrics = createMetrics({ defaults: false });
  const search = fakeSearch(opts.hits);
  const store = createFsBlobStore(join(dir, 'store'));
  const deps: AppDeps = {
    jobs: fakeJobs(),
    documents: { store, index: {} as AppDeps['documents']['index'], collection: async () => 'c', client: {} as Client, taskQueue: 'q' },
    store,
    search,
    query: { answerer: opts.answerer ?? extractiveAnswerer(), defaults: { generator: 'extractive' } },
    readiness: async () => ({}),
    auth: { tokens: parseApiTokens(opts.tokens), keys: opts.keys },
    rateLimits: opts.rateLimits ? createRateLimits(opts.rateLimits) : undefined,
    audit,
    metrics,
    logger: opts.logger ?? silentLogger,
    limits: { maxFileBytes: 1 << 20, maxJsonBytes: opts.maxJsonBytes ?? 20 * 1024 * 1024, maxFiles: 10, maxUploadBytes: 8 << 20 },
    pathRoots: [],
    cwd: dir,
    parse: opts.parse,
    embeddings: opts.embeddings,
  };
  const server = createApp(deps).listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    audits,
    metrics,
    search,
    store,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The /v1/query contract, checked on the response alone: every [n] resolves to exactly one citation,
 * every citation is referenced, and each quote is the chunk text at the stated document offsets.
 */
export function assertCitedVerbatim(answer: string, citations: Citation[], chunks: ScoredPoint[] = FIXED_HITS): void {
  const byN = new Map(citations.map((c) => [c.n, c]));
  if (byN.size !== citations.length) throw new Error('duplicate citation numbers');
  const markers = parseMarkers(answer).flatMap((m) => m.numbers);
  if (markers.length === 0) throw new Error(`answer has no [n] markers: ${answer}`);
  for (const n of markers) if (!byN.has(n)) throw new Error(`marker [${n}] has no citation`);
  for (const c of citations) {
    if (!markers.includes(c.n)) throw new Error(`citation ${c.n} is not referenced`);
    const source = chunks.find(
      (h) => h.payload.documentId === c.documentId && c.start >= h.payload.start && c.end <= h.payload.start + h.payload.text.length,
    );
    if (!source) throw new Error(`citation ${c.n} points outside the retrieved chunks`);
    const verbatim = source.payload.text.slice(c.start - source.payload.start, c.end - source.payload.start);
    if (verbatim !== c.quote || c.quote.length === 0) throw new Error(`citation ${c.n} quote is not verbatim source text`);
    if (c.title !== source.payload.title || c.source !== source.payload.source || c.page !== source.payload.page) {
      throw new Error(`citation ${c.n} names the wrong document`);
    }
  }
}

export interface SseEvent {
  event: string;
  data: string;
}

/** Parses a complete server-sent event stream (unnamed events get the name "message"). */
export function parseSse(text: string): SseEvent[] {
  const out: SseEvent[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':') || line === '') continue;
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length > 0) out.push({ event, data: data.join('\n') });
  }
  return out;
}
