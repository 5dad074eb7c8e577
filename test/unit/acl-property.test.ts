// Randomized check of the gateway's promise: 200 documents with random ACLs, 20 principals with random
// groups and scopes, 10,000 random requests over every read route. Not one item outside the caller's
// groups may come back; writes outside the caller's rights are refused and change nothing; the audit
// chain verifies afterwards. Real app, real embedded index, real BM25, real audit log; the embedder is
// a deterministic bag-of-words hash (this is about access, not relevance) and Temporal is an
// in-memory stand-in behind the real job service.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkId, documentIdFor } from '../../src/domain/ids.js';
import type { IngestPolicy, JobProgress } from '../../src/domain/ingest.js';
import type { Embedder } from '../../src/embed/port.js';
import { createApp } from '../../src/http/app.js';
import { parseApiTokens } from '../../src/http/gateway/tokens.js';
import { createEmbeddedIndex } from '../../src/index/embedded.js';
import { createLexicalIndex } from '../../src/index/lexical.js';
import type { VectorIndex } from '../../src/index/port.js';
import { openAuditLog, verifyAuditLog, type AuditLog } from '../../src/obs/audit.js';
import { silentLogger } from '../../src/obs/logger.js';
import { createMetrics } from '../../src/obs/metrics.js';
import { createLexicalSource } from '../../src/query/lexical-source.js';
import { createSearchService } from '../../src/query/search.js';
import { putCatalogRecord } from '../../src/store/catalog.js';
import { createFsBlobStore } from '../../src/store/fs.js';
import type { BlobStore } from '../../src/store/port.js';
import { createJobService } from '../../src/temporal/jobs.js';
import { extractiveAnswerer, parseSse } from '../support/query-app.js';
import { rng } from '../support/random.js';

const SEED = 20261202;
const DIM = 32;
const GROUPS = ['hr', 'eng', 'finance', 'legal', 'sales', 'ops', 'exec', 'it'];
const VOCAB = (
  'budget salary contract invoice server deploy outage pipeline merger audit vacation policy laptop password ' +
  'customer renewal discount lawsuit patent hiring onboarding payroll forecast quarter revenue incident backup ' +
  'firewall training travel expense office parking badge meeting roadmap release ticket vendor'
).split(' ');
const COLLECTION = 'srag_prop';
const REQUESTS = 10_000;

function hashVector(text: string): Float32Array {
  const v = new Float32Array(DIM);
  for (const w of text.toLowerCase().match(/[a-z]+/g) ?? []) {
    const h = createHash('sha256').update(w).digest();
    v[h[0] % DIM] += 1;
    v[h[1] % DIM] += 0.5;
  }
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n) || 1;
  for (let i = 0; i < DIM; i++) v[i] = v[i] / n || (i === 0 ? 1 : 0);
  return v;
}

const embedder: Embedder = {
  modelId: 'hash-bow',
  dimension: DIM,
  embedDocuments: async (texts) => texts.map(hashVector),
  embedQuery: async (t) => hashVector(t),
  close: async () => {},
};

interface Doc {
  id: string;
  acl: string[];
}

interface Caller {
  token: string;
  user: string;
  groups: string[];
  scopes: string[];
}

/** Temporal stand-in: enough of the client for the real job service (start, describe, result, list, cancel). */
function fakeTemporal() {
  const runs = new Map<string, { progress: JobProgress; started: Date }>();
  const starts: Array<{ type: string; workflowId: string }> = [];
  const cancels: string[] = [];
  const client = {
    workflow: {
      async start(type: string, opts: { workflowId: string; args: [{ jobId: string; sourceCount: number }] }) {
        starts.push({ type, workflowId: opts.workflowId });
        if (type === 'ingestCorpus') {
          const { jobId, sourceCount } = opts.args[0];
          runs.set(opts.workflowId, {
            started: new Date(),
            progress: { jobId, status: 'completed', sources: { total: sourceCount, done: sourceCount }, documents: { total: sourceCount, done: sourceCount, failed: 0, skipped: 0 }, chunks: 1, errors: [], errorsDropped: 0 },
          });
        }
        return { result: async () => ({}) };
      },
      getHandle(workflowId: string) {
        const run = runs.get(workflowId);
        return {
          async describe() {
            if (!run) throw Object.assign(new Error('not found'), { name: 'WorkflowNotFoundError' });
            return { status: { name: 'COMPLETED' }, closeTime: run.started };
          },
          result: async () => run!.progress,
          query: async () => run!.progress,
          async cancel() {
            cancels.push(workflowId);
          },
        };
      },
      async *list() {
        for (const [workflowId, run] of runs) yield { workflowId, status: { name: 'COMPLETED' }, startTime: run.started, closeTime: run.started };
      },
    },
  };
  return { client: client as unknown as Client, starts, cancels, runs };
}

describe('randomized access control over every read route', () => {
  const next = rng(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
  const subset = <T>(xs: readonly T[], max: number): T[] => [...new Set(Array.from({ length: Math.floor(next() * (max + 1)) }, () => pick(xs)))];
  let dir: string;
  let index: VectorIndex & { close(): Promise<void> };
  let store: BlobStore;
  let audit: AuditLog;
  let server: Server;
  let url: string;
  let temporal: ReturnType<typeof fakeTemporal>;
  const docs: Doc[] = [];
  const callers: Caller[] = [];
  const jobOwner = new Map<string, string>();
  let requests = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'srag-prop-'));
    index = await createEmbeddedIndex(join(dir, 'index'), { logger: silentLogger });
    await index.ensureCollection(COLLECTION, DIM);
    store = createFsBlobStore(join(dir, 'store'));
    for (let d = 0; d < 200; d++) {
      const id = documentIdFor(`text:seed:${d}`);
      const acl = next() < 0.2 ? [] : subset(GROUPS, 2).sort();
      docs.push({ id, acl: acl.length === 0 && next() < 0.5 ? [pick(GROUPS)] : acl });
      const chunks = 1 + Math.floor(next() * 3);
      const points = Array.from({ length: chunks }, (_, c) => {
        const text = Array.from({ length: 12 }, () => pick(VOCAB)).join(' ') + '.';
        return {
          id: chunkId(id, `h${d}`, c, 'vprop'),
          vector: hashVector(text),
          payload: { documentId: id, contentHash: `h${d}`, chunkIndex: c, chunkCount: chunks, text, start: c * 100, end: c * 100 + text.length, title: `Doc ${d}`, source: `/srv/docs/doc-${d}.txt`, type: 'text' as const, acl: docs[d].acl, owner: 'seed' },
        };
      });
      await index.upsert(COLLECTION, points);
      // As ingestion writes it: the catalog record is what /v1/documents lists.
      await putCatalogRecord(store, {
        documentId: id,
        sourceKey: `file:/srv/docs/doc-${d}.txt`,
        sourceHash: 'a'.repeat(64),
        sourceName: `doc-${d}.txt`,
        contentHash: `h${d}`,
        owner: 'seed',
        title: `Doc ${d}`,
        type: 'text',
        acl: docs[d].acl,
        pii: 'off',
        pipelines: { vprop: { collection: COLLECTION, chunks, state: 'indexed' } },
        updatedAt: new Date(0).toISOString(),
      });
    }
    for (let p = 0; p < 20; p++) {
      const scopes = p < 2 ? ['admin'] : next() < 0.15 ? ['ingest'] : next() < 0.5 ? ['query'] : ['query', 'ingest'];
      callers.push({ token: `prop-token-${String(p).padStart(4, '0')}-abcdef`, user: `user${p}`, groups: subset(GROUPS, 3).sort(), scopes });
    }
    const spec = callers.map((c) => `${c.token}=${c.user}:${c.groups.join('|')}:${c.scopes.join('+')}`).join(',');
    temporal = fakeTemporal();
    const pipeline = { version: 'vprop', collection: COLLECTION, modelId: 'hash-bow', dimension: DIM, chunk: { maxTokens: 256, overlapTokens: 32 } };
    const jobs = createJobService({ client: temporal.client, store, taskQueue: 'q', embedTaskQueue: 'e', pipeline, concurrency: 1 });
    // Every caller owns a few jobs.
    for (const c of callers) {
      for (let j = 0; j < 2; j++) {
        const policy: IngestPolicy = { owner: { user: c.user, groups: c.groups, admin: c.scopes.includes('admin') }, replaceAcl: false, pii: 'off' };
        const { jobId } = await jobs.submit([{ kind: 'stored', hash: 'a'.repeat(64), name: `n${j}.txt`, sourceKey: `upload:${c.user}:n${j}.txt` }], [], policy);
        jobOwner.set(jobId, c.user);
      }
    }
    audit = await openAuditLog({ dir: join(dir, 'audit'), rotateBytes: 4 << 20 });
    const search = createSearchService({
      index,
      embedder,
      collection: async () => COLLECTION,
      lexical: createLexicalSource((c) => createLexicalIndex(index, c), { logger: silentLogger }),
    });
    const app = createApp({
      jobs,
      documents: { store, index, collection: async () => COLLECTION, client: temporal.client, taskQueue: 'q' },
      store,
      search,
      query: { answerer: extractiveAnswerer(), defaults: { generator: 'extractive' } },
      readiness: async () => ({}),
      auth: { tokens: parseApiTokens(spec) },
      audit,
      metrics: createMetrics({ defaults: false }),
      logger: silentLogger,
      limits: { maxFileBytes: 1 << 20, maxJsonBytes: 1 << 20, maxFiles: 10, maxUploadBytes: 4 << 20 },
      pathRoots: [],
      cwd: dir,
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 120_000);

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await audit?.close();
    await index?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const visible = (c: Caller, documentId: string): boolean => {
    const doc = docs.find((d) => d.id === documentId);
    if (!doc) throw new Error(`unknown document ${documentId}`);
    return doc.acl.length === 0 || doc.acl.some((g) => c.groups.includes(g));
  };
  const canQuery = (c: Caller) => c.scopes.includes('query') || c.scopes.includes('admin');
  const canIngest = (c: Caller) => c.scopes.includes('ingest') || c.scopes.includes('admin');

  const call = async (c: Caller, method: string, path: string, body?: unknown) => {
    requests++;
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${c.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, text: await res.text() };
  };

  it('returns nothing outside the caller\'s groups across 10,000 random read requests', async () => {
    const words = () => Array.from({ length: 1 + Math.floor(next() * 3) }, () => pick(VOCAB)).join(' ');
    const routes = ['search', 'query', 'query-stream', 'chat', 'chat-stream', 'documents', 'document', 'jobs', 'job'] as const;
    const seen: Record<string, number> = {};
    let items = 0;
    const plan = Array.from({ length: REQUESTS }, () => ({ caller: pick(callers), route: pick(routes), q: words(), doc: pick(docs).id, job: pick([...jobOwner.keys()]) }));
    const lanes = 8;
    let cursor = 0;
    const violations: string[] = [];
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        while (cursor < plan.length) {
          const { caller: c, route, q, doc, job } = plan[cursor++];
          seen[route] = (seen[route] ?? 0) + 1;
          const ids: string[] = [];
          let res: { status: number; text: string };
          if (route === 'search') {
            res = await call(c, 'POST', '/v1/search', { query: q, k: 10 });
            if (res.status === 200) ids.push(...(JSON.parse(res.text) as { hits: Array<{ documentId: string }> }).hits.map((h) => h.documentId));
          } else if (route === 'query' || route === 'query-stream') {
            res = await call(c, 'POST', '/v1/query', { question: q, stream: route === 'query-stream' });
            if (res.status === 200) {
              const bodies = route === 'query' ? [res.text] : parseSse(res.text).filter((e) => e.event === 'done' || e.event === 'citation').map((e) => e.data);
              for (const b of bodies) {
                const parsed = JSON.parse(b) as { citations?: Array<{ documentId: string }>; documentId?: string };
                if (parsed.documentId) ids.push(parsed.documentId);
                for (const cit of parsed.citations ?? []) ids.push(cit.documentId);
              }
            }
          } else if (route === 'chat' || route === 'chat-stream') {
            res = await call(c, 'POST', '/v1/chat/completions', { model: 'srag', stream: route === 'chat-stream', messages: [{ role: 'user', content: q }] });
            if (res.status === 200) {
              const bodies = route === 'chat' ? [res.text] : parseSse(res.text).map((e) => e.data).filter((d) => d !== '[DONE]');
              for (const b of bodies) for (const cit of (JSON.parse(b) as { citations?: Array<{ documentId: string }> }).citations ?? []) ids.push(cit.documentId);
            }
          } else if (route === 'documents') {
            res = await call(c, 'GET', '/v1/documents');
            if (res.status === 200) ids.push(...(JSON.parse(res.text) as { documents: Array<{ documentId: string }> }).documents.map((d) => d.documentId));
          } else if (route === 'document') {
            res = await call(c, 'GET', `/v1/documents/${doc}`);
            if (res.status === 200) ids.push((JSON.parse(res.text) as { documentId: string }).documentId);
            else if (canQuery(c) && visible(c, doc)) violations.push(`${c.user} could not read visible ${doc}: ${res.status}`);
          } else if (route === 'jobs') {
            res = await call(c, 'GET', '/v1/jobs?limit=200');
            if (res.status === 200) {
              for (const j of (JSON.parse(res.text) as { jobs: Array<{ jobId: string }> }).jobs) {
                items++;
                if (!c.scopes.includes('admin') && jobOwner.get(j.jobId) !== c.user) violations.push(`${c.user} listed ${j.jobId}`);
              }
            }
          } else {
            res = await call(c, 'GET', `/v1/jobs/${job}`);
            const mine = jobOwner.get(job) === c.user || c.scopes.includes('admin');
            if (res.status === 200) items++;
            if (res.status === 200 && !mine) violations.push(`${c.user} read job ${job}`);
            if (mine && canIngest(c) && res.status !== 200) violations.push(`${c.user} could not read own job ${job}: ${res.status}`);
          }
          const needsQuery = route !== 'jobs' && route !== 'job';
          if (needsQuery && !canQuery(c) && res.status !== 403) violations.push(`${c.user} without query scope got ${res.status} on ${route}`);
          if (!needsQuery && !canIngest(c) && res.status !== 403) violations.push(`${c.user} without ingest scope got ${res.status} on ${route}`);
          for (const id of ids) {
            items++;
            if (!visible(c, id)) violations.push(`${c.user} (${c.groups.join('|') || 'no groups'}) got ${id} (${docs.find((d) => d.id === id)?.acl.join('|')}) on ${route}`);
          }
        }
      }),
    );
    console.log(`acl property: ${REQUESTS} requests, ${items} items returned, routes ${JSON.stringify(seen)}, violations ${violations.length}`);
    expect(violations.slice(0, 10)).toEqual([]);
    expect(items).toBeGreaterThan(REQUESTS);
  }, 600_000);

  it('refuses writes outside the caller\'s rights with 403 (or 404 for what they cannot see) and changes nothing', async () => {
    const pointsBefore = await index.count(COLLECTION);
    const startsBefore = temporal.starts.length;
    const mortals = callers.filter((c) => !c.scopes.includes('admin'));
    let attempts = 0;
    for (let i = 0; i < 500; i++) {
      const c = pick(mortals);
      const kind = pick(['delete-doc', 'foreign-acl', 'replace-acl', 'path', 'cancel-job'] as const);
      attempts++;
      if (kind === 'delete-doc') {
        const d = pick(docs);
        const res = await call(c, 'DELETE', `/v1/documents/${d.id}`);
        expect(res.status, `${kind} ${c.user} ${d.id}`).toBe(!canIngest(c) || visible(c, d.id) ? 403 : 404);
      } else if (kind === 'foreign-acl') {
        const foreign = GROUPS.find((g) => !c.groups.includes(g))!;
        const res = await call(c, 'POST', '/v1/ingest', { sources: [{ text: 'grant attempt', title: `t${i}` }], acl: [foreign] });
        expect(res.status, kind).toBe(403);
      } else if (kind === 'replace-acl') {
        const res = await call(c, 'POST', '/v1/ingest', { sources: [{ text: 'replace attempt', title: `r${i}` }], acl: [], replaceAcl: true });
        expect(res.status, kind).toBe(403);
      } else if (kind === 'path') {
        const res = await call(c, 'POST', '/v1/ingest', { sources: [{ path: '/etc/hostname' }] });
        expect(res.status, kind).toBe(403);
      } else {
        const others = [...jobOwner].filter(([, owner]) => owner !== c.user).map(([id]) => id);
        const res = await call(c, 'DELETE', `/v1/jobs/${pick(others)}`);
        expect(res.status, kind).toBe(canIngest(c) ? 404 : 403);
      }
    }
    expect(await index.count(COLLECTION)).toBe(pointsBefore);
    expect(temporal.starts.length).toBe(startsBefore);
    expect(temporal.cancels).toEqual([]);
    console.log(`acl property: ${attempts} forbidden writes refused, 0 changes`);
  }, 600_000);

  it('audited every request in a chain that verifies', async () => {
    await audit.close();
    const report = await verifyAuditLog(join(dir, 'audit'));
    expect(report.ok, JSON.stringify(report.firstBad)).toBe(true);
    expect(report.records).toBe(requests);
    // Thousands of questions and searches went through: not one of their words is in the log.
    const raw = readdirSync(join(dir, 'audit'))
      .filter((f) => f.endsWith('.jsonl'))
      .map((f) => readFileSync(join(dir, 'audit', f), 'utf8'))
      .join('\n');
    const leaked = VOCAB.filter((w) => new RegExp(`\\b${w}\\b`).test(raw));
    expect(leaked).toEqual([]);
    audit = await openAuditLog({ dir: join(dir, 'audit'), rotateBytes: 4 << 20 });
  });
});
