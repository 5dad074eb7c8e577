// The answer page in a real browser (Debian's chromium, driven by playwright-core) against the real
// stack: Temporal dev server, worker processes, the ONNX model and the API with two token users in
// different groups. Every wait is on a selector or a state the page sets, never a fixed sleep.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, PROJECT_ROOT } from '../../src/config.js';
import { startFakeOpenAi } from '../fixtures/generate/fake-openai.js';
import { itemRanges, trackedPageText } from '../../src/web/page-text.js';
import { startStackApi, waitForJob } from '../support/http.js';
import { pdfPageItems } from '../support/pdf-items.js';
import { EVAL_DIR, startStack, type Stack } from '../support/stack.js';

const CHROMIUM = '/usr/bin/chromium';
const PDF = join(EVAL_DIR, 'pdfs', 'pdfplumber-realworld', 'cupertino_usd_4-6-16.pdf');
const OUT = join(PROJECT_ROOT, 'test-output', 'web');
const T = { ann: 'ann-token-0123456789abcdef', ben: 'ben-token-0123456789abcdef' };
const TOKENS = `${T.ann}=ann:board,${T.ben}=ben:eng`;
const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const squash = (s: string) => s.replace(/\s+/g, '');
/** The documents status once the list has loaded (not "Loading documents…"). */
const LISTED = /^(\d+ documents?|No documents you can read yet)\.$/;

const missing = !existsSync(CHROMIUM) ? `${CHROMIUM} is missing (scripts/setup.sh installs it when run as root)` : !existsSync(PDF) ? `${PDF} is missing` : '';
// The default reporter shows a skipped file as a count only: say why in the output too.
if (missing) console.warn(`web-page.test.ts: the browser tests are SKIPPED: ${missing}`);

describe.skipIf(missing !== '')(`answer page in a browser${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  let stack: Stack;
  let api: { url: string; close: () => Promise<void> };
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  let pdfId: string;
  /** The servers under test: the only origins the page may talk to. */
  const origins = new Set<string>();
  /** Console errors and CSP refusals the page caused (the 401 of the signed-out probe is by design). */
  const problems: string[] = [];

  const signIn = async (token: string) => {
    await page.goto(api.url);
    await page.locator('#token').waitFor({ state: 'visible' });
    await page.fill('#token', token);
    await page.click('#token-form button[type=submit]');
    await page.locator('#main').waitFor({ state: 'visible' });
    await page.locator('#docs-status', { hasText: LISTED }).waitFor();
  };
  const titles = () => page.locator('#docs tbody tr td:first-child').allTextContents();
  /** A new tab on `url`, signed in with `token`, its document list loaded. */
  const signedInTab = async (url: string, token: string, viewport?: { width: number; height: number }) => {
    const tab = await context.newPage();
    tab.setDefaultTimeout(120_000);
    if (viewport) await tab.setViewportSize(viewport);
    await tab.goto(url);
    await tab.fill('#token', token);
    await tab.press('#token', 'Enter');
    await tab.locator('#docs-status', { hasText: LISTED }).waitFor();
    return tab;
  };

  beforeAll(async () => {
    stack = await startStack({ SRAG_API_TOKENS: TOKENS });
    await stack.startWorkers();
    api = await startStackApi(stack, loadConfig({ ...stack.env }));
    origins.add(new URL(api.url).origin);
    const form = new FormData();
    form.append('files', new Blob([readFileSync(PDF)]), 'cupertino_usd_4-6-16.pdf');
    form.append('acl', 'board');
    const res = await fetch(`${api.url}/v1/ingest`, { method: 'POST', headers: auth(T.ann), body: form });
    expect(res.status).toBe(202);
    const job = await waitForJob(api.url, ((await res.json()) as { jobId: string }).jobId, undefined, 600_000, auth(T.ann));
    expect(job.documents.done).toBe(1);
    const docs = (await (await fetch(`${api.url}/v1/documents`, { headers: auth(T.ann) })).json()) as { documents: Array<{ documentId: string }> };
    pdfId = docs.documents[0].documentId;

    userDataDir = mkdtempSync(join(tmpdir(), 'srag-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1400, height: 1000 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(120_000);
    page.on('console', (m) => {
      const text = m.text();
      if (/status of 401/.test(text)) return;
      if (m.type() === 'error' || /Content Security Policy|Refused to/.test(text)) problems.push(text);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    // Air-gapped and untracked: every request the page makes goes to the server it came from.
    context.on('request', (r) => {
      const url = new URL(r.url());
      if (!['data:', 'blob:'].includes(url.protocol) && !origins.has(url.origin)) problems.push(`request to ${r.url()}`);
    });
  }, 600_000);

  afterAll(async () => {
    await context?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await api?.close();
    await stack?.stop();
  });

  it('serves the page without a credential, under a strict CSP, and asks for a token', async () => {
    const res = await fetch(`${api.url}/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    // Data is another matter.
    expect((await fetch(`${api.url}/v1/documents`)).status).toBe(401);
    expect((await fetch(`${api.url}/v1/documents/${pdfId}/source`)).status).toBe(401);
    await page.goto(api.url);
    // The page asks who is calling first; without a token the answer is 401 and it asks for one.
    await page.locator('#signin').waitFor({ state: 'visible' });
    expect(await page.locator('#main').isVisible()).toBe(false);
  });

  it('streams an answer; citation [1] opens the PDF page with exactly the quoted words highlighted', async () => {
    await signIn(T.ann);
    expect(await titles()).toHaveLength(1);
    await page.fill('#question', 'How long may each speaker address the board?');
    await page.press('#question', 'Enter');
    await page.locator('#answer-region[data-state="done"]').waitFor();
    expect(await page.locator('#answer').textContent()).toMatch(/\[1\]/);

    await page.click('#answer button.cite[data-n="1"]');
    await page.locator('#viewer-body[data-state="ready"]').waitFor();
    const quote = (await page.locator('#viewer-quote').textContent()) ?? '';
    expect(quote.length).toBeGreaterThan(10);
    // The page rebuilt from pdf.js's items is the very text srag indexed, so offsets mean the same here.
    expect(await page.locator('.pdf-page').getAttribute('data-consistent')).toBe('true');
    const marks = await page.locator('#viewer-body .textLayer mark.highlight').allTextContents();
    expect(marks.length).toBeGreaterThan(0);
    expect(squash(marks.join(''))).toBe(squash(quote));
    // Visible on screen, in the viewer beside the answer.
    await expect(page.locator('#viewer-body mark.highlight').first().isVisible()).resolves.toBe(true);
    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: join(OUT, 'answer.png'), fullPage: false });
    expect(problems).toEqual([]);
  });

  it('marks the occurrence the offsets name when the words occur twice on the page (no text search)', async () => {
    const content = (await (await fetch(`${api.url}/v1/documents/${pdfId}/content`, { headers: auth(T.ann) })).json()) as {
      text: string;
      pages: Array<{ page: number; start: number; end: number }>;
    };
    const phrase = 'address the Board during Public Comments';
    const first = content.text.indexOf(phrase);
    const second = content.text.indexOf(phrase, first + 1);
    const page1 = content.pages[0];
    expect(first).toBeGreaterThanOrEqual(0);
    expect(second).toBeGreaterThan(first);
    expect(second + phrase.length).toBeLessThanOrEqual(page1.end);
    // What the offsets name, worked out here from pdf.js's items of that page.
    const items = (await pdfPageItems(new Uint8Array(readFileSync(PDF)), [1])).get(1) ?? [];
    const tracked = trackedPageText(items);
    const expected = (at: number) => itemRanges(tracked, at - page1.start, at + phrase.length - page1.start).map((r) => ({ item: r.item, text: items[r.item].str.slice(r.from, r.to) }));
    expect(expected(second)).not.toEqual(expected(first));

    const tab = await signedInTab(api.url, T.ann);
    try {
      // The page's own viewer, opened on a citation of the second occurrence.
      await tab.evaluate(`(async () => {
        document.getElementById('viewer').hidden = false;
        const { showCitation } = await import('/assets/app/viewer.js');
        await showCitation(document.getElementById('viewer-body'), { documentId: '${pdfId}', page: 1, start: ${second}, end: ${second + phrase.length} }, () => {});
      })()`);
      const marked = await tab.evaluate(`[...document.querySelectorAll('#viewer-body mark.highlight')].map((m) => ({ item: Number(m.parentElement.dataset.item), text: m.textContent }))`);
      expect(marked).toEqual(expected(second));
    } finally {
      await tab.close();
    }
  });

  it('a caller outside the group sees neither the document in the list nor its content or bytes', async () => {
    for (const route of ['content', 'source']) {
      expect((await fetch(`${api.url}/v1/documents/${pdfId}/${route}`, { headers: auth(T.ben) })).status, route).toBe(404);
      expect((await fetch(`${api.url}/v1/documents/${pdfId}/${route}`, { headers: auth(T.ann) })).status, route).toBe(200);
    }
    const source = await fetch(`${api.url}/v1/documents/${pdfId}/source`, { headers: auth(T.ann) });
    expect(source.headers.get('content-type')).toBe('application/pdf');
    expect(source.headers.get('content-disposition')).toMatch(/^inline;/);
    expect(source.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await source.arrayBuffer()).equals(readFileSync(PDF))).toBe(true);

    await page.click('#signout');
    await signIn(T.ben);
    expect(await titles()).toEqual([]);
    await page.fill('#question', 'How long may each speaker address the board?');
    await page.press('#question', 'Enter');
    await page.locator('#answer-region[data-state="not-found"]').waitFor();
    await expect(page.locator('#answer-status').textContent()).resolves.toMatch(/Not found/);
  });

  it('uploads through the page with progress: the job outcome with its error codes, then the list', async () => {
    await page.setInputFiles('#files', [
      { name: 'field-notes.txt', mimeType: 'text/plain', buffer: Buffer.from('Field notes. The eng offsite is in Porto in June, with a hike on the second day.') },
      { name: 'empty.txt', mimeType: 'text/plain', buffer: Buffer.alloc(0) },
    ]);
    await page.fill('#acl', 'eng');
    await page.click('#upload-button');
    await page.locator('#job[data-state="completed"]').waitFor({ timeout: 300_000 });
    const job = (await page.locator('#job').textContent()) ?? '';
    expect(job).toMatch(/1 of 2 indexed, 1 failed/);
    expect(job).toContain('EMPTY_FILE');
    await expect(page.locator('#upload-progress').getAttribute('value')).resolves.toBe('100');
    await page.locator('#docs tbody tr', { hasText: 'field-notes.txt' }).waitFor();
    expect(await titles()).toEqual(['field-notes.txt']);
    // Its own text, span marked, from a citation.
    await page.fill('#question', 'Where is the eng offsite?');
    await page.press('#question', 'Enter');
    await page.locator('#answer-region[data-state="done"]').waitFor();
    // By keyboard: the marker is a button; Escape closes the source and gives focus back to it.
    await page.focus('#answer button.cite[data-n="1"]');
    await page.keyboard.press('Enter');
    await page.locator('#viewer-body[data-state="ready"]').waitFor();
    const mark = (await page.locator('#viewer-body pre mark.highlight').textContent()) ?? '';
    expect(squash(mark)).toBe(squash((await page.locator('#viewer-quote').textContent()) ?? ''));
    await page.keyboard.press('Escape');
    await page.locator('#viewer').waitFor({ state: 'hidden' });
    expect(await page.evaluate('document.activeElement?.getAttribute("data-n")')).toBe('1');
    expect(problems).toEqual([]);
  });

  it('works on a phone-sized screen: no sideways scrolling, the source opens below the answer', async () => {
    const phone = await signedInTab(api.url, T.ann, { width: 390, height: 844 });
    try {
      await phone.fill('#question', 'How long may each speaker address the board?');
      await phone.click('#ask-button');
      await phone.locator('#answer-region[data-state="done"]').waitFor({ timeout: 120_000 });
      await phone.click('#answer button.cite[data-n="1"]');
      await phone.locator('#viewer-body[data-state="ready"]').waitFor({ timeout: 120_000 });
      expect(await phone.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
      await expect(phone.locator('#viewer-body mark.highlight').first().isVisible()).resolves.toBe(true);
      await phone.screenshot({ path: join(OUT, 'phone.png') });
      expect(problems).toEqual([]);
    } finally {
      await phone.close();
    }
  });

  it('shows a model\'s tokens as they stream, and swaps them for the verified answer when the draft fails its check', async () => {
    const llm = await startFakeOpenAi();
    const withModel = await startStackApi(stack, loadConfig({ ...stack.env, LLM_URL: llm.url, LLM_MODEL: 'fake' }));
    origins.add(new URL(withModel.url).origin);
    // A draft that cites a source that does not exist: the server replaces it with the extractive answer.
    llm.reply({ deltas: ['Each speaker ', 'may talk for ', 'ten minutes [7].'] });
    const tab = await signedInTab(withModel.url, T.ann);
    try {
      // Every text the answer ever showed, however fast the events came.
      await tab.evaluate(`(() => {
        window.shown = [];
        new MutationObserver((records) => {
          for (const r of records) for (const n of r.addedNodes) window.shown.push(n.textContent);
        }).observe(document.getElementById('answer'), { childList: true, subtree: true, characterData: true });
      })()`);
      await tab.fill('#question', 'How long may each speaker address the board?');
      await tab.press('#question', 'Enter');
      await tab.locator('#answer-region[data-state="done"]').waitFor({ timeout: 120_000 });
      const shown = (await tab.evaluate('window.shown')) as string[];
      expect(shown.some((t) => t.includes('ten minutes'))).toBe(true);
      const final = (await tab.locator('#answer').textContent()) ?? '';
      expect(final).not.toContain('ten minutes');
      expect(final).toMatch(/\[1\]/);
      expect(llm.requests.length).toBeGreaterThan(0);
      await tab.click('#answer button.cite[data-n="1"]');
      await tab.locator('#viewer-body[data-state="ready"]').waitFor({ timeout: 120_000 });
      const marks = await tab.locator('#viewer-body .textLayer mark.highlight').allTextContents();
      expect(squash(marks.join(''))).toBe(squash((await tab.locator('#viewer-quote').textContent()) ?? ''));
      expect(problems).toEqual([]);
    } finally {
      await tab.close();
      await withModel.close();
      await llm.close();
    }
  });

  it('on a local operator\'s server (no credentials) works without a token', async () => {
    const local = stack.withDataDir(mkdtempSync(join(tmpdir(), 'srag-web-local-')));
    const open = await startStackApi(local, loadConfig({ ...local.env, SRAG_API_TOKENS: '' }));
    origins.add(new URL(open.url).origin);
    const tab = await context.newPage();
    try {
      await tab.goto(open.url);
      await tab.locator('#main').waitFor({ state: 'visible', timeout: 120_000 });
      await expect(tab.locator('#who').textContent()).resolves.toBe('Local operator');
      expect(await tab.locator('#signin').isVisible()).toBe(false);
      await tab.locator('#docs-status', { hasText: 'No documents you can read yet.' }).waitFor({ timeout: 120_000 });
      expect(await tab.locator('#upload-form').isVisible()).toBe(true);
      expect(problems).toEqual([]);
    } finally {
      await tab.close();
      await open.close();
    }
  });
});
