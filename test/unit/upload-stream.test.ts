import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import express from 'express';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { errorHandler } from '../../src/http/errors.js';
import { createUploadMiddleware, uploadedFiles } from '../../src/http/upload.js';
import { silentLogger } from '../../src/obs/logger.js';
import { createFsBlobStore } from '../../src/store/fs.js';
import type { BlobStore } from '../../src/store/port.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const sha = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

/** Every file under dir, relative, including the dot-prefixed temp files the store never lists. */
async function allFiles(dir: string): Promise<string[]> {
  const entries = await fsp.readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();
}

interface Reply {
  status: number;
  body: { files?: { originalname: string; size: number; hash: string }[]; error?: { code: string; message: string } };
}

/** Sends raw bytes (or a stream of them) so tests control the multipart framing exactly. */
function send(url: string, contentType: string, body: Buffer | Readable, contentLength?: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': contentType };
    if (Buffer.isBuffer(body)) headers['content-length'] = body.length;
    else if (contentLength !== undefined) headers['content-length'] = contentLength;
    const req = http.request(url, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Reply['body'] }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (Buffer.isBuffer(body)) req.end(body);
    else body.pipe(req);
  });
}

const BOUNDARY = 'srag-test-boundary-7d1f';

function filePart(name: string, data: Buffer, boundary = BOUNDARY): Buffer {
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), data, Buffer.from('\r\n')]);
}

function multipart(files: [string, Buffer][], boundary = BOUNDARY): Buffer {
  return Buffer.concat([...files.map(([n, d]) => filePart(n, d, boundary)), Buffer.from(`--${boundary}--\r\n`)]);
}

describe('createUploadMiddleware', () => {
  let tmp: string;
  let storeDir: string;
  let store: BlobStore;
  let server: http.Server;
  let url: string;

  const limits = { maxFileBytes: 1 * MiB, maxUploadBytes: Math.floor(2.5 * MiB), maxFiles: 5 };

  beforeAll(async () => {
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'srag-upload-'));
    storeDir = path.join(tmp, 'store');
    store = createFsBlobStore(storeDir);
    const app = express();
    const route = (prefix: string, deps: Parameters<typeof createUploadMiddleware>[0]) =>
      app.post(prefix, createUploadMiddleware(deps), (req, res) => {
        res.json({ files: uploadedFiles(req).map(({ originalname, size, hash }) => ({ originalname, size, hash })) });
      });
    route('/upload', { store, ...limits });
    route('/big', { store, maxFileBytes: 256 * MiB, maxUploadBytes: 512 * MiB, maxFiles: 1 });
    app.use(errorHandler(silentLogger));
    server = app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await fsp.rm(tmp, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await fsp.rm(storeDir, { recursive: true, force: true });
  });

  const expectError = (reply: Reply, status: number, code: string) => {
    expect(reply.status).toBe(status);
    expect(reply.body).toEqual({ error: { code, message: expect.any(String) } });
  };

  it('streams three files into the store; each carries its name, size and content hash', async () => {
    const files: [string, Buffer][] = [
      ['one.txt', Buffer.from('first file')],
      ['two.bin', randomBytes(300 * KiB)],
      ['three.md', Buffer.from('# third\n')],
    ];
    const form = new FormData();
    for (const [name, data] of files) form.append('files', new Blob([data]), name);
    const res = await fetch(`${url}/upload`, { method: 'POST', body: form });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Reply['body'];
    expect(body.files).toEqual(files.map(([name, data]) => ({ originalname: name, size: data.length, hash: sha(data) })));
    for (const [, data] of files) expect((await store.get(store.contentKey(sha(data)))).equals(data)).toBe(true);
    expect(await allFiles(storeDir)).toEqual(files.map(([, d]) => store.contentKey(sha(d))).sort());
  });

  it('refuses a request over the total cap with 413; only the files completed before it remain, as documented orphans', async () => {
    const files: [string, Buffer][] = [0, 1, 2].map((i) => [`f${i}.bin`, randomBytes(900 * KiB)]);
    const reply = await send(`${url}/upload`, `multipart/form-data; boundary=${BOUNDARY}`, multipart(files));
    expectError(reply, 413, 'PAYLOAD_TOO_LARGE');
    // 2 x 900 KiB fit in 2.5 MiB; the third crosses it mid-stream and leaves no temp file.
    expect(await allFiles(storeDir)).toEqual(files.slice(0, 2).map(([, d]) => store.contentKey(sha(d))).sort());
  });

  it('refuses a file over the per-file cap with 413 and leaves nothing of it', async () => {
    const reply = await send(`${url}/upload`, `multipart/form-data; boundary=${BOUNDARY}`, multipart([['big.bin', randomBytes(limits.maxFileBytes + 1)]]));
    expectError(reply, 413, 'PAYLOAD_TOO_LARGE');
    expect(await allFiles(storeDir)).toEqual([]);
  });

  it('refuses too many files with 400', async () => {
    const files: [string, Buffer][] = Array.from({ length: limits.maxFiles + 1 }, (_, i) => [`f${i}.txt`, Buffer.from(`file ${i}`)]);
    expectError(await send(`${url}/upload`, `multipart/form-data; boundary=${BOUNDARY}`, multipart(files)), 400, 'INVALID_INPUT');
  });

  it.each([
    ['a boundary that never occurs in the body', `multipart/form-data; boundary=not-the-one`, multipart([['a.txt', Buffer.from('alpha')]])],
    ['a body cut off inside a file', `multipart/form-data; boundary=${BOUNDARY}`, multipart([['a.txt', randomBytes(64 * KiB)]]).subarray(0, 40 * KiB)],
    ['a body without its closing boundary', `multipart/form-data; boundary=${BOUNDARY}`, filePart('a.txt', Buffer.from('alpha'))],
    ['no boundary parameter', 'multipart/form-data', multipart([['a.txt', Buffer.from('alpha')]])],
    ['a malformed part header', `multipart/form-data; boundary=${BOUNDARY}`, Buffer.from(`--${BOUNDARY}\r\n${'x'.repeat(100)}\r\n\r\nalpha\r\n--${BOUNDARY}--\r\n`)],
  ])('answers %s with 400 INVALID_INPUT', async (_what, contentType, body) => {
    expectError(await send(`${url}/upload`, contentType, body), 400, 'INVALID_INPUT');
    expect((await allFiles(storeDir)).filter((f) => path.basename(f).startsWith('.'))).toEqual([]);
  });

  it('streams a 200 MB upload without holding it in memory', { timeout: 120_000 }, async () => {
    const total = 200 * MiB;
    const chunk = MiB;
    const hasher = createHash('sha256');
    const head = Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
    async function* body(): AsyncGenerator<Buffer> {
      yield head;
      for (let sent = 0; sent < total; sent += chunk) {
        const piece = randomBytes(chunk);
        hasher.update(piece);
        yield piece;
      }
      yield tail;
    }
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    let reply: Reply;
    try {
      reply = await send(`${url}/big`, `multipart/form-data; boundary=${BOUNDARY}`, Readable.from(body()), head.length + total + tail.length);
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    const growthMb = (peak - before) / MiB;
    console.log(`upload 200 MB: RSS +${growthMb.toFixed(1)} MB`);
    expect(reply.status).toBe(200);
    expect(reply.body.files).toEqual([{ originalname: 'big.bin', size: total, hash: hasher.digest('hex') }]);
    // Client and server share this process, so the figure bounds both; buffering would add 200+ MB.
    expect(growthMb).toBeLessThan(64);
  });
});

describe('putStream', () => {
  let tmp: string;
  let store: BlobStore;

  beforeEach(async () => {
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'srag-putstream-'));
    store = createFsBlobStore(path.join(tmp, 'store'));
  });
  afterEach(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  async function* pieces(...parts: string[]): AsyncGenerator<Uint8Array> {
    for (const p of parts) yield Buffer.from(p);
  }

  it('hashes while writing, agrees with putContent and is idempotent', async () => {
    const res = await store.putStream(pieces('hello ', 'world'));
    expect(res).toEqual({ hash: sha('hello world'), size: 11 });
    expect(await store.putStream(Readable.from([Buffer.from('hello world')]))).toEqual(res);
    expect(await store.putContent(Buffer.from('hello world'))).toEqual(res);
    expect(await allFiles(path.join(tmp, 'store'))).toEqual([store.contentKey(res.hash)]);
  });

  it('stops past maxBytes with FILE_TOO_LARGE and leaves no temp file', async () => {
    await expect(store.putStream(pieces('12345', '67890'), { maxBytes: 8 })).rejects.toMatchObject({ code: 'FILE_TOO_LARGE' });
    expect(await allFiles(path.join(tmp, 'store'))).toEqual([]);
    expect(await store.putStream(pieces('12345678'), { maxBytes: 8 })).toMatchObject({ size: 8 });
  });

  it('removes the temp file when the source fails midway', async () => {
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('partial');
      throw new Error('source went away');
    }
    await expect(store.putStream(broken())).rejects.toThrow('source went away');
    expect(await allFiles(path.join(tmp, 'store'))).toEqual([]);
  });

  it('creates files 0600 and directories 0700', async () => {
    const { hash } = await store.putStream(pieces('private'));
    await store.put('manifests/job_1', '{}');
    const base = path.join(tmp, 'store');
    const mode = async (p: string) => (await fsp.stat(p)).mode & 0o777;
    expect(await mode(base)).toBe(0o700);
    expect(await mode(path.join(base, 'sources'))).toBe(0o700);
    expect(await mode(path.dirname(path.join(base, store.contentKey(hash))))).toBe(0o700);
    expect(await mode(path.join(base, store.contentKey(hash)))).toBe(0o600);
    expect(await mode(path.join(base, 'manifests'))).toBe(0o700);
    expect(await mode(path.join(base, 'manifests', 'job_1'))).toBe(0o600);
  });
});
