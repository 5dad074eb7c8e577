import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSource } from '../../src/parse/index.js';
import { parseHtml } from '../../src/parse/html.js';

const limits = { maxFileBytes: 1 << 20, maxPages: 10 };

describe('html', () => {
  it('extracts the main article text, without scripts, styles and page chrome', async () => {
    const bytes = readFileSync(new URL('../fixtures/parse/article.html', import.meta.url));
    const result = await parseSource(bytes, { filename: 'article.html', limits });
    if (result.kind !== 'document') throw new Error('expected a document');
    const doc = result.document;
    expect(doc.type).toBe('html');
    expect(doc.title).toBe('Quarterly report & outlook');
    expect(doc.text).toBe(
      [
        'Revenue grew\u00a012%'.replace('\u00a0', ' '),
        'The first quarter closed with strong results in all regions \u2014 especially Europe.',
        'Costs',
        'Costs fell.\nMargins rose.',
        'Q1 12\nQ2 14',
        'line one\n  indented two',
      ].join('\n\n'),
    );
    for (const marker of ['SCRIPT', 'NAV-LINK', 'HEADER-CHROME', 'FOOTER-CHROME', 'ASIDE', 'NOSCRIPT', 'TEMPLATE', 'SVG', 'HIDDEN', 'font-family']) {
      expect(doc.text).not.toContain(marker);
    }
    expect(doc.headings).toEqual([
      { start: 0, end: 16, level: 1, text: 'Revenue grew 12%' },
      { start: doc.text.indexOf('Costs'), end: doc.text.indexOf('Costs') + 5, level: 2, text: 'Costs' },
    ]);
    expect(doc.pages).toEqual([]);
  });

  it('falls back to the whole body minus nav, header, footer and aside when there is no main', () => {
    const doc = parseHtml(
      '<html><body><nav>Menu</nav><header>Brand</header><h1>Hello &amp; welcome</h1>' +
        '<div>first<div>nested</div></div><ul><li>one</li><li>two</li></ul><aside>ad</aside>' +
        '<footer>legal</footer><style>p{}</style></body></html>',
    );
    expect(doc.text).toBe('Hello & welcome\n\nfirst\nnested\n\none\ntwo');
    expect(doc.headings).toEqual([{ start: 0, end: 15, level: 1, text: 'Hello & welcome' }]);
    expect(doc.title).toBeUndefined();
  });

  it('collapses whitespace and keeps inline elements inline', () => {
    const doc = parseHtml('<p>  a\n\n   <em>b</em>c   &lt;d&gt;  </p><p>e</p>');
    expect(doc.text).toBe('a bc <d>\n\ne');
  });

  it('treats role="main" as main content and drops role="navigation" inside it', () => {
    const doc = parseHtml('<div>outside</div><div role="main"><div role="navigation">crumbs</div><p>inside</p></div>');
    expect(doc.text).toBe('inside');
  });

  it('rejects an HTML page without text as NO_TEXT', async () => {
    const bytes = new TextEncoder().encode('<!doctype html><html><head><title>t</title><script>x()</script></head><body> </body></html>');
    await expect(parseSource(bytes, { limits })).rejects.toMatchObject({ name: 'DocumentError', code: 'NO_TEXT' });
  });
});

describe('html: documents that leave <head> open', () => {
  it.each([
    ['<html><head><title>T</title><meta charset=utf-8><p>body text</p>', 'body text'],
    ['<html><head><title>T</title>loose text', 'loose text'],
    ['<head><noscript><img src="pixel"></noscript><title>T</title></head><body>after</body>', 'after'],
  ])('%j', (html, text) => {
    const doc = parseHtml(html);
    expect(doc.text).toBe(text);
    expect(doc.title).toBe('T');
  });
});
