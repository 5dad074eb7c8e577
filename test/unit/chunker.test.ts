import { describe, expect, it } from 'vitest';
import { chunkDocument } from '../../src/domain/chunker.js';
import { sentenceSpans } from '../../src/domain/sentences.js';
import type { ChunkDraft, ChunkSettings, HeadingSpan, PageSpan, ParsedDocument } from '../../src/domain/types.js';
import type { TokenCounter } from '../../src/embed/port.js';
import { rng } from '../support/random.js';

/** Fake tokenizer: one token per whitespace-separated word. */
const words: TokenCounter = { countTokens: (t) => (t.match(/\S+/g) ?? []).length };
/** Closer to a real tokenizer on CJK: every CJK character is a token, other words count once. */
const cjkAware: TokenCounter = {
  countTokens: (t) => (t.match(/[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]|[^\s\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]+/g) ?? []).length,
};
/** Not additive: a line break inside the text costs an extra token, so joined sentences count more than their sum. */
const superadditive: TokenCounter = { countTokens: (t) => words.countTokens(t) + (t.match(/\n/g) ?? []).length * 2 };
/** Roughly four characters per token, even inside a "word". */
const charsPerFour: TokenCounter = { countTokens: (t) => Math.ceil(t.replace(/\s+/g, '').length / 4) };

function doc(text: string, pages: PageSpan[] = [], headings: HeadingSpan[] = []): ParsedDocument {
  return { type: pages.length ? 'pdf' : 'text', text, pages, headings };
}

/** Pages built from page texts joined by a form feed; pages are contiguous and cover the text. */
function paged(pageTexts: string[]): ParsedDocument {
  let text = '';
  const pages: PageSpan[] = [];
  pageTexts.forEach((t, i) => {
    const start = text.length;
    text += t + (i < pageTexts.length - 1 ? '\n\f' : '');
    pages.push({ page: i + 1, start, end: text.length });
  });
  return doc(text, pages);
}

function headingAt(text: string, line: string, level: number): HeadingSpan {
  const start = text.indexOf(line);
  if (start < 0) throw new Error(`no heading line ${line}`);
  return { start, end: start + line.length, level, text: line.replace(/^#+\s*/, '') };
}

/** Every invariant a chunking must satisfy, whatever the input. */
function checkInvariants(d: ParsedDocument, chunks: ChunkDraft[], settings: ChunkSettings, counter: TokenCounter): void {
  let covered = 0; // every non-space character up to here is inside some chunk
  chunks.forEach((c, i) => {
    expect(c.index).toBe(i);
    expect(c.text).toBe(d.text.slice(c.start, c.end));
    expect(c.text.length).toBeGreaterThan(0);
    expect(c.text).toBe(c.text.trim());
    expect(c.tokens).toBe(counter.countTokens(c.text));
    expect(c.tokens).toBeLessThanOrEqual(settings.maxTokens);
    if (i > 0) {
      expect(c.start).toBeGreaterThan(chunks[i - 1].start);
      expect(c.end).toBeGreaterThan(chunks[i - 1].end);
    }
    const gap = d.text.slice(covered, c.start);
    expect(gap.trim()).toBe(''); // nothing lost between chunks
    covered = Math.max(covered, c.end);
    const page = d.pages.find((p) => p.start <= c.start && c.start < p.end);
    if (page) {
      expect(c.page).toBe(page.page);
      expect(c.end).toBeLessThanOrEqual(page.end);
    }
  });
  expect(d.text.slice(covered).trim()).toBe('');
}

const VOCAB = [
  'the', 'model', 'Results', 'were', 'significant', '(p', '<', '0.05).', 'e.g.', 'i.e.', 'et', 'al.', 'Fig.', '3',
  'Dr.', 'Smith', 'said', '"Yes."', 'Why?', 'Stop!', 'data-driven', '3.14', 'U.S.', 'approx.', '—', 'naïve', '東京',
  '日本語の文です。', 'x'.repeat(40), '🙂🙂', 'end.', 'Next', 'A.', '1.', '2)', '#', '-', 'Über',
];
const SEPARATORS = [' ', ' ', ' ', ' ', '\n', '\n\n', '  ', '\t', '\n \n'];

function randomDoc(next: () => number): ParsedDocument {
  const n = Math.floor(next() * 300);
  let text = next() < 0.2 ? '  \n' : '';
  for (let i = 0; i < n; i++) {
    text += VOCAB[Math.floor(next() * VOCAB.length)];
    text += SEPARATORS[Math.floor(next() * SEPARATORS.length)];
  }
  const pages: PageSpan[] = [];
  if (next() < 0.5 && text.length > 0) {
    const cuts = [0, ...Array.from({ length: Math.floor(next() * 5) }, () => Math.floor(next() * text.length)), text.length];
    const sorted = [...new Set(cuts)].sort((a, b) => a - b);
    for (let i = 0; i + 1 < sorted.length; i++) pages.push({ page: i + 1, start: sorted[i], end: sorted[i + 1] });
  }
  const headings: HeadingSpan[] = [];
  for (let i = 0; i < Math.floor(next() * 4); i++) {
    const start = Math.floor(next() * text.length);
    headings.push({ start, end: Math.min(text.length, start + 5), level: 1 + Math.floor(next() * 3), text: `H${i}` });
  }
  return doc(text, pages, headings.sort((a, b) => a.start - b.start));
}

describe('chunkDocument', () => {
  it.each([
    ['empty', ''],
    ['spaces', '   '],
    ['newlines and tabs', '\n\n\t \n  \r\n'],
  ])('%s document gives no chunks', (_label, text) => {
    expect(chunkDocument(doc(text), { maxTokens: 10, overlapTokens: 2 }, words)).toEqual([]);
    expect(chunkDocument(paged([text, text]), { maxTokens: 10, overlapTokens: 2 }, words)).toEqual([]);
  });

  it('packs whole sentences up to maxTokens and trims whitespace by moving offsets', () => {
    const text = '  One two three. Four five six.\n\nSeven eight nine. Ten eleven twelve.  ';
    const chunks = chunkDocument(doc(text), { maxTokens: 6, overlapTokens: 0 }, words);
    expect(chunks.map((c) => c.text)).toEqual(['One two three. Four five six.', 'Seven eight nine. Ten eleven twelve.']);
    expect(chunks[0]).toMatchObject({ index: 0, start: 2, end: 31, tokens: 6 });
    expect(chunks[0].page).toBeUndefined();
    expect(chunks[0].heading).toBeUndefined();
    checkInvariants(doc(text), chunks, { maxTokens: 6, overlapTokens: 0 }, words);
  });

  it('repeats trailing whole sentences of the previous chunk as overlap', () => {
    const text = 'A1 a2 a3. B1 b2 b3. C1 c2 c3. D1 d2 d3. E1 e2 e3.';
    const settings = { maxTokens: 9, overlapTokens: 3 };
    const chunks = chunkDocument(doc(text), settings, words);
    expect(chunks.map((c) => c.text)).toEqual(['A1 a2 a3. B1 b2 b3. C1 c2 c3.', 'C1 c2 c3. D1 d2 d3. E1 e2 e3.']);
    // Overlap budget too small for a whole sentence: no overlap at all, never a partial sentence.
    const none = chunkDocument(doc(text), { maxTokens: 9, overlapTokens: 2 }, words);
    expect(none.map((c) => c.text)).toEqual(['A1 a2 a3. B1 b2 b3. C1 c2 c3.', 'D1 d2 d3. E1 e2 e3.']);
    // Bigger budget: two sentences.
    const two = chunkDocument(doc(text), { maxTokens: 9, overlapTokens: 6 }, words);
    expect(two.map((c) => c.text)).toEqual([
      'A1 a2 a3. B1 b2 b3. C1 c2 c3.',
      'B1 b2 b3. C1 c2 c3. D1 d2 d3.',
      'C1 c2 c3. D1 d2 d3. E1 e2 e3.',
    ]);
    checkInvariants(doc(text), two, { maxTokens: 9, overlapTokens: 6 }, words);
  });

  it('never lets a chunk cross a page break, and carries the page number', () => {
    const d = paged(['First page one. First page two.', 'Second page sentence one. Two.', 'Third.']);
    const chunks = chunkDocument(d, { maxTokens: 50, overlapTokens: 10 }, words);
    expect(chunks.map((c) => [c.page, c.text])).toEqual([
      [1, 'First page one. First page two.'],
      [2, 'Second page sentence one. Two.'],
      [3, 'Third.'],
    ]);
    checkInvariants(d, chunks, { maxTokens: 50, overlapTokens: 10 }, words);
  });

  it('starts no overlap across a page break', () => {
    const d = paged(['P1 s1 xx. P1 s2 xx. P1 s3 xx.', 'P2 s1 xx. P2 s2 xx.']);
    const chunks = chunkDocument(d, { maxTokens: 6, overlapTokens: 3 }, words);
    expect(chunks.map((c) => c.text)).toEqual(['P1 s1 xx. P1 s2 xx.', 'P1 s2 xx. P1 s3 xx.', 'P2 s1 xx. P2 s2 xx.']);
    expect(chunks.map((c) => c.page)).toEqual([1, 1, 2]);
  });

  it('a sentence that wraps across a page break is cut at the break', () => {
    const d = paged(['The sentence starts here and', 'continues on the next page. Done.']);
    const chunks = chunkDocument(d, { maxTokens: 50, overlapTokens: 0 }, words);
    expect(chunks.map((c) => [c.page, c.text])).toEqual([
      [1, 'The sentence starts here and'],
      [2, 'continues on the next page. Done.'],
    ]);
  });

  it('starts a chunk at each heading and labels following chunks with it', () => {
    const text = [
      'Preamble text here.',
      '# Introduction',
      'Intro sentence one. Intro sentence two.',
      '## Background',
      'Background text.',
      '## Method',
      'Method text is here.',
      '# Results',
      'Results text.',
    ].join('\n');
    const headings = [
      headingAt(text, '# Introduction', 1),
      headingAt(text, '## Background', 2),
      headingAt(text, '## Method', 2),
      headingAt(text, '# Results', 1),
    ];
    const d = doc(text, [], headings);
    const chunks = chunkDocument(d, { maxTokens: 100, overlapTokens: 20 }, words);
    expect(chunks.map((c) => [c.heading, c.text])).toEqual([
      [undefined, 'Preamble text here.'],
      ['Introduction', '# Introduction\nIntro sentence one. Intro sentence two.'],
      ['Background', '## Background\nBackground text.'],
      ['Method', '## Method\nMethod text is here.'],
      ['Results', '# Results\nResults text.'],
    ]);
    checkInvariants(d, chunks, { maxTokens: 100, overlapTokens: 20 }, words);
  });

  it('keeps the heading for every chunk of a long section, without overlap into the next section', () => {
    const body = Array.from({ length: 12 }, (_, i) => `Sentence number ${i} here.`).join(' ');
    const text = `# Long\n${body}\n# Next\nTail sentence.`;
    const d = doc(text, [], [headingAt(text, '# Long', 1), headingAt(text, '# Next', 1)]);
    const chunks = chunkDocument(d, { maxTokens: 12, overlapTokens: 4 }, words);
    const long = chunks.filter((c) => c.heading === 'Long');
    expect(long.length).toBeGreaterThan(3);
    expect(chunks.at(-1)).toMatchObject({ heading: 'Next', text: '# Next\nTail sentence.' });
    checkInvariants(d, chunks, { maxTokens: 12, overlapTokens: 4 }, words);
  });

  it('splits a sentence longer than maxTokens at word boundaries', () => {
    const sentence = Array.from({ length: 50 }, (_, i) => `W${i}`).join(' ') + '.';
    const text = `Short one. ${sentence} After.`;
    const settings = { maxTokens: 8, overlapTokens: 3 };
    const chunks = chunkDocument(doc(text), settings, words);
    checkInvariants(doc(text), chunks, settings, words);
    for (const c of chunks) {
      // Cuts fall between words: never inside a "WNN" token.
      expect(/\S/.test(text[c.start - 1] ?? ' ')).toBe(false);
      expect(/\S/.test(text[c.end] ?? ' ')).toBe(false);
    }
    expect(chunks[0].text).toBe('Short one.');
    expect(chunks[1].text).toBe('W0 W1 W2 W3 W4 W5 W6 W7');
  });

  it('splits one gigantic word at character boundaries', () => {
    const text = `Intro. ${'abcdefgh'.repeat(100)} outro.`;
    const settings = { maxTokens: 10, overlapTokens: 2 };
    const chunks = chunkDocument(doc(text), settings, charsPerFour);
    checkInvariants(doc(text), chunks, settings, charsPerFour);
    expect(chunks.length).toBeGreaterThanOrEqual(20);
  });

  it('never cuts a surrogate pair in half', () => {
    const text = '🙂'.repeat(300);
    const counter: TokenCounter = { countTokens: (t) => [...t].length };
    const chunks = chunkDocument(doc(text), { maxTokens: 7, overlapTokens: 0 }, counter);
    checkInvariants(doc(text), chunks, { maxTokens: 7, overlapTokens: 0 }, counter);
    for (const c of chunks) expect(c.text).toMatch(/^(🙂)+$/u);
  });

  it('bounds CJK text without spaces', () => {
    const sentence = '東京は日本の首都であり人口が非常に多い都市です。';
    const text = sentence.repeat(40) + '句読点のない非常に長い文字列'.repeat(30);
    const settings = { maxTokens: 50, overlapTokens: 10 };
    const chunks = chunkDocument(doc(text), settings, cjkAware);
    checkInvariants(doc(text), chunks, settings, cjkAware);
    // Sentence ends (。) are used where they exist.
    expect(chunks[0].text.endsWith('。')).toBe(true);
  });

  it('keeps every chunk within maxTokens when the tokenizer is not additive', () => {
    const text = Array.from({ length: 40 }, (_, i) => `Line ${i} has words.`).join('\n');
    const settings = { maxTokens: 12, overlapTokens: 4 };
    const chunks = chunkDocument(doc(text), settings, superadditive);
    checkInvariants(doc(text), chunks, settings, superadditive);
  });

  it('is deterministic', () => {
    const next = rng(99);
    const d = randomDoc(next);
    const settings = { maxTokens: 20, overlapTokens: 5 };
    expect(chunkDocument(d, settings, words)).toEqual(chunkDocument(d, settings, words));
  });

  it('holds every invariant on random documents', () => {
    const next = rng(2024);
    for (let i = 0; i < 300; i++) {
      const d = randomDoc(next);
      const maxTokens = 1 + Math.floor(next() * 40);
      const settings = { maxTokens, overlapTokens: Math.floor(next() * maxTokens * 1.5) };
      const counter = [words, cjkAware, superadditive, charsPerFour][i % 4];
      let chunks: ChunkDraft[] = [];
      try {
        chunks = chunkDocument(d, settings, counter);
        checkInvariants(d, chunks, settings, counter);
      } catch (err) {
        throw new Error(`random case ${i} failed (settings ${JSON.stringify(settings)}): ${(err as Error).message}`, { cause: err });
      }
    }
  });

  it('chunks a realistic PDF-like document', () => {
    const para = (n: number) =>
      `In this study (Smith et al. 2020) we measured the effect, e.g. in Fig. 2 the value was 0.05 higher\n` +
      `than expected. Dr. Jones disagreed with the interpretation of result ${n}. Why would that be?\n` +
      `"Because the sample was small." The U.S. cohort was approx. 3.5 times larger than the E.U. one.`;
    const pages = Array.from({ length: 6 }, (_, p) => `Page header ${p + 1}\n\n${para(p)}\n\n${para(p + 10)}`);
    const d = paged(pages);
    const settings = { maxTokens: 40, overlapTokens: 12 };
    const chunks = chunkDocument(d, settings, words);
    checkInvariants(d, chunks, settings, words);
    for (const c of chunks) {
      // Abbreviations and decimals never end a chunk; wrapped lines do not either.
      expect(c.text).not.toMatch(/(e\.g\.|et al\.|Fig\.|Dr\.|approx\.|U\.S\.|0\.)$/);
    }
  });

  it('chunks a 300-page document well under a second', () => {
    const pageText = Array.from(
      { length: 25 },
      (_, i) => `Sentence ${i} of this page talks about retrieval, e.g. dense vectors, with p < 0.05 and Fig. ${i}.`,
    ).join('\n');
    const d = paged(Array.from({ length: 300 }, () => pageText));
    const settings = { maxTokens: 256, overlapTokens: 32 };
    const started = performance.now();
    const chunks = chunkDocument(d, settings, words);
    const ms = performance.now() - started;
    console.log(`chunker: ${d.text.length} chars, 300 pages -> ${chunks.length} chunks in ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(1000);
    checkInvariants(d, chunks, settings, words);
  });

  it('rejects invalid settings', () => {
    expect(() => chunkDocument(doc('x'), { maxTokens: 0, overlapTokens: 0 }, words)).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
    expect(() => chunkDocument(doc('x'), { maxTokens: 5, overlapTokens: -1 }, words)).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
  });
});

describe('sentenceSpans', () => {
  const split = (text: string) => sentenceSpans(text, 0, text.length).map((s) => text.slice(s.start, s.end));

  it.each<[string, string, string[]]>([
    ['plain', 'One. Two! Three? Four', ['One.', 'Two!', 'Three?', 'Four']],
    ['abbreviations', 'See e.g. Smith. Also i.e. This. Jones et al. Found it. See Fig. 4 now.', ['See e.g. Smith.', 'Also i.e. This.', 'Jones et al. Found it.', 'See Fig. 4 now.']],
    ['titles', 'Dr. Who and Mr. Smith met. Prof. X left.', ['Dr. Who and Mr. Smith met.', 'Prof. X left.']],
    ['decimals', 'p was 0.05 here. It was 3.14159 there.', ['p was 0.05 here.', 'It was 3.14159 there.']],
    ['ends before a number', 'Scores rose. 42 people agreed.', ['Scores rose.', '42 people agreed.']],
    ['lowercase after a period is no end', 'This ends. but this does not.', ['This ends. but this does not.']],
    ['PDF line wraps are not ends', 'A line that\nwraps here. Next\nline.', ['A line that\nwraps here.', 'Next\nline.']],
    ['quotes', 'He said "Go." Then left. \'Why?\' she asked.', ['He said "Go."', 'Then left.', "'Why?' she asked."]],
    ['CJK stops', '今日は晴れ。明日は雨！本当？', ['今日は晴れ。', '明日は雨！', '本当？']],
    ['blank line ends a sentence', 'No period here\n\nNew paragraph.', ['No period here', 'New paragraph.']],
  ])('%s', (_label, text, expected) => {
    expect(split(text)).toEqual(expected);
  });

  it('works on a sub-range with absolute offsets', () => {
    const text = 'XXXX First one. Second one. YYYY';
    const spans = sentenceSpans(text, 5, 27);
    expect(spans.map((s) => text.slice(s.start, s.end))).toEqual(['First one.', 'Second one.']);
  });
});
