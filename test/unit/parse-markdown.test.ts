import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSource } from '../../src/parse/index.js';
import { parseMarkdown } from '../../src/parse/markdown.js';

const limits = { maxFileBytes: 1 << 20, maxPages: 10 };
const fixture = (name: string) => readFileSync(new URL(`../fixtures/parse/${name}`, import.meta.url));

describe('markdown', () => {
  it('keeps the text verbatim and finds ATX and setext headings with offsets', async () => {
    const bytes = fixture('guide.md');
    const result = await parseSource(bytes, { filename: 'guide.md', limits });
    if (result.kind !== 'document') throw new Error('expected a document');
    const doc = result.document;
    expect(doc.type).toBe('markdown');
    expect(doc.text).toBe(bytes.toString('utf8'));
    expect(doc.pages).toEqual([]);
    expect(doc.headings.map(({ level, text }) => ({ level, text }))).toEqual([
      { level: 1, text: 'Setup' },
      { level: 2, text: 'Configure it' },
      { level: 2, text: 'Upgrades and rollbacks' },
      { level: 3, text: 'Troubleshooting' },
    ]);
    for (const h of doc.headings) {
      expect(doc.text.slice(h.start, h.end).replace(/\s+/g, ' ')).toBe(h.text);
    }
    expect(doc.title).toBe('The Operator Guide');
  });

  it.each([
    ['# Title\n\ntext', [{ start: 2, end: 7, level: 1, text: 'Title' }]],
    ['  ### Closed ###  \n', [{ start: 6, end: 12, level: 3, text: 'Closed' }]],
    ['####### seven is not a heading', []],
    ['#nospace', []],
    ['#\n', []],
    ['intro\n\n---\n', []],
    ['- item\n---\n', []],
    ['Title\n===\n', [{ start: 0, end: 5, level: 1, text: 'Title' }]],
    ['```\n# in code\n```\n# After', [{ start: 20, end: 25, level: 1, text: 'After' }]],
    ['````md\n```\n# still code\n````\n## Out', [{ start: 32, end: 35, level: 2, text: 'Out' }]],
    ['```\n# unclosed fence runs to the end', []],
  ])('%j', (text, headings) => {
    expect(parseMarkdown(text).headings).toEqual(headings);
  });

  it('takes the first H1 as title when there is no front matter', () => {
    expect(parseMarkdown('## Intro\n\n# Real title\n\n# Second').title).toBe('Real title');
    expect(parseMarkdown('no headings at all').title).toBeUndefined();
  });

  it('normalises CRLF so offsets match LF text', async () => {
    const result = await parseSource(new TextEncoder().encode('# A\r\n\r\ntext\r\n'), { filename: 'a.md', limits });
    if (result.kind !== 'document') throw new Error('expected a document');
    expect(result.document.text).toBe('# A\n\ntext\n');
    expect(result.document.headings).toEqual([{ start: 2, end: 3, level: 1, text: 'A' }]);
  });
});
