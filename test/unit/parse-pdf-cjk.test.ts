import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { createPdfExtractor } from '../../src/parse/index.js';
import { parsePdf } from '../../src/parse/pdf.js';
import { MAX_ANNOTATION_CHARS_PER_PAGE, withAnnotationText, type PdfAnnotation } from '../../src/parse/pdf-annotations.js';
import { installedPdfjsRoot, pdfjsData } from '../../src/parse/pdfjs-data.js';
import { evalPdf, HAS_EVAL_PDFS } from '../fixtures/parse/eval.js';
import { cidFontPdf, onePagePdf, stream, utf16String, type CidFontCase } from '../support/pdf-writer.js';

const extractor = createPdfExtractor({ threads: 1 });
afterAll(() => extractor.close());

const parse = (bytes: Uint8Array, using = extractor) => parsePdf(bytes, { maxPages: 50, timeoutMs: 60_000, extractor: using });

// Byte sequences written out once (Python's codecs), checked below against Node's decoders so a
// wrong fixture cannot pass for a parser bug.
const CASES: Array<CidFontCase & { decoder: string }> = [
  { encoding: 'UniJIS-UCS2-H', ordering: 'Japan1', baseFont: 'KozMinPro-Regular', text: '日本語のテキスト', bytes: '65E5672C8A9E306E30C630AD30B930C8', decoder: 'utf-16be' },
  { encoding: '90ms-RKSJ-H', ordering: 'Japan1', baseFont: 'HeiseiMin-W3', text: '日本語のテキスト', bytes: '93FA967B8CEA82CC8365834C83588367', decoder: 'shift_jis' },
  { encoding: 'GBK-EUC-H', ordering: 'GB1', baseFont: 'STSong-Light', text: '中文文本', bytes: 'D6D0CEC4CEC4B1BE', decoder: 'gbk' },
  { encoding: 'UniGB-UCS2-H', ordering: 'GB1', baseFont: 'STSong-Light', text: '简体中文测试', bytes: '7B804F534E2D65876D4B8BD5', decoder: 'utf-16be' },
  { encoding: 'ETenms-B5-H', ordering: 'CNS1', baseFont: 'MSung-Light', text: '繁體中文', bytes: 'C163C5E9A4A4A4E5', decoder: 'big5' },
  { encoding: 'KSCms-UHC-H', ordering: 'Korea1', baseFont: 'HYSMyeongJo-Medium', text: '한국어텍스트', bytes: 'C7D1B1B9BEEEC5D8BDBAC6AE', decoder: 'euc-kr' },
];

const hexBytes = (hex: string) => Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));

describe('CJK text in fonts encoded with predefined CMaps', () => {
  it.each(CASES)('$encoding ($ordering): $text', async (c) => {
    expect(new TextDecoder(c.decoder).decode(hexBytes(c.bytes))).toBe(c.text);
    const doc = await parse(cidFontPdf(c));
    expect(doc.text).toBe(`CJK sample\n${c.text}`);
  });

  it('is lost without pdf.js data, which is why the extractor refuses to start without it', async () => {
    const bare = createPdfExtractor({ threads: 1, pdfjsData: null });
    try {
      for (const c of CASES.slice(0, 3)) {
        const doc = await parse(cidFontPdf(c), bare);
        expect(doc.text).not.toContain(c.text);
      }
    } finally {
      await bare.close();
    }
  });
});

describe('pdf.js data directories', () => {
  it('come from the pdfjs-dist that pdf-parse loads, as directory paths pdf.js accepts', () => {
    const data = pdfjsData();
    expect(data.cMapDir).toBe(`${join(installedPdfjsRoot(), 'cmaps')}/`);
    expect(data.standardFontDir).toBe(`${join(installedPdfjsRoot(), 'standard_fonts')}/`);
  });

  it('missing or emptied, fail with a ConfigError naming the directory', () => {
    const root = mkdtempSync(join(tmpdir(), 'srag-pdfjs-'));
    try {
      expect(() => pdfjsData(root)).toThrow(ConfigError);
      expect(() => pdfjsData(root)).toThrow(join(root, 'cmaps'));
      mkdirSync(join(root, 'cmaps'));
      writeFileSync(join(root, 'cmaps', 'Adobe-Japan1-UCS2.bcmap'), '');
      expect(() => pdfjsData(root)).toThrow(join(root, 'standard_fonts'));
      expect(() => createPdfExtractor({ pdfjsData: undefined })).not.toThrow();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

/**
 * A page whose content is one line, with notes and a filled form in /Annots: what a reader sees in
 * the margins and fields must be searchable, and what they cannot see (hidden, passwords) must not.
 */
function annotatedPdf(): Uint8Array {
  const rect = '/Rect [72 600 300 640]';
  const annots = [
    `<< /Type /Annot /Subtype /FreeText ${rect} /Contents (Reviewer: the totals on this page are provisional.) /DA (/Helv 10 Tf 0 g) >>`,
    `<< /Type /Annot /Subtype /Text ${rect} /Contents ${utf16String('中文注释：请核对')} /Popup 7 0 R >>`,
    `<< /Type /Annot /Subtype /Popup ${rect} /Parent 6 0 R /Contents ${utf16String('中文注释：请核对')} >>`,
    `<< /Type /Annot /Subtype /Square ${rect} /Contents () >>`,
    `<< /Type /Annot /Subtype /Text ${rect} /Contents (Reviewer: the totals on this page are provisional.) >>`,
    `<< /Type /Annot /Subtype /Text ${rect} /F 2 /Contents (A hidden note) >>`,
    `<< /Type /Annot /Subtype /Widget ${rect} /FT /Tx /T (name) /V (Jane Example) /DA (/Helv 10 Tf 0 g) >>`,
    `<< /Type /Annot /Subtype /Widget ${rect} /FT /Tx /Ff 8192 /T (pin) /V (hunter2-secret) /DA (/Helv 10 Tf 0 g) >>`,
    `<< /Type /Annot /Subtype /Widget ${rect} /FT /Ch /Ff 131072 /T (country) /Opt [[(de) (Germany)] [(fr) (France)]] /V (fr) /DA (/Helv 10 Tf 0 g) >>`,
    `<< /Type /Annot /Subtype /Widget ${rect} /FT /Btn /T (agree) /V /Yes /AS /Yes >>`,
  ];
  const first = 5;
  const refs = annots.map((_, i) => `${first + i} 0 R`).join(' ');
  const widgets = annots.flatMap((a, i) => (a.includes('/Widget') ? [`${first + i} 0 R`] : [])).join(' ');
  return onePagePdf(
    `/Resources << /Font << /F1 4 0 R >> >> /Contents ${first + annots.length} 0 R /Annots [${refs}]`,
    ['<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>', ...annots, stream('', 'BT /F1 12 Tf 72 720 Td (Quarterly report body.) Tj ET')],
    `/AcroForm << /Fields [${widgets}] /DA (/Helv 10 Tf 0 g) >>`,
  );
}

describe('annotation text', () => {
  it('follows the page content, one paragraph per note or field, without duplicates, hidden notes or passwords', async () => {
    const doc = await parse(annotatedPdf());
    expect(doc.text).toBe(
      ['Quarterly report body.', 'Reviewer: the totals on this page are provisional.', '中文注释：请核对', 'Jane Example', 'France'].join('\n\n'),
    );
    expect(doc.pages).toEqual([{ page: 1, start: 0, end: doc.text.length }]);
  });

  // Its note is stored three times (the Text annotation, its Popup, a reply): read once.
  it.skipIf(!HAS_EVAL_PDFS)('is read once from a real PDF whose note has a popup', async () => {
    const doc = await parse(new Uint8Array(evalPdf('pdfplumber-realworld/annotations.pdf')));
    expect(doc.text).toBe('Dummy PDF file\n\nA popup note');
  });
});

describe('withAnnotationText', () => {
  const note = (contents: string): PdfAnnotation => ({ subtype: 'Text', contents });

  it.each<[string, PdfAnnotation, string]>([
    ['a sticky note', note('  call  back\r\nMonday '), 'call back\nMonday'],
    ['an empty FreeText read from its appearance', { subtype: 'FreeText', contents: '', appearanceText: ['Boxed', 'text'] }, 'Boxed\ntext'],
    ['a list box showing option names', { subtype: 'Widget', fieldType: 'Ch', fieldValue: ['a', 'z'], options: [{ exportValue: 'a', displayValue: 'Alpha' }] }, 'Alpha\nz'],
    ['a text field', { subtype: 'Widget', fieldType: 'Tx', fieldValue: '42 Main St' }, '42 Main St'],
    ['a password field', { subtype: 'Widget', fieldType: 'Tx', fieldValue: 'secret', password: true }, ''],
    ['a check box', { subtype: 'Widget', fieldType: 'Btn', fieldValue: 'Yes' }, ''],
    ['a link description', { subtype: 'Link', contents: 'go there' }, ''],
    ['a popup repeating its parent', { subtype: 'Popup', contents: 'again' }, ''],
    ['a note flagged NoView', { subtype: 'Text', contents: 'unseen', flags: 32 }, ''],
  ])('%s', (_name, annotation, expected) => {
    expect(withAnnotationText('Body', [annotation])).toBe(expected === '' ? 'Body' : `Body\n\n${expected}`);
  });

  it('keeps the content as it is at the start, so offsets into it do not move', () => {
    expect(withAnnotationText('Body text\n', [note('n')]).startsWith('Body text\n')).toBe(true);
    expect(withAnnotationText('', [note('only a note')])).toBe('\n\nonly a note');
  });

  it('caps the text a page takes from its annotations, in order, never splitting a character', () => {
    const many = Array.from({ length: 100 }, (_, i) => note(`${i}:${'x'.repeat(998)}`));
    const added = withAnnotationText('', many).slice(2).split('\n\n');
    expect(added.join('').length).toBeLessThanOrEqual(MAX_ANNOTATION_CHARS_PER_PAGE);
    expect(added.join('').length).toBeGreaterThan(MAX_ANNOTATION_CHARS_PER_PAGE - 1000);
    expect(added.map((p) => p.split(':')[0])).toEqual(added.map((_, i) => String(i)));
    // One character first leaves an odd budget, which would end halfway through a surrogate pair.
    const wide = withAnnotationText('', [note('x'), note('\u{20000}'.repeat(MAX_ANNOTATION_CHARS_PER_PAGE))]).split('\n\n')[2];
    expect(Array.from(wide).every((c) => c === '\u{20000}')).toBe(true);
    expect(wide.length).toBe(MAX_ANNOTATION_CHARS_PER_PAGE - 2);
  });
});

describe.skipIf(!HAS_EVAL_PDFS)('Chinese PDFs from the evaluation folder', () => {
  it.each([
    ['issue-336-example.pdf', '安徽省建设用地使用标准'],
    ['issue-67-example.pdf', '东北电气发展股份有限公司'],
    ['issue-71-duplicate-chars.pdf', '四川省甘孜州丹巴磨子电站'],
    ['issue-842-example.pdf', '安徽安利合成革股份有限公司'],
    ['issue-461-example.pdf', '临床诊断'],
  ])('%s reads %s', async (file, phrase) => {
    const doc = await parse(new Uint8Array(evalPdf(`pdfplumber-realworld/${file}`)));
    expect(doc.text.replace(/\s+/g, '')).toContain(phrase);
  });
});
