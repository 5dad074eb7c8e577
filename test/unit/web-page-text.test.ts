// The answer page marks a citation on a PDF page from its offsets: the page text is rebuilt from pdf.js
// text items with the origin of every character. Table tests for the mapping, the normaliser held to
// the extractor's own, and the rebuild held to srag's extraction of real PDFs.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pdfjsRoot } from '../../src/http/web-routes.js';
import { createPdfExtractor } from '../../src/parse/pdf-extractor.js';
import { parsePdf } from '../../src/parse/pdf.js';
import { normalizePageText, PAGE_SEPARATOR } from '../../src/parse/pdf-text.js';
import { itemRanges, locateCitation, normalizeTracked, rawPageText, trackedPageText, type PageItem } from '../../src/web/page-text.js';
import { pdfPageItems } from '../support/pdf-items.js';
import { EVAL_DIR } from '../support/stack.js';

/** Items on lines 20 units apart; `x` advances by the item's width unless a gap is given. */
function line(y: number, ...parts: Array<string | { str: string; gap?: number; eol?: boolean }>): PageItem[] {
  let x = 0;
  return parts.map((p) => {
    const { str, gap = 0, eol = false } = typeof p === 'string' ? { str: p } : p;
    x += gap;
    const item = { str, hasEOL: eol, width: str.length * 5, height: 10, x, y };
    x += item.width;
    return item;
  });
}

const identity = (text: string) => ({ text, item: Int32Array.from(text, () => 0), char: Int32Array.from(text, (_c, i) => i) });
const slices = (items: PageItem[], ranges: Array<{ item: number; from: number; to: number }>) => ranges.map((r) => items[r.item].str.slice(r.from, r.to));

describe('rawPageText: the items joined as pdf-parse joins them', () => {
  it.each([
    { name: 'one line, adjacent items', items: line(10, 'Each ', 'speaker'), raw: 'Each speaker' },
    { name: 'hasEOL ends a line', items: [...line(10, { str: 'first', eol: true }), ...line(30, 'second')], raw: 'first\nsecond' },
    { name: 'a y jump without hasEOL starts a line', items: [...line(10, 'first'), ...line(30, 'second')], raw: 'first\nsecond' },
    {
      name: 'a small y wobble does not',
      items: [
        { str: 'sub', width: 15, height: 10, x: 0, y: 10 },
        { str: 'script', width: 30, height: 10, x: 15, y: 12 },
      ],
      raw: 'subscript',
    },
    { name: 'a wide gap on a line is a cell tab', items: line(10, 'Name', { str: 'Value', gap: 40 }), raw: 'Name\tValue' },
    { name: 'an item that is a newline itself', items: [...line(10, 'a'), ...line(30, '\nb')], raw: 'a\nb' },
  ])('$name', ({ items, raw }) => {
    expect(rawPageText(items).text).toBe(raw);
  });
});

describe('normalizeTracked is normalizePageText, with origins', () => {
  it.each([
    'plain text',
    '  leading and trailing  \n',
    'tabs\tbetween\t\tcells',
    'windows\r\nline\rends',
    'control\u0001chars\u007f gone',
    'nbsp\u00a0and\u2009thin spaces',
    'blank\n\n\n\n\nruns',
    'space \n around \n newlines',
    ' \t \n\n \t ',
    '',
    'a\n \n \nb',
  ])('%j', (raw) => {
    const tracked = normalizeTracked(identity(raw));
    expect(tracked.text).toBe(normalizePageText(raw));
    // Every kept character that is not whitespace comes from the same character of the raw text.
    for (let i = 0; i < tracked.text.length; i++) if (/\S/.test(tracked.text[i])) expect(raw[tracked.char[i]]).toBe(tracked.text[i]);
  });
});

describe('itemRanges: offsets to item/char ranges', () => {
  const items = [...line(10, 'the board ', 'meets monthly.', { str: 'Each speaker', gap: 30 }), ...line(30, 'may address ', 'the board', ' for three minutes.')];
  const page = trackedPageText(items);
  const at = (quote: string, from = 0) => {
    const start = page.text.indexOf(quote, from);
    return { start, end: start + quote.length };
  };

  it('builds the expected page text', () => {
    expect(page.text).toBe('the board meets monthly. Each speaker\nmay address the board for three minutes.');
  });

  it.each([
    { name: 'inside one item', quote: 'meets', want: [{ item: 1, from: 0, to: 5 }] },
    { name: 'starting mid-item', quote: 'speaker', want: [{ item: 2, from: 5, to: 12 }] },
    { name: 'across items on one line', quote: 'board meets', want: [{ item: 0, from: 4, to: 10 }, { item: 1, from: 0, to: 5 }] },
    {
      name: 'across a cell tab and a line break (inserted characters belong to no item)',
      quote: 'monthly. Each speaker\nmay',
      want: [{ item: 1, from: 6, to: 14 }, { item: 2, from: 0, to: 12 }, { item: 3, from: 0, to: 3 }],
    },
    { name: 'whole items', quote: 'the board for three minutes.', want: [{ item: 4, from: 0, to: 9 }, { item: 5, from: 0, to: 19 }] },
  ])('$name', ({ quote, want }) => {
    const { start, end } = at(quote);
    expect(itemRanges(page, start, end)).toEqual(want);
  });

  it('marks the occurrence the offsets name when the quote occurs twice on the page', () => {
    const second = at('the board', at('the board').start + 1);
    const ranges = itemRanges(page, second.start, second.end);
    // "the board" (item 0) comes first on the page; the citation points at item 4.
    expect(ranges).toEqual([{ item: 4, from: 0, to: 9 }]);
    expect(slices(items, ranges).join('')).toBe('the board');
  });

  it('clamps to the page', () => {
    expect(itemRanges(page, -5, 3)).toEqual([{ item: 0, from: 0, to: 3 }]);
    expect(itemRanges(page, page.text.length - 3, page.text.length + 50)).toEqual([{ item: 5, from: 16, to: 19 }]);
  });
});

describe('locateCitation', () => {
  const pages = [
    { page: 1, start: 0, end: 100 },
    { page: 2, start: 100, end: 100 },
    { page: 3, start: 100, end: 250 },
  ];
  it.each([
    { name: 'on its page', start: 10, end: 40, page: 1, want: { page: 1, start: 10, end: 40 } },
    { name: 'relative to a later page', start: 120, end: 150, page: 3, want: { page: 3, start: 20, end: 50 } },
    // The page that holds `start` wins over an empty page with the same start, and over a stale page number.
    { name: 'the page holding start, not an empty one or a stale number', start: 100, end: 130, page: 1, want: { page: 3, start: 0, end: 30 } },
    { name: 'without a page number', start: 5, end: 9, page: undefined, want: { page: 1, start: 5, end: 9 } },
  ])('$name', ({ start, end, page, want }) => {
    expect(locateCitation(pages, start, end, page)).toEqual(want);
  });
});

describe('the pdf.js the page is served', () => {
  it('is the very pdfjs-dist that pdf-parse extracts with', () => {
    const version = (file: string) => (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    const fromPdfParse = createRequire(createRequire(import.meta.url).resolve('pdf-parse')).resolve('pdfjs-dist/package.json');
    expect(version(join(pdfjsRoot(), 'package.json'))).toBe(version(fromPdfParse));
  });
});

// The browser renders with pdfjs-dist as installed; srag extracted with the pdf.js inside pdf-parse.
// Rebuilt from pdfjs-dist's items, every page must be exactly the text srag indexed.
const PDF_DIR = join(EVAL_DIR, 'pdfs', 'pdfplumber-realworld');
const PDFS = ['cupertino_usd_4-6-16.pdf', 'federal-register-2020-17221.pdf', 'issue-33-lorem-ipsum.pdf', 'WARN-Report-for-7-1-2015-to-03-25-2016.pdf', '2023-06-20-PV.pdf', 'chelsea_pdta.pdf'].filter((f) =>
  existsSync(join(PDF_DIR, f)),
);

describe.skipIf(PDFS.length === 0)(`pdfjs-dist text items rebuild srag's extraction (${PDF_DIR})`, () => {
  const extractor = createPdfExtractor();
  afterAll(() => extractor.close());

  it.each(PDFS)('%s', async (file) => {
    const bytes = new Uint8Array(readFileSync(join(PDF_DIR, file)));
    const doc = await parsePdf(bytes.slice(), { maxPages: 500, timeoutMs: 60_000, extractor });
    const pages = await pdfPageItems(bytes, doc.pages.map((p) => p.page));
    for (const span of doc.pages) {
      const items = pages.get(span.page) ?? [];
      const rebuilt = trackedPageText(items);
      const indexed = doc.text.slice(span.start, span.end);
      expect(rebuilt.text, `page ${span.page}`).toBe(indexed.endsWith(PAGE_SEPARATOR) ? indexed.slice(0, -PAGE_SEPARATOR.length) : indexed);
      // Every non-blank character points back at the very character of its item.
      for (let i = 0; i < rebuilt.text.length; i++) {
        if (/\s/.test(rebuilt.text[i])) continue;
        expect(items[rebuilt.item[i]]?.str[rebuilt.char[i]], `page ${span.page} char ${i}`).toBe(rebuilt.text[i]);
      }
    }
  });
});
