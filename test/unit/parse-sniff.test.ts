import { describe, expect, it } from 'vitest';
import { sniffType } from '../../src/parse/index.js';
import { documentError } from '../fixtures/parse/errors.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const bytes = (...b: number[]) => Uint8Array.from(b);

describe('sniffType', () => {
  it.each([
    ['PDF magic at 0', utf8('%PDF-1.7\n%\u00e2\u00e3\n1 0 obj'), undefined, 'pdf'],
    ['PDF magic after binary junk', new Uint8Array([0xff, 0xfe, 0x00, 0x01, ...utf8('%PDF-1.4 ... startxref 0 %%EOF')]), undefined, 'pdf'],
    ['PDF magic after text junk, PDF trailer at the end', utf8(`junk\n%PDF-1.4\n${'x'.repeat(100)}\nstartxref\n9\n%%EOF\n`), 'a.bin', 'pdf'],
    ['a text that mentions %PDF- stays text', utf8('The header of a PDF reads %PDF-1.7, then objects follow.'), 'notes.txt', 'text'],
    ['HTML doctype', utf8('\ufeff  <!DOCTYPE html><html><body>x</body></html>'), undefined, 'html'],
    ['HTML after an XML declaration and a comment', utf8('<?xml version="1.0"?>\n<!-- c -->\n<html xmlns="x">'), 'page', 'html'],
    ['<body> fragment', utf8('<BODY><p>hi</p></BODY>'), undefined, 'html'],
    ['HTML content wins over .txt', utf8('<html><p>x</p></html>'), 'a.txt', 'html'],
    ['.htm extension', utf8('<p>just a fragment</p>'), 'a.htm', 'html'],
    ['.md extension', utf8('plain words'), 'README.md', 'markdown'],
    ['.markdown extension', utf8('plain words'), 'x.MARKDOWN', 'markdown'],
    ['markdown structure without extension', utf8('# Title\n\nSome text with a [link](http://x).\n\n- item\n'), undefined, 'markdown'],
    ['two ATX headings', utf8('# One\ntext\n## Two\nmore'), 'notes', 'markdown'],
    ['.txt keeps markdown-looking text as text', utf8('# One\n## Two\n'), 'a.txt', 'text'],
    ['BEIR jsonl by extension', utf8('{"_id":"1","title":"t","text":"x"}\n'), 'corpus.jsonl', 'jsonl'],
    ['BEIR jsonl by content', utf8('\n{"_id":1,"text":"x"}\n{"_id":2,"text":"y"}'), 'corpus', 'jsonl'],
    ['JSON that is not BEIR is text', utf8('{"id":"1","text":"x"}\n'), 'data.json', 'text'],
    ['plain text', utf8('Just some words.\nAnother line.'), undefined, 'text'],
    ['UTF-8 text with accents and CJK', utf8('Comité de démolition — 安徽省'), 'fr.txt', 'text'],
  ])('%s -> %s', (_name, data, filename, type) => {
    expect(sniffType(data, filename)).toBe(type);
  });

  it.each([
    ['0 bytes', new Uint8Array(0), 'x.txt', 'EMPTY_FILE', /empty/],
    ['ZIP archive', bytes(0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00), 'a.docx', 'UNSUPPORTED_TYPE', /ZIP/],
    ['PNG named .pdf', bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13), 'scan.pdf', 'UNSUPPORTED_TYPE', /named \.pdf.*PNG/],
    ['JPEG', bytes(0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10), 'photo.jpg', 'UNSUPPORTED_TYPE', /JPEG/],
    ['gzip', bytes(0x1f, 0x8b, 0x08, 0x00), undefined, 'UNSUPPORTED_TYPE', /gzip/],
    ['RTF is text but not a format we read', utf8('{\\rtf1\\ansi hello}'), 'a.rtf', 'UNSUPPORTED_TYPE', /RTF/],
    ['NUL bytes', utf8('text\u0000with nul'), 'a.txt', 'UNSUPPORTED_TYPE', /binary|UTF-8/],
    ['UTF-16 text', bytes(0xff, 0xfe, 0x68, 0x00, 0x69, 0x00), 'a.txt', 'UNSUPPORTED_TYPE', /UTF-8/],
    ['invalid UTF-8', bytes(0x61, 0xc3, 0x28), undefined, 'UNSUPPORTED_TYPE', /UTF-8/],
    ['control characters', utf8('\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u000e\u000f\u0010\u0011 hi'), undefined, 'UNSUPPORTED_TYPE', /binary/],
    ['.pdf that is unknown binary', bytes(0x01, 0x02, 0x03, 0x04, 0x05, 0x00, 0xff), 'report.pdf', 'CORRUPT', /not a PDF/],
    ['.pdf that is an HTML error page', utf8('<!doctype html><title>Login</title>'), 'report.pdf', 'CORRUPT', /HTML page/],
    ['.pdf that is plain text', utf8('hello'), 'report.PDF', 'CORRUPT', /no %PDF- header/],
    ['.jsonl not in BEIR layout', utf8('{"id":1,"body":"x"}\n'), 'c.jsonl', 'UNSUPPORTED_TYPE', /BEIR/],
  ])('%s -> %s', async (_name, data, filename, code, message) => {
    const err = await documentError(() => sniffType(data, filename));
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
  });
});
