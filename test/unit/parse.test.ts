import { afterAll, describe, expect, it } from 'vitest';
import type { ParsedDocument, ParseResult } from '../../src/domain/types.js';
import { createPdfExtractor, parseSource, PARSER_ID, sniffType } from '../../src/parse/index.js';
import { PAGE_SEPARATOR } from '../../src/parse/pdf-text.js';
import { documentError, outcome } from '../fixtures/parse/errors.js';
import { evalPdf, HAS_EVAL_PDFS, listEvalPdfs, readInventory } from '../fixtures/parse/eval.js';

const limits = { maxFileBytes: 50 * 1024 * 1024, maxPages: 2000 };
const FOUR_PAGES = 'py-pdf-samples/004-pdflatex-4-pages/pdflatex-4-pages.pdf';
const MINIMAL = 'py-pdf-samples/001-trivial/minimal-document.pdf';
const BIG = 'py-pdf-samples/009-pdflatex-geotopo/GeoTopo-komprimiert.pdf';

// One pool of PDF threads for the file: starting pdf.js in a thread costs ~0.3 s per start.
const extractor = createPdfExtractor({ threads: 2 });
afterAll(() => extractor.close());

function asDocument(result: ParseResult): ParsedDocument {
  if (result.kind !== 'document') throw new Error(`expected a document, got ${result.kind}`);
  return result.document;
}

function parsePdfFile(relative: string, options: { maxPages?: number; timeoutMs?: number } = {}) {
  return parseSource(evalPdf(relative), {
    filename: relative.split('/').pop(),
    limits: { ...limits, maxPages: options.maxPages ?? limits.maxPages },
    timeoutMs: options.timeoutMs,
    pdfExtractor: extractor,
  });
}

/** Pages are 1-based, contiguous, cover the text, and differ only by the separator at their end. */
function expectConsistentPages(doc: ParsedDocument): void {
  expect(doc.pages[0].start).toBe(0);
  expect(doc.pages.at(-1)?.end).toBe(doc.text.length);
  doc.pages.forEach((p, i) => {
    expect(p.page).toBe(i + 1);
    expect(p.end).toBeGreaterThanOrEqual(p.start);
    if (i > 0) expect(p.start).toBe(doc.pages[i - 1].end);
    const slice = doc.text.slice(p.start, p.end);
    expect(slice.startsWith(' ') || slice.startsWith('\n')).toBe(false);
  });
  expect(doc.pages.map((p) => doc.text.slice(p.start, p.end)).join('')).toBe(doc.text);
}

describe('parseSource: limits and dispatch', () => {
  it('exports a parser id for the pipeline version', () => {
    expect(PARSER_ID).toMatch(/^srag-parse\/\d+$/);
  });

  it('rejects a file over maxFileBytes before looking at its content', async () => {
    const junk = new Uint8Array(2048).fill(0xff);
    const err = await documentError(parseSource(junk, { limits: { maxFileBytes: 1024, maxPages: 10 } }));
    expect(err.code).toBe('FILE_TOO_LARGE');
    expect(err.details).toEqual({ bytes: 2048, maxFileBytes: 1024 });
  });

  it.each([
    ['0 bytes', new Uint8Array(0), 'EMPTY_FILE'],
    ['whitespace-only text', new TextEncoder().encode('  \n\t \r\n'), 'NO_TEXT'],
    ['whitespace-only markdown', new TextEncoder().encode('\n\n   \n'), 'NO_TEXT'],
    ['binary junk', Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256), 'UNSUPPORTED_TYPE'],
    ['invalid UTF-8', Uint8Array.from([0x68, 0x69, 0xc3, 0x28, 0x21]), 'UNSUPPORTED_TYPE'],
  ])('%s -> %s', async (_name, bytes, code) => {
    expect(await outcome(parseSource(bytes, { filename: 'x.md', limits }))).toBe(code);
  });

  it('keeps plain text verbatim apart from BOM and line endings', async () => {
    const bytes = new TextEncoder().encode('\ufeffFirst line\r\nSecond line\rThird\n');
    const doc = asDocument(await parseSource(bytes, { filename: 'notes.txt', limits }));
    expect(doc).toEqual({ type: 'text', text: 'First line\nSecond line\nThird\n', pages: [], headings: [] });
  });

  it('reports messages without document text', async () => {
    const secret = new TextEncoder().encode('SECRET-CONTENT \u0000\u0001 more');
    const err = await documentError(parseSource(secret, { filename: 'a.txt', limits }));
    expect(err.code).toBe('UNSUPPORTED_TYPE');
    expect(err.message).not.toContain('SECRET');
  });
});

describe.skipIf(!HAS_EVAL_PDFS)('parseSource: PDFs from the evaluation folder', () => {
  it('parses a multi-page PDF into pages with consistent offsets', async () => {
    const doc = asDocument(await parsePdfFile(FOUR_PAGES));
    expect(doc.type).toBe('pdf');
    expect(doc.pages).toHaveLength(4);
    expect(doc.headings).toEqual([]);
    expectConsistentPages(doc);
    const pageText = doc.pages.map((p) => doc.text.slice(p.start, p.end));
    expect(pageText[0].startsWith('Hello, here is some text without a meaning.')).toBe(true);
    expect(pageText[1].startsWith('information. Really? Is there no information?')).toBe(true);
    // The separator closes every page but the last; the printed page number ends each page.
    pageText.slice(0, 3).forEach((t, i) => expect(t.endsWith(`\n${i + 1}${PAGE_SEPARATOR}`)).toBe(true));
    expect(pageText[3].endsWith('\n4')).toBe(true);
    expect(doc.text).not.toMatch(/[ \t]{2,}|\t/);
  });

  it('takes the title from XMP metadata when the Info dictionary has none', async () => {
    const doc = asDocument(await parsePdfFile('py-pdf-samples/020-xmp/output_with_metadata_pymupdf.pdf'));
    expect(doc.title).toBe('Sample PDF with XMP Metadata');
    expect(doc.text).toBe('Hello, World!');
  });

  it('drops a metadata title that names another document, keeps one that matches the cover', async () => {
    const chelsea = asDocument(await parsePdfFile('pdfplumber-realworld/chelsea_pdta.pdf'));
    expect(chelsea.text).toContain('Plan directeur de transport actif');
    expect(chelsea.title).toBeUndefined();
    const notice = asDocument(await parsePdfFile('pdfplumber-realworld/150109DSP-Milw-505-90D.pdf'));
    expect(notice.title).toBe('Public Notification of a Child Death, Serious Injury or Egregious Incident');
  });

  it('reads a PDF with junk before its header, from bytes alone', async () => {
    const pdf = evalPdf(MINIMAL);
    const junk = new TextEncoder().encode('garbage before the header\n'.repeat(10));
    const bytes = new Uint8Array(junk.length + pdf.length);
    bytes.set(junk);
    bytes.set(pdf, junk.length);
    expect(sniffType(bytes)).toBe('pdf');
    const doc = asDocument(await parseSource(bytes, { limits, pdfExtractor: extractor }));
    expect(doc.text).toContain('Lorem ipsum');
  });

  it.each([
    ['pdfplumber-realworld/empty.pdf', 'EMPTY_FILE', /0 bytes/],
    ['py-pdf-samples/017-unreadable-meta-data/unreadablemetadata.pdf', 'CORRUPT', /malformed/],
    ['pdfplumber-realworld/password-example.pdf', 'ENCRYPTED', /password/],
    ['py-pdf-samples/005-libreoffice-writer-password/libreoffice-writer-password.pdf', 'ENCRYPTED', /password/],
    ['pdfplumber-realworld/issue-297-example.pdf', 'NO_TEXT', /no extractable text/],
    ['pdfplumber-realworld/issue-203-decimalize.pdf', 'NO_TEXT', /no extractable text/],
    ['py-pdf-samples/019-grayscale-image/grayscale-image.pdf', 'NO_TEXT', /no extractable text/],
    ['py-pdf-samples/007-imagemagick-images/imagemagick-images.pdf', 'NO_TEXT', /6 pages/],
    ['pdfplumber-realworld/issue-948.zip', 'UNSUPPORTED_TYPE', /ZIP archive/],
  ])('%s -> %s', async (file, code, message) => {
    const err = await documentError(parsePdfFile(file));
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
  });

  it('recovers the malformed PDF of pdfplumber issue 932, as the reference parser does', async () => {
    const doc = asDocument(await parsePdfFile('pdfplumber-realworld/malformed-from-issue-932.pdf'));
    expect(doc.text.replace(/\s+/g, ' ')).toBe('2021 3 31');
  });

  it('reads a PDF encrypted with an empty user password', async () => {
    const doc = asDocument(await parsePdfFile('pdfplumber-realworld/pr-138-example.pdf'));
    expect(doc.pages).toHaveLength(2);
    expect(doc.text).toContain('Effective as at 9 April 2019');
  });

  it('rejects a PDF with more pages than maxPages', async () => {
    const err = await documentError(parsePdfFile(FOUR_PAGES, { maxPages: 3 }));
    expect(err.code).toBe('TOO_MANY_PAGES');
    expect(err.details).toEqual({ pages: 4, maxPages: 3 });
  });

  it('stops a PDF that runs past its timeout, and the pool recovers', async () => {
    const single = createPdfExtractor({ threads: 1 });
    try {
      // The clock starts once the thread is up, so a slow machine cannot turn this into a startup race.
      const err = await documentError(
        parseSource(evalPdf(BIG), { limits, timeoutMs: 50, pdfExtractor: single }),
      );
      expect(err.code).toBe('CORRUPT');
      expect(err.message).toMatch(/timed out after 50 ms/);
      const doc = asDocument(await parseSource(evalPdf(MINIMAL), { limits, pdfExtractor: single }));
      expect(doc.text).toContain('Lorem ipsum');
    } finally {
      await single.close();
    }
  });

  it('works without a shared extractor and leaves the caller bytes intact', async () => {
    const bytes = evalPdf(MINIMAL);
    const before = bytes.length;
    const doc = asDocument(await parseSource(bytes, { filename: 'minimal.pdf', limits }));
    expect(doc.pages).toEqual([{ page: 1, start: 0, end: doc.text.length }]);
    expect(bytes.length).toBe(before);
  });

  it('keeps stdout and stderr quiet while parsing odd PDFs', async () => {
    const writes: string[] = [];
    const spies = [process.stdout, process.stderr].map((stream) => {
      const original = stream.write.bind(stream);
      stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
        writes.push(String(chunk));
        return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
      }) as typeof stream.write;
      return () => (stream.write = original);
    });
    try {
      for (const file of [
        'pdfplumber-realworld/malformed-from-issue-932.pdf',
        'pdfplumber-realworld/issue-842-example.pdf',
        'py-pdf-samples/015-arabic/habibi-rotated.pdf',
        'py-pdf-samples/023-cmyk-image/cmyk-image.pdf',
      ]) {
        await outcome(parsePdfFile(file));
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      for (const restore of spies) restore();
    }
    expect(writes).toEqual([]);
  });

  it('parses every evaluation PDF or fails it with a DocumentError', async () => {
    const inventory = readInventory();
    const files = listEvalPdfs();
    expect(files.length).toBeGreaterThanOrEqual(80);
    const rows = await Promise.all(
      files.map(async (file) => {
        const started = performance.now();
        try {
          const doc = asDocument(await parsePdfFile(file, { timeoutMs: 30_000 }));
          expect(doc.text.trim()).not.toBe('');
          expectConsistentPages(doc);
          const expectedPages = inventory.get(file)?.pages;
          if (expectedPages !== undefined) expect(doc.pages.length, file).toBe(expectedPages);
          return { file, result: `ok ${doc.pages.length}p ${doc.text.length}ch`, ms: Math.round(performance.now() - started) };
        } catch (err) {
          const e = err as { name?: string; code?: string };
          expect(e.name, `${file} threw a raw ${String(e.name)}`).toBe('DocumentError');
          return { file, result: String(e.code), ms: Math.round(performance.now() - started) };
        }
      }),
    );
    const width = Math.max(...rows.map((r) => r.file.length));
    // ms includes waiting for one of the 2 pooled threads, so it is an upper bound per file.
    console.log(
      [
        `${'file'.padEnd(width)} | ${'result'.padEnd(18)} | ms`,
        ...rows.map((r) => `${r.file.padEnd(width)} | ${r.result.padEnd(18)} | ${r.ms}`),
      ].join('\n'),
    );
    const failed = rows.filter((r) => !r.result.startsWith('ok')).map((r) => `${r.file}: ${r.result}`);
    expect(failed).toEqual([
      'pdfplumber-realworld/empty.pdf: EMPTY_FILE',
      'pdfplumber-realworld/issue-203-decimalize.pdf: NO_TEXT',
      'pdfplumber-realworld/issue-297-example.pdf: NO_TEXT',
      'pdfplumber-realworld/password-example.pdf: ENCRYPTED',
      'py-pdf-samples/005-libreoffice-writer-password/libreoffice-writer-password.pdf: ENCRYPTED',
      'py-pdf-samples/007-imagemagick-images/imagemagick-ASCII85Decode.pdf: NO_TEXT',
      'py-pdf-samples/007-imagemagick-images/imagemagick-CCITTFaxDecode.pdf: NO_TEXT',
      'py-pdf-samples/007-imagemagick-images/imagemagick-images.pdf: NO_TEXT',
      'py-pdf-samples/007-imagemagick-images/imagemagick-lzw.pdf: NO_TEXT',
      'py-pdf-samples/017-unreadable-meta-data/unreadablemetadata.pdf: CORRUPT',
      'py-pdf-samples/019-grayscale-image/grayscale-image.pdf: NO_TEXT',
      'py-pdf-samples/023-cmyk-image/cmyk-image.pdf: NO_TEXT',
    ]);
  });
});
