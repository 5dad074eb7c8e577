/**
 * Parsers and text splitters run in linear time on hostile input. Each case times a function on an
 * adversarial text of n and of 4n characters (median of several runs): linear code takes ~4x as long,
 * quadratic code ~16x. The bound (10x) is far from both, and very short times are floored so that
 * timer noise cannot fail a run. Where the old code was replaced by a scan, the scan is also checked
 * against the regex it replaced on many short random strings: same answers, only faster.
 */
import { describe, expect, it } from 'vitest';
import { chunkDocument } from '../../src/domain/chunker.js';
import { sentenceSpans } from '../../src/domain/sentences.js';
import { splitSentences } from '../../src/domain/sentence-split.js';
import { analyze } from '../../src/domain/tokenize-lexical.js';
import type { TokenCounter } from '../../src/embed/port.js';
import { parseHtml } from '../../src/parse/html.js';
import { parseJsonl } from '../../src/parse/jsonl.js';
import { parseMarkdown, stripClosingHashes } from '../../src/parse/markdown.js';
import { cleanPdfTitle, normalizePageText } from '../../src/parse/pdf-text.js';
import { sniff } from '../../src/parse/sniff.js';
import { hasInlineLink, hasStrongEmphasis, looksLikeMarkdown } from '../../src/parse/text-kind.js';
import { rng } from '../support/random.js';

const KB = 1024;
/** Time of one run below which a ratio says nothing: a linear 4x may read as 0.3 -> 3 ms. */
const FLOOR_MS = 2;
const MAX_RATIO = 10;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function timeMs(fn: () => unknown, runs = 5): number {
  fn(); // warm-up: JIT and regex compilation are not what is measured
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    fn();
    times.push(performance.now() - started);
  }
  return median(times);
}

const quarterTokens: TokenCounter = { countTokens: (t) => Math.ceil(t.length / 4) };
const encoder = new TextEncoder();

interface Case {
  name: string;
  /** Characters of the smaller input. */
  n: number;
  build: (n: number) => string;
  run: (input: string) => unknown;
}

const repeat = (unit: string) => (n: number) => unit.repeat(Math.ceil(n / unit.length));
const markdown = (input: string) => parseMarkdown(input);
const chunkMarkdown = (input: string) => chunkDocument(parseMarkdown(input), { maxTokens: 64, overlapTokens: 8 }, quarterTokens);

const CASES: Case[] = [
  { name: 'markdown heading with a run of spaces', n: 50 * KB, build: (n) => `# a${' '.repeat(n)}b`, run: markdown },
  { name: 'markdown heading with a run of tabs', n: 50 * KB, build: (n) => `# a${'\t'.repeat(n)}b`, run: markdown },
  { name: 'markdown heading of " #" pairs', n: 50 * KB, build: (n) => `# a${' #'.repeat(n / 2)}b`, run: markdown },
  { name: 'markdown line of #', n: 50 * KB, build: repeat('#'), run: markdown },
  { name: 'markdown line of -', n: 50 * KB, build: (n) => `a\n${'-'.repeat(n)}x`, run: markdown },
  { name: 'markdown line of =', n: 50 * KB, build: (n) => `a\n${'='.repeat(n)}x`, run: markdown },
  { name: 'markdown line of <', n: 50 * KB, build: (n) => `a\n${' '.repeat(n)}x<`, run: markdown },
  { name: 'markdown fence of backticks', n: 50 * KB, build: (n) => `${'`'.repeat(n)}x\`y`, run: markdown },
  { name: 'markdown lines of spaces', n: 50 * KB, build: repeat('   \n'), run: markdown },
  { name: 'markdown front matter title', n: 50 * KB, build: (n) => `---\ntitle: "${'a'.repeat(n)}\n---\n# x`, run: markdown },
  // looksLikeMarkdown reads at most 64 KB, so its inputs stay under that.
  { name: 'markdown sniffing, line of [', n: 16 * KB, build: repeat('['), run: looksLikeMarkdown },
  { name: 'markdown sniffing, line of [a](', n: 16 * KB, build: repeat('[a]('), run: looksLikeMarkdown },
  { name: 'markdown sniffing, line of **a', n: 16 * KB, build: repeat('**a '), run: looksLikeMarkdown },
  { name: 'markdown sniffing, line of __a', n: 16 * KB, build: repeat('__a '), run: looksLikeMarkdown },
  { name: 'inline link scan, line of [', n: 50 * KB, build: repeat('['), run: hasInlineLink },
  { name: 'inline link scan, line of [a](', n: 50 * KB, build: repeat('[a]('), run: hasInlineLink },
  { name: 'emphasis scan, line of **a', n: 50 * KB, build: repeat('**a '), run: hasStrongEmphasis },
  { name: 'sniff, text of <', n: 50 * KB, build: repeat('<'), run: (t) => sniff(encoder.encode(t), 'upload') },
  { name: 'sniff, text of <!--', n: 50 * KB, build: repeat('<!--'), run: (t) => sniff(encoder.encode(t), 'upload') },
  { name: 'html of <', n: 50 * KB, build: repeat('<'), run: parseHtml },
  { name: 'html of <a ', n: 50 * KB, build: repeat('<a '), run: parseHtml },
  { name: 'html heading of spaces', n: 50 * KB, build: (n) => `<h1>${' '.repeat(n)}</h1>`, run: parseHtml },
  { name: 'jsonl line of {', n: 50 * KB, build: (n) => `{"_id":"1","text":"a"}\n${'{'.repeat(n)}`, run: parseJsonl },
  { name: 'pdf page of blank lines', n: 50 * KB, build: repeat(' \t\n'), run: normalizePageText },
  { name: 'pdf title of a-', n: 50 * KB, build: (n) => `${'a-'.repeat(n / 2)}!`, run: (t) => cleanPdfTitle([t]) },
  { name: 'pdf title of spaces', n: 50 * KB, build: (n) => `a${' '.repeat(n)}.pdf`, run: (t) => cleanPdfTitle([t]) },
  { name: 'sentences of ". "', n: 50 * KB, build: repeat('. '), run: splitSentences },
  { name: 'sentences of initials', n: 50 * KB, build: repeat('A. '), run: splitSentences },
  { name: 'sentences, long word then a period', n: 50 * KB, build: (n) => `${'x'.repeat(n)}. A`, run: splitSentences },
  { name: 'sentences of blank lines', n: 50 * KB, build: repeat('\n \n'), run: splitSentences },
  { name: 'sentences of list lines', n: 50 * KB, build: repeat('1. a\n'), run: splitSentences },
  { name: 'chunker, a heading on every line', n: 50 * KB, build: repeat('# a\n'), run: chunkMarkdown },
  { name: 'chunker, setext headings', n: 50 * KB, build: repeat('a\n---\n'), run: chunkMarkdown },
  { name: 'chunker, one long line of spaces', n: 50 * KB, build: (n) => `a${' '.repeat(n)}b`, run: chunkMarkdown },
  { name: 'lexical analyzer, one long word', n: 50 * KB, build: repeat('a'), run: analyze },
  { name: 'lexical analyzer, combining marks', n: 50 * KB, build: repeat('e\u0301'), run: analyze },
];

describe('linear time on adversarial input', () => {
  it('parses a 120 KB markdown heading of spaces at once (it froze a worker for ~60 s)', () => {
    const input = `# a${' '.repeat(120 * KB)}b`;
    const ms = timeMs(() => parseMarkdown(input), 3);
    console.log(`markdown 120 KB heading of spaces: ${ms.toFixed(1)} ms`);
    expect(parseMarkdown(input).headings).toEqual([{ start: 2, end: input.length, level: 1, text: 'a b' }]);
    // Generous: the quadratic version took tens of seconds here.
    expect(ms).toBeLessThan(2_000);
  });

  it('every case scales linearly from n to 4n', { timeout: 300_000 }, () => {
    const rows = CASES.map((c) => {
      const small = c.build(c.n);
      const large = c.build(4 * c.n);
      const tSmall = timeMs(() => c.run(small));
      const tLarge = timeMs(() => c.run(large));
      const ratio = Math.max(tLarge, FLOOR_MS) / Math.max(tSmall, FLOOR_MS);
      return { name: c.name, kb: Math.round(small.length / KB), tSmall, tLarge, ratio };
    });
    console.log(
      rows
        .map((r) => `${r.name}: ${r.kb} KB ${r.tSmall.toFixed(1)} ms, ${4 * r.kb} KB ${r.tLarge.toFixed(1)} ms (x${r.ratio.toFixed(1)})`)
        .join('\n'),
    );
    const superlinear = rows.filter((r) => r.ratio >= MAX_RATIO).map((r) => `${r.name}: x${r.ratio.toFixed(1)}`);
    expect(superlinear).toEqual([]);
  });
});

/** Short random strings over an alphabet rich in the characters the patterns care about. */
function randomStrings(seed: number, alphabet: string[], count: number, maxLength: number): string[] {
  const next = rng(seed);
  return Array.from({ length: count }, () => {
    const length = Math.floor(next() * (maxLength + 1));
    let s = '';
    for (let i = 0; i < length; i++) s += alphabet[Math.floor(next() * alphabet.length)];
    return s;
  });
}

describe('the linear scans answer as the regexes they replace', () => {
  it('closing # sequence of an ATX heading', () => {
    const old = (s: string) => s.replace(/(?:^|[ \t]+)#+$/, '');
    for (const s of randomStrings(1, ['#', ' ', '\t', 'a', '\u00a0'], 20_000, 10)) expect(stripClosingHashes(s), JSON.stringify(s)).toBe(old(s));
  });

  it('inline links', () => {
    const old = /!?\[[^\]\n]+\]\([^)\s]+\)/;
    const alphabet = ['[', ']', '(', ')', 'a', ' ', '\n', '!', '\t'];
    for (const s of randomStrings(2, alphabet, 50_000, 12)) expect(hasInlineLink(s), JSON.stringify(s)).toBe(old.test(s));
  });

  it('strong emphasis', () => {
    const old = /(\*\*|__)\S[^\n]*?\S\1/;
    const alphabet = ['*', '_', 'a', ' ', '\n', '\u3000'];
    for (const s of randomStrings(3, alphabet, 50_000, 12)) expect(hasStrongEmphasis(s), JSON.stringify(s)).toBe(old.test(s));
  });

  it('sentence spans of a range are those of the range on its own', () => {
    // The searches now stop at the end of the range; what they find inside it must not change.
    const alphabet = ['a', 'B', '1', '.', '!', '。', ' ', '\n', '\n', '#', '-', ')', '"', 'e.g'];
    const next = rng(4);
    for (const text of randomStrings(5, alphabet, 5_000, 40)) {
      const a = Math.floor(next() * (text.length + 1));
      const b = a + Math.floor(next() * (text.length - a + 1));
      const shifted = sentenceSpans(text.slice(a, b), 0, b - a).map((s) => ({ start: s.start + a, end: s.end + a }));
      expect(sentenceSpans(text, a, b), JSON.stringify([text, a, b])).toEqual(shifted);
    }
  });
});
