import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttpEmbedder, embeddingsEndpoint, type HttpEmbedderOptions } from '../../src/embed/http.js';
import { createLogger, type Logger } from '../../src/obs/logger.js';

// A tiny OpenAI-compatible embeddings server on 127.0.0.1. Each test scripts its responses.
interface Seen {
  path: string;
  authorization?: string;
  body: { model: string; input: string[] };
}
type Handler = (seen: Seen, res: ServerResponse, req: IncomingMessage) => void;

/** A deterministic 3-d "embedding" of a text, not unit length (the adapter must normalise). */
const fakeVector = (text: string) => [text.length + 1, [...text].reduce((s, c) => s + c.charCodeAt(0), 0) % 97, 2];
const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

/** Answers with data in reverse order, so only `index` tells which vector is which. */
function answer(seen: Seen, res: ServerResponse): void {
  const data = seen.body.input.map((text, index) => ({ object: 'embedding', index, embedding: fakeVector(text) })).reverse();
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data, model: seen.body.model }));
}

let server: Server;
let baseUrl: string;
let seen: Seen[];
let script: Handler[];
let logLines: string[];
let logger: Logger;

beforeEach(async () => {
  seen = [];
  script = [];
  logLines = [];
  logger = createLogger('debug', {}, (line) => logLines.push(line));
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      const s: Seen = { path: req.url ?? '', authorization: req.headers.authorization, body: JSON.parse(raw) };
      seen.push(s);
      (script.shift() ?? answer)(s, res, req);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const make = (over: Partial<HttpEmbedderOptions> = {}) =>
  createHttpEmbedder({ url: baseUrl, model: 'bge-small', batchSize: 3, logger, retryBaseMs: 1, ...over });

describe('embeddingsEndpoint', () => {
  it.each([
    ['http://h:1', 'http://h:1/v1/embeddings'],
    ['http://h:1/', 'http://h:1/v1/embeddings'],
    ['http://h:1/v1', 'http://h:1/v1/embeddings'],
    ['http://h:1/v1/', 'http://h:1/v1/embeddings'],
    ['http://h:1/proxy/openai/v1', 'http://h:1/proxy/openai/v1/embeddings'],
  ])('%s -> %s', (url, endpoint) => expect(embeddingsEndpoint(url)).toBe(endpoint));
});

describe('HTTP embedder against a fake OpenAI-compatible server', () => {
  it('probes the dimension once at creation and names the model', async () => {
    const e = await make({ url: `${baseUrl}/v1/` });
    expect(e.dimension).toBe(3);
    expect(e.modelId).toBe('http:bge-small');
    expect(seen).toHaveLength(1);
    expect(seen[0].path).toBe('/v1/embeddings');
    expect(seen[0].body.model).toBe('bge-small');
  });

  it('batches by batchSize, orders by index and returns unit vectors in input order', async () => {
    const e = await make();
    const texts = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta'];
    const vectors = await e.embedDocuments(texts);
    expect(seen.slice(1).map((s) => s.body.input)).toEqual([texts.slice(0, 3), texts.slice(3, 6), texts.slice(6)]);
    expect(vectors).toHaveLength(texts.length);
    vectors.forEach((v, i) => {
      expect(v).toBeInstanceOf(Float32Array);
      unit(fakeVector(texts[i])).forEach((x, d) => expect(v[d]).toBeCloseTo(x, 6));
    });
    expect(await e.embedDocuments([])).toEqual([]);
  });

  it('applies the query prefix to queries only', async () => {
    const e = await make({ queryPrefix: 'query: ' });
    const q = await e.embedQuery('what is IL-6?');
    await e.embedDocuments(['what is IL-6?']);
    expect(seen[1].body.input).toEqual(['query: what is IL-6?']);
    expect(seen[2].body.input).toEqual(['what is IL-6?']);
    unit(fakeVector('query: what is IL-6?')).forEach((x, d) => expect(q[d]).toBeCloseTo(x, 6));
  });

  it('retries a 500 and succeeds', async () => {
    const e = await make();
    script.push((_s, res) => res.writeHead(500).end('boom'));
    const [v] = await e.embedDocuments(['x']);
    expect(v).toHaveLength(3);
    expect(seen).toHaveLength(3); // probe, failed try, retry
    const warn = logLines.map((l) => JSON.parse(l)).find((l) => l.level === 'warn');
    expect(warn).toMatchObject({ msg: 'embedder: http request failed, retrying', status: 500, attempt: 1 });
  });

  it('retries 429 and dropped connections', async () => {
    const e = await make();
    script.push((_s, res) => res.writeHead(429, { 'retry-after': '0' }).end());
    script.push((_s, _res, req) => req.socket.destroy());
    expect(await e.embedDocuments(['x'])).toHaveLength(1);
    expect(seen).toHaveLength(4);
  });

  it('gives up with UPSTREAM_ERROR after the retries are spent', async () => {
    const e = await make({ maxRetries: 2 });
    for (let i = 0; i < 3; i++) script.push((_s, res) => res.writeHead(503).end());
    await expect(e.embedDocuments(['x'])).rejects.toMatchObject({ code: 'UPSTREAM_ERROR', details: { status: 503, attempts: 3 } });
    expect(seen).toHaveLength(4);
  });

  it('fails at once with UPSTREAM_ERROR on a 400, with the status in details', async () => {
    const e = await make();
    script.push((_s, res) =>
      res
        .writeHead(400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { message: 'input "secret words" too long', type: 'invalid_request_error' } })),
    );
    const err = await e.embedDocuments(['secret words']).catch((x: unknown) => x);
    expect(err).toMatchObject({ code: 'UPSTREAM_ERROR', details: { status: 400, upstreamCode: 'invalid_request_error' } });
    expect(JSON.stringify(err) + (err as Error).message).not.toContain('secret words');
    expect(seen).toHaveLength(2);
  });

  it('fails creation when the probe is rejected', async () => {
    script.push((_s, res) => res.writeHead(404).end());
    await expect(make()).rejects.toMatchObject({ code: 'UPSTREAM_ERROR', details: { status: 404 } });
  });

  it('rejects malformed responses', async () => {
    const e = await make();
    script.push((_s, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: [] })));
    await expect(e.embedDocuments(['x'])).rejects.toMatchObject({ code: 'UPSTREAM_ERROR' });
    script.push((s, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ data: s.body.input.map(() => ({ index: 0, embedding: [1, 2, 3] })) })),
    );
    await expect(e.embedDocuments(['x', 'y'])).rejects.toMatchObject({ code: 'UPSTREAM_ERROR' });
    script.push((s, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ data: s.body.input.map((_, index) => ({ index, embedding: [1, 2] })) })),
    );
    await expect(e.embedDocuments(['x'])).rejects.toMatchObject({ code: 'UPSTREAM_ERROR' });
  });

  it('treats a hung server as a timeout and retries it', async () => {
    const e = await make({ timeoutMs: 100, maxRetries: 1 });
    script.push(() => {}, () => {});
    await expect(e.embedDocuments(['x'])).rejects.toMatchObject({ code: 'UPSTREAM_ERROR', message: expect.stringContaining('timeout') });
    expect(seen).toHaveLength(3);
  });

  it('sends the API key as a bearer token and never logs it or the inputs', async () => {
    const key = 'sk-test-VERY-SECRET-KEY';
    const e = await make({ apiKey: key });
    script.push((_s, res) => res.writeHead(502).end());
    script.push((_s, res) => res.writeHead(401).end());
    await expect(e.embedDocuments(['confidential passage text'])).rejects.toMatchObject({ code: 'UPSTREAM_ERROR' });
    expect(seen.every((s) => s.authorization === `Bearer ${key}`)).toBe(true);
    expect(logLines.length).toBeGreaterThan(0);
    const all = logLines.join('\n');
    expect(all).not.toContain(key);
    expect(all).not.toContain('confidential');
    expect(all).not.toContain('dimension probe');
  });

  it('refuses work after close()', async () => {
    const e = await make();
    await e.close();
    await expect(e.embedQuery('x')).rejects.toMatchObject({ code: 'UPSTREAM_ERROR' });
  });
});
