// GET /v1/documents/:id/content and /source, and the answer page's static routes, through createApp
// with the real parser and a real store: readable only to callers who may read the document, audited,
// and the bytes served so a browser never runs them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSource } from '../../src/parse/index.js';
import { putCatalogRecord, type CatalogRecord } from '../../src/store/catalog.js';
import { startTestApp, type TestApp } from '../support/query-app.js';

const T = { alice: 'alice-token-0123456789', bob: 'bob-token-0123456789abc' };
const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const id = (n: number) => `doc_${n.toString(16).padStart(24, '0')}`;

const MEMO = '# Travel\n\nEmployees book economy class for short flights.\n';
const PAGE = '<html><body><h1>Menu</h1><p>Soup on Mondays.</p><script>alert(1)</script></body></html>';
const CORPUS = '{"_id":"r1","title":"One","text":"First record text."}\n{"_id":"r2","title":"Two","text":"Second record, another group."}\n';

describe('document content and source routes', () => {
  let app: TestApp;
  const get = (path: string, token?: string) => fetch(`${app.url}${path}`, { headers: token ? auth(token) : {} });

  const put = async (n: number, name: string, bytes: string, extra: Partial<CatalogRecord> = {}) => {
    const { hash } = await app.store.putContent(Buffer.from(bytes));
    await putCatalogRecord(app.store, {
      documentId: id(n),
      sourceKey: `upload:alice:${name}`,
      sourceHash: hash,
      sourceName: name,
      contentHash: hash,
      owner: 'alice',
      title: name,
      type: 'markdown',
      acl: ['hr'],
      pii: 'off',
      pipelines: { v1: { collection: 'c', chunks: 1, state: 'indexed' } },
      updatedAt: '2026-01-02T03:04:05.000Z',
      ...extra,
    });
  };

  beforeAll(async () => {
    app = await startTestApp({
      tokens: `${T.alice}=alice:hr,${T.bob}=bob:eng`,
      parse: (bytes, filename) => parseSource(bytes, { filename, limits: { maxFileBytes: 1 << 20, maxPages: 10 } }),
    });
    await put(1, 'memo.md', MEMO);
    await put(2, 'menu.html', PAGE, { type: 'html', acl: [] });
    await put(3, 'corpus.jsonl', CORPUS, { type: 'jsonl', externalId: 'r1', title: 'One' });
    await put(4, 'patients.md', 'Patient Jane Roe, phone 555-0100.', { pii: 'redact' });
    await put(5, 'notes☃ "x".md', 'Plain notes.');
  });
  afterAll(() => app?.close());

  it('gives the parsed text and page spans that citation offsets point into, and audits the document', async () => {
    const res = await get(`/v1/documents/${id(1)}/content`, T.alice);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { text: string; type: string; pages: unknown[]; title: string };
    expect(body).toMatchObject({ type: 'markdown', title: 'memo.md', pages: [] });
    expect(body.text).toContain('Employees book economy class for short flights.');
    expect(app.audits.at(-1)).toMatchObject({ route: '/v1/documents/:documentId/content', documentIds: [id(1)] });
  });

  it('serves the original bytes inline, with their type, never sniffed or run', async () => {
    const md = await get(`/v1/documents/${id(1)}/source`, T.alice);
    expect(md.status).toBe(200);
    expect(await md.text()).toBe(MEMO);
    expect(md.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    expect(md.headers.get('x-content-type-options')).toBe('nosniff');
    expect(md.headers.get('content-disposition')).toBe(`inline; filename="memo.md"; filename*=UTF-8''memo.md`);
    expect(app.audits.at(-1)).toMatchObject({ route: '/v1/documents/:documentId/source', documentIds: [id(1)] });

    const html = await get(`/v1/documents/${id(2)}/source`, T.bob);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html.headers.get('content-security-policy')).toMatch(/sandbox/);
    // A name with quotes and non-ASCII cannot break the header.
    const odd = await get(`/v1/documents/${id(5)}/source`, T.alice);
    expect(odd.headers.get('content-disposition')).toBe(`inline; filename="notes_ _x_.md"; filename*=UTF-8''notes%E2%98%83%20%22x%22.md`);
  });

  it('is a 404 for a caller outside the ACL, exactly like a missing document', async () => {
    for (const route of ['content', 'source']) {
      const denied = await get(`/v1/documents/${id(1)}/${route}`, T.bob);
      const missing = await get(`/v1/documents/${id(99)}/${route}`, T.alice);
      expect([denied.status, missing.status], route).toEqual([404, 404]);
      expect(((await denied.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
      expect((await get(`/v1/documents/${id(1)}/${route}`)).status, `${route} without a token`).toBe(401);
      expect((await get(`/v1/documents/..%2F${id(1)}/${route}`, T.alice)).status).toBe(404);
    }
  });

  it('gives a corpus record its own text but not the shared corpus file; refuses the original of a redacted document', async () => {
    const content = (await (await get(`/v1/documents/${id(3)}/content`, T.alice)).json()) as { text: string };
    expect(content.text).toBe('One\n\nFirst record text.');
    expect((await get(`/v1/documents/${id(3)}/source`, T.alice)).status).toBe(403);
    for (const route of ['content', 'source']) expect((await get(`/v1/documents/${id(4)}/${route}`, T.alice)).status, route).toBe(403);
  });

  it('lists when each document was ingested', async () => {
    const { documents } = (await (await get('/v1/documents', T.alice)).json()) as { documents: Array<{ documentId: string; ingestedAt?: string }> };
    expect(documents.find((d) => d.documentId === id(1))?.ingestedAt).toBe('2026-01-02T03:04:05.000Z');
  });

  it('says who the caller is', async () => {
    expect(await (await get('/v1/me', T.bob)).json()).toEqual({ user: 'bob', groups: ['eng'], scopes: ['query', 'ingest'], unrestricted: false });
  });

  it('serves the page and pdf.js without a credential, under a CSP without inline script or eval', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).not.toMatch(/unsafe|https?:/);
    const html = await page.text();
    // Every script is an external module from this origin: nothing inline for the CSP to allow.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\bstyle=|\bon[a-z]+=|https?:\/\//);
    for (const asset of ['/assets/app/app.js', '/assets/app/page-text.js', '/assets/app/styles.css', '/assets/pdfjs/build/pdf.min.mjs', '/assets/pdfjs/build/pdf.worker.min.mjs']) {
      const res = await get(asset);
      expect(res.status, asset).toBe(200);
    }
    expect((await get('/assets/app/app.js')).headers.get('content-type')).toMatch(/javascript/);
    expect((await get('/assets/pdfjs/build/../package.json')).status).toBe(404);
    expect((await get('/assets/pdfjs/build/%2e%2e/package.json')).status).toBe(404);
    // The API keeps its own, stricter policy.
    expect((await get('/v1/me', T.bob)).headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
  });
});
