import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uuidV5 } from '../../src/domain/ids.js';
import type { ChunkPayload } from '../../src/domain/types.js';
import type { IndexPoint } from '../../src/index/port.js';
import { createQdrantIndex, type QdrantIndexOptions } from '../../src/index/qdrant/qdrant-index.js';
import { createLogger } from '../../src/obs/logger.js';
import { createSearchService } from '../../src/query/search.js';

interface Recorded {
  method: string;
  /** Path and query string. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}
interface Reply {
  status?: number;
  json?: unknown;
  raw?: Buffer;
}
type Route = (req: Recorded) => Reply | undefined;

/** A stand-in for Qdrant's REST API: records every request and answers from the routes a test installs. */
class FakeQdrant {
  readonly requests: Recorded[] = [];
  private routes: Route[] = [];
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded: Recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      this.requests.push(recorded);
      let reply: Reply | undefined;
      for (const route of this.routes) if ((reply = route(recorded))) break;
      reply ??= { status: 404, json: { status: { error: `Not found: no fake route for ${recorded.method} ${recorded.url}` }, time: 0 } };
      if (reply.raw) {
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/octet-stream' });
        res.end(reply.raw);
      } else {
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(reply.json ?? {}));
      }
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
  /** Adds a route; `times` limits how often it answers before later routes take over. */
  on(method: string, url: string | RegExp, reply: Reply | ((req: Recorded) => Reply), times = Infinity): void {
    let left = times;
    this.routes.push((req) => {
      const matches = req.method === method && (typeof url === 'string' ? req.url === url : url.test(req.url));
      if (!matches || left <= 0) return undefined;
      left--;
      return typeof reply === 'function' ? reply(req) : reply;
    });
  }
  to(method: string, url: string | RegExp): Recorded[] {
    return this.requests.filter((r) => r.method === method && (typeof url === 'string' ? r.url === url : url.test(r.url)));
  }
}

const ok = (result: unknown): Reply => ({ json: { result, status: 'ok', time: 0.001 } });
const fail = (status: number, error: string): Reply => ({ status, json: { status: { error }, time: 0.001 } });
const jsonOf = (r: Recorded) => JSON.parse(r.body.toString('utf8')) as Record<string, unknown>;

const API_KEY = 'sk-test-5e3c1a9d7f';
const id = (n: number) => uuidV5(`qdrant-adapter-${n}`);

function payload(n: number): ChunkPayload {
  return {
    documentId: `doc_${n % 3}`,
    contentHash: 'h',
    chunkIndex: n,
    chunkCount: 1000,
    text: `chunk ${n}`,
    start: 0,
    end: 7,
    title: 'T',
    source: 's',
    type: 'text',
    acl: [],
    page: undefined,
  };
}

describe('Qdrant adapter over HTTP (fake server)', () => {
  let fake: FakeQdrant;
  let url: string;
  let dir: string;
  const logLines: string[] = [];
  const logger = createLogger('debug', {}, (line) => logLines.push(line));

  const open = (over: Partial<QdrantIndexOptions> = {}) =>
    createQdrantIndex({ url, apiKey: API_KEY, logger, retries: 3, retryBaseMs: 1, ...over });

  beforeEach(async () => {
    fake = new FakeQdrant();
    url = await fake.start();
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'srag-qdrant-'));
    logLines.length = 0;
  });
  afterEach(async () => {
    await fake.stop();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('retries a 503 and then succeeds', async () => {
    fake.on('POST', '/collections/c/points/count', fail(503, 'Service unavailable'), 2);
    fake.on('POST', '/collections/c/points/count', ok({ count: 7 }));
    const index = await open();
    expect(await index.count('c')).toBe(7);
    const calls = fake.to('POST', '/collections/c/points/count');
    expect(calls).toHaveLength(3);
    expect(jsonOf(calls[2])).toMatchObject({ exact: true });
    expect(logLines.filter((l) => l.includes('retrying'))).toHaveLength(2);
  });

  it('retries 429 and 500 too, but only a bounded number of times', async () => {
    fake.on('POST', '/collections/c/points/count', fail(429, 'Too many requests'), 1);
    fake.on('POST', '/collections/c/points/count', fail(500, 'Service internal error: boom'));
    const index = await open({ retries: 2 });
    await expect(index.count('c')).rejects.toMatchObject({
      code: 'INDEX_ERROR',
      message: expect.stringContaining('boom'),
      details: { collection: 'c', status: 500, operation: 'count' },
    });
    expect(fake.to('POST', '/collections/c/points/count')).toHaveLength(3);
  });

  it('never retries a 400, and reports the server\u2019s reason with the collection', async () => {
    fake.on('POST', '/collections/c/points/query', fail(400, 'Wrong input: Vector dimension error: expected dim: 4, got 3'));
    const index = await open();
    const err = await index.search('c', new Float32Array([1, 0, 0]), 3).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INDEX_ERROR', details: { collection: 'c', status: 400 } });
    expect((err as Error).message).toContain('Vector dimension error');
    expect(fake.requests).toHaveLength(1);
  });

  it('maps 404 to NOT_FOUND without retrying', async () => {
    fake.on('POST', '/collections/gone/points/count', fail(404, "Not found: Collection `gone` doesn't exist!"));
    const index = await open();
    await expect(index.count('gone')).rejects.toMatchObject({ code: 'NOT_FOUND', details: { collection: 'gone' } });
    expect(fake.requests).toHaveLength(1);
  });

  it('sends the API key as the api-key header and never puts it in an error', async () => {
    // A server (or a proxy in front of it) that echoes the key it was given.
    fake.on('POST', '/collections/c/points/count', (req) => fail(403, `Forbidden: key ${String(req.headers['api-key'])} lacks access`));
    fake.on('POST', '/collections/c/points/scroll', (req) => fail(502, `bad gateway for ${String(req.headers['api-key'])}`));
    // The query path has its own transport (one write per request); it must carry the key the same way.
    fake.on('POST', '/collections/c/points/query', (req) => fail(401, `unknown key ${String(req.headers['api-key'])}`));
    const index = await open({ retries: 1 });
    for (const run of [() => index.count('c'), () => index.scroll('c', undefined, () => undefined), () => index.search('c', new Float32Array([1, 0]), 3)]) {
      const err = (await run().catch((e: unknown) => e)) as Error & { details?: unknown; cause?: unknown };
      expect(err).toMatchObject({ code: 'INDEX_ERROR' });
      expect(err.message).toContain('[redacted]');
      const everything = JSON.stringify({ message: err.message, details: err.details, cause: String(err.cause), stack: err.stack });
      expect(everything).not.toContain(API_KEY);
    }
    expect(fake.requests.length).toBeGreaterThan(0);
    for (const req of fake.requests) {
      expect(req.headers['api-key']).toBe(API_KEY);
      expect(req.url).not.toContain(API_KEY);
    }
    expect(logLines.join('\n')).not.toContain(API_KEY);
  });

  it('an unreachable server is INDEX_ERROR after the retries, without the key', async () => {
    const deadUrl = url;
    await fake.stop();
    const index = await createQdrantIndex({ url: deadUrl, apiKey: API_KEY, logger, retries: 2, retryBaseMs: 1 });
    const err = (await index.count('c').catch((e: unknown) => e)) as Error;
    expect(err).toMatchObject({ code: 'INDEX_ERROR', details: { collection: 'c', operation: 'count' } });
    expect(logLines.filter((l) => l.includes('retrying'))).toHaveLength(2);
    expect(JSON.stringify({ m: err.message, c: String(err.cause) })).not.toContain(API_KEY);
    fake = new FakeQdrant(); // afterEach stops it
    await fake.start();
  });

  it('upserts in batches with wait=true, points as sent, undefined payload fields omitted', async () => {
    fake.on('PUT', '/collections/c/points?wait=true', ok({ operation_id: 1, status: 'completed' }));
    const index = await open({ upsertBatch: 4 });
    const points: IndexPoint[] = Array.from({ length: 10 }, (_, n) => ({
      id: id(n),
      vector: new Float32Array([n, 1, 0.5]),
      payload: payload(n),
    }));
    await index.upsert('c', points);
    const calls = fake.to('PUT', /^\/collections\/c\/points/);
    expect(calls.map((c) => c.url)).toEqual(Array(3).fill('/collections/c/points?wait=true'));
    const bodies = calls.map(jsonOf) as { points: { id: string; vector: number[]; payload: Record<string, unknown> }[] }[];
    expect(bodies.map((b) => b.points.length)).toEqual([4, 4, 2]);
    const sent = bodies.flatMap((b) => b.points);
    expect(sent.map((p) => p.id)).toEqual(points.map((p) => p.id));
    expect(sent[3].vector).toEqual([3, 1, 0.5]);
    expect('page' in sent[0].payload).toBe(false);
    expect(sent[0].payload).toEqual(JSON.parse(JSON.stringify(payload(0))));

    await index.upsert('c', []);
    expect(fake.to('PUT', /^\/collections\/c\/points/)).toHaveLength(3);
  });

  it('rejects a bad point before sending anything', async () => {
    const index = await open();
    const good = { id: id(1), vector: new Float32Array([1, 0]), payload: payload(1) };
    await expect(index.upsert('c', [good, { ...good, id: 'not-a-uuid' }])).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(index.upsert('c', [good, { ...good, vector: new Float32Array([NaN, 0]) }])).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('writes the BM25 sparse vector beside the dense one when the collection has it, dense alone when not', async () => {
    const withSparse = { config: { params: { vectors: { size: 2, distance: 'Cosine' }, sparse_vectors: { bm25: { modifier: 'idf' } } } } };
    const denseOnly = { config: { params: { vectors: { size: 2, distance: 'Cosine' } } } };
    fake.on('GET', '/collections/s', ok(withSparse));
    fake.on('GET', '/collections/d', ok(denseOnly));
    fake.on('PUT', /^\/collections\/[sd]\/points\?wait=true$/, ok({ operation_id: 1, status: 'completed' }));
    const index = await open();
    const point = { id: id(1), vector: new Float32Array([0.6, 0.8]), payload: { ...payload(1), title: 'Zebra', text: 'zebras run' } };
    await index.upsert('s', [point]);
    await index.upsert('s', [point]);
    await index.upsert('d', [point]);
    const sent = (url: string) => (jsonOf(fake.to('PUT', url)[0]) as { points: { vector: unknown }[] }).points[0].vector;
    const v = sent('/collections/s/points?wait=true') as { '': number[]; bm25: { indices: number[]; values: number[] } };
    expect(v[''][0]).toBeCloseTo(0.6, 6);
    expect(v.bm25.indices).toHaveLength(2); // zebra, run
    expect(v.bm25.values.every((x) => x > 0)).toBe(true);
    expect((sent('/collections/d/points?wait=true') as number[])[1]).toBeCloseTo(0.8, 6);
    // The collection's shape is asked once, not per upsert.
    expect(fake.to('GET', '/collections/s')).toHaveLength(1);
  });

  it('hybridSearch is one Query API call: dense and sparse prefetches, the filter in each, RRF on the server', async () => {
    fake.on('GET', '/collections/s', ok({ config: { params: { vectors: { size: 2, distance: 'Cosine' }, sparse_vectors: { bm25: { modifier: 'idf' } } } } }));
    fake.on('GET', '/collections/d', ok({ config: { params: { vectors: { size: 2, distance: 'Cosine' } } } }));
    fake.on('POST', '/collections/s/points/query', ok({ points: [{ id: id(2), score: 0.03, payload: payload(2) }] }));
    const index = await open();
    const hits = await index.hybridSearch('s', new Float32Array([1, 0]), 'zebra stripes', 5, { aclAny: ['g1'] }, { depth: 40 });
    expect(hits).toEqual([{ id: id(2), score: 0.03, payload: payload(2) }]);
    const body = jsonOf(fake.to('POST', '/collections/s/points/query')[0]) as {
      prefetch: { query: unknown; using?: string; limit: number; filter: unknown }[];
      query: unknown;
      limit: number;
      with_payload: boolean;
      filter?: unknown;
    };
    const acl = { must: [{ should: [{ is_empty: { key: 'acl' } }, { key: 'acl', match: { any: ['g1'] } }] }] };
    expect(body.prefetch).toHaveLength(2);
    expect(body.prefetch[0]).toEqual({ query: [1, 0], limit: 40, filter: acl });
    expect(body.prefetch[1]).toMatchObject({ using: 'bm25', limit: 40, filter: acl });
    expect((body.prefetch[1].query as { values: number[] }).values).toEqual([1, 1]);
    expect(body.query).toEqual({ rrf: { k: 61 } });
    expect(body).toMatchObject({ limit: 5, with_payload: true });
    expect(body.filter).toBeUndefined();
    // No terms left after analysis: the dense prefetch alone.
    await index.hybridSearch('s', new Float32Array([1, 0]), 'the of', 5);
    expect((jsonOf(fake.to('POST', '/collections/s/points/query')[1]) as { prefetch: unknown[] }).prefetch).toHaveLength(1);
    // A collection without the sparse vector: undefined, and no query sent.
    expect(await index.hybridSearch('d', new Float32Array([1, 0]), 'zebra', 5)).toBeUndefined();
    expect(fake.to('POST', '/collections/d/points/query')).toHaveLength(0);
    expect(await index.hybridSearch('s', new Float32Array([1, 0]), 'zebra', 0)).toEqual([]);
  });

  it('search mode hybrid fuses on the server when it can, and keeps the in-memory BM25 for a dense-only collection', async () => {
    fake.on('GET', '/collections/s', ok({ config: { params: { vectors: { size: 2, distance: 'Cosine' }, sparse_vectors: { bm25: { modifier: 'idf' } } } } }));
    fake.on('GET', '/collections/d', ok({ config: { params: { vectors: { size: 2, distance: 'Cosine' } } } }));
    fake.on('POST', '/collections/s/points/query', ok({ points: [{ id: id(2), score: 0.03, payload: payload(2) }] }));
    fake.on('POST', '/collections/d/points/query', ok({ points: [{ id: id(3), score: 0.9, payload: payload(3) }] }));
    const index = await open();
    const lexicalCalls: string[] = [];
    const lexical = async (collection: string) => ({
      refresh: async () => undefined,
      rebuild: async () => undefined,
      size: 1,
      search: async () => {
        lexicalCalls.push(collection);
        return [{ id: id(4), score: 7, payload: payload(4) }];
      },
    });
    const embedder = {
      modelId: 'm',
      dimension: 2,
      embedDocuments: async (t: string[]) => t.map(() => new Float32Array([1, 0])),
      embedQuery: async () => new Float32Array([1, 0]),
      close: async () => undefined,
    };
    let served = 's';
    const service = createSearchService({ index, embedder, collection: async () => served, lexical, mode: 'hybrid' });
    const viewer = { groups: ['g1'], unrestricted: false };
    const onServer = await service.search('zebra', 3, viewer);
    expect(onServer.hits).toEqual([{ id: id(2), score: 0.03, payload: payload(2) }]);
    expect(lexicalCalls).toEqual([]);
    served = 'd';
    const inMemory = await service.search('zebra', 3, viewer);
    expect(lexicalCalls).toEqual(['d']);
    expect(inMemory.hits.map((h) => h.id).sort()).toEqual([id(3), id(4)].sort());
  });

  it('switches an alias atomically: one request with the delete and the create', async () => {
    fake.on('GET', '/collections', ok({ collections: [{ name: 'v1' }, { name: 'v2' }] }));
    fake.on('POST', '/collections/aliases', ok(true));
    const index = await open();
    await index.setAlias('live', 'v2');
    const calls = fake.to('POST', '/collections/aliases');
    expect(calls).toHaveLength(1);
    expect(jsonOf(calls[0]).actions).toEqual([
      { delete_alias: { alias_name: 'live' } },
      { create_alias: { alias_name: 'live', collection_name: 'v2' } },
    ]);

    await expect(index.setAlias('live', 'v3')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(index.setAlias('v1', 'v2')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(fake.to('POST', '/collections/aliases')).toHaveLength(1);
  });

  it('finds an alias among the server\u2019s aliases', async () => {
    fake.on('GET', '/aliases', ok({ aliases: [{ alias_name: 'live', collection_name: 'v2' }] }));
    const index = await open();
    expect(await index.getAlias('live')).toBe('v2');
    expect(await index.getAlias('other')).toBeUndefined();
  });

  it('scroll pages through next_page_offset and visits every point once', async () => {
    const all = Array.from({ length: 5 }, (_, n) => ({ id: id(n), payload: payload(n) }));
    fake.on('POST', '/collections/c/points/scroll', (req) => {
      const body = jsonOf(req) as { offset?: string; limit: number; with_vector: boolean };
      expect(body.with_vector).toBe(false);
      const from = body.offset ? all.findIndex((p) => p.id === body.offset) : 0;
      const page = all.slice(from, from + body.limit);
      return ok({ points: page, next_page_offset: all[from + body.limit]?.id ?? null });
    });
    const index = await open({ scrollPage: 2 });
    const seen: string[] = [];
    await index.scroll('c', { documentId: 'doc_1' }, (pid) => seen.push(pid));
    expect(seen).toEqual(all.map((p) => p.id));
    const calls = fake.to('POST', '/collections/c/points/scroll');
    expect(calls).toHaveLength(3);
    expect(jsonOf(calls[0]).filter).toEqual({ must: [{ key: 'documentId', match: { value: 'doc_1' } }] });
  });

  describe('snapshots', () => {
    const bytes = Buffer.from('pretend this is a tar archive of a collection');
    const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

    function serveSnapshot(checksum: string): void {
      fake.on('GET', '/aliases', ok({ aliases: [] }));
      fake.on('POST', '/collections/c/points/count', ok({ count: 3 }));
      fake.on('POST', '/collections/c/snapshots?wait=true', ok({ name: 'c-1-2024.snapshot', creation_time: '2024-05-01T10:00:00', size: bytes.length, checksum }));
      fake.on('GET', '/collections/c/snapshots/c-1-2024.snapshot', { raw: bytes });
      fake.on('DELETE', '/collections/c/snapshots/c-1-2024.snapshot?wait=true', ok(true));
    }

    it('downloads into destDir, verifies the checksum, and removes the server copy', async () => {
      serveSnapshot(sha(bytes));
      const index = await open();
      const info = await index.createSnapshot('c', dir);
      expect(info).toEqual({
        collection: 'c',
        path: path.join(dir, 'c-1-2024.snapshot'),
        points: 3,
        bytes: bytes.length,
        createdAt: '2024-05-01T10:00:00.000Z',
      });
      expect(await fsp.readFile(info.path)).toEqual(bytes);
      expect(await fsp.readFile(`${info.path}.sha256`, 'utf8')).toBe(`${sha(bytes)}  c-1-2024.snapshot\n`);
      expect(fake.to('GET', '/collections/c/snapshots/c-1-2024.snapshot')[0].headers['api-key']).toBe(API_KEY);
      expect(fake.to('DELETE', /snapshots\/c-1-2024/)).toHaveLength(1);
    });

    it('a checksum mismatch is INDEX_ERROR and leaves no file behind', async () => {
      serveSnapshot(sha('something else'));
      const index = await open();
      await expect(index.createSnapshot('c', dir)).rejects.toMatchObject({
        code: 'INDEX_ERROR',
        message: expect.stringContaining('checksum'),
        details: { collection: 'c' },
      });
      expect(await fsp.readdir(dir)).toEqual([]);
      expect(fake.to('DELETE', /snapshots\/c-1-2024/)).toHaveLength(1);
    });

    it('restores by uploading the file with its recorded checksum and priority=snapshot', async () => {
      const file = path.join(dir, 'c-1-2024.snapshot');
      await fsp.writeFile(file, bytes);
      await fsp.writeFile(`${file}.sha256`, `${sha(bytes)}  c-1-2024.snapshot\n`);
      fake.on('POST', /^\/collections\/restored\/snapshots\/upload\?/, ok(true));
      fake.on('DELETE', /^\/collections\/restored\/snapshots\/srag-restore-/, ok(true));
      fake.on('GET', '/collections/restored', ok({ config: { params: { vectors: { size: 4, distance: 'Cosine' } } }, payload_schema: {
        documentId: { data_type: 'keyword' }, contentHash: { data_type: 'keyword' }, acl: { data_type: 'keyword' },
      } }));
      const index = await open();
      await index.restoreSnapshot(file, 'restored');
      const [upload] = fake.to('POST', /^\/collections\/restored\/snapshots\/upload/);
      const query = new URL(upload.url, url).searchParams;
      expect(query.get('priority')).toBe('snapshot');
      expect(query.get('checksum')).toBe(sha(bytes));
      expect(upload.headers['content-type']).toMatch(/^multipart\/form-data/);
      expect(upload.headers['api-key']).toBe(API_KEY);
      expect(upload.body.includes(bytes)).toBe(true);
      expect(upload.body.toString('latin1')).toMatch(/name="snapshot"; filename="srag-restore-[0-9a-f]{16}\.snapshot"/);
      // The server keeps uploads among the collection's snapshots: the adapter removes its own.
      const uploadName = /filename="([^"]+)"/.exec(upload.body.toString('latin1'))![1];
      expect(fake.to('DELETE', `/collections/restored/snapshots/${uploadName}?wait=true`)).toHaveLength(1);

      // A damaged file no longer matches its recorded checksum; the server refuses it and nothing is retried.
      await fsp.writeFile(file, Buffer.concat([bytes, Buffer.from('x')]));
      fake.on('POST', /^\/collections\/other\/snapshots\/upload\?/, fail(400, 'Bad request: Snapshot checksum mismatch'));
      await expect(index.restoreSnapshot(file, 'other')).rejects.toMatchObject({ code: 'INDEX_ERROR' });
      const [refused] = fake.to('POST', /^\/collections\/other\/snapshots\/upload/);
      expect(new URL(refused.url, url).searchParams.get('checksum')).toBe(sha(bytes));

      await expect(index.restoreSnapshot(path.join(dir, 'missing.snapshot'), 'c')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });
  });

  it('re-uploads a snapshot after 503, but not after a 500 from a failed recovery', async () => {
    const file = path.join(dir, 'x.snapshot');
    await fsp.writeFile(file, 'not a tar archive');
    fake.on('POST', /^\/collections\/a\/snapshots\/upload\?/, fail(503, 'Service unavailable'), 1);
    fake.on('POST', /^\/collections\/a\/snapshots\/upload\?/, ok(true));
    fake.on('POST', /^\/collections\/b\/snapshots\/upload\?/, fail(500, 'Service internal error: File IO error: Malformed tar archive'));
    const index = await open();
    await index.restoreSnapshot(file, 'a');
    expect(fake.to('POST', /^\/collections\/a\/snapshots\/upload/)).toHaveLength(2);
    await expect(index.restoreSnapshot(file, 'b')).rejects.toMatchObject({
      code: 'INDEX_ERROR',
      message: expect.stringContaining('Malformed tar archive'),
      details: { collection: 'b', status: 500 },
    });
    expect(fake.to('POST', /^\/collections\/b\/snapshots\/upload/)).toHaveLength(1);
  });

  it('is closed after close()', async () => {
    const index = await open();
    await index.close();
    await expect(index.count('c')).rejects.toMatchObject({ code: 'INDEX_ERROR' });
    expect(fake.requests).toHaveLength(0);
  });
});
