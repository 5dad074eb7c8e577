/** Content probes that tell HTML, Markdown and BEIR JSONL apart from plain text. */
import { isBeirRecordLine } from './jsonl.js';

const HTML_START = /^<(?:!doctype\s+html|html|head|body)[\s>/]/i;
// An XML declaration, comments and whitespace may precede the root element.
// One whitespace character per repetition: a run inside a repeated group (`(?:\s+)+`) is the classic
// catastrophic-backtracking shape, even where nothing after it can fail today.
const HTML_PREAMBLE = /^(?:\s|<\?xml[^>]*\?>|<!--[\s\S]*?-->)+/;

export function looksLikeHtml(text: string): boolean {
  const head = text.slice(0, 4096);
  return HTML_START.test(head.replace(HTML_PREAMBLE, ''));
}

export function firstNonEmptyLine(text: string): string | undefined {
  for (const line of text.slice(0, 1 << 20).split('\n')) {
    if (line.trim() !== '') return line;
  }
  return undefined;
}

export function looksLikeBeirJsonl(text: string): boolean {
  const line = firstNonEmptyLine(text);
  return line !== undefined && isBeirRecordLine(line);
}

const WHITESPACE = /\s/;
const isSpace = (ch: string) => WHITESPACE.test(ch);

/**
 * Same answer as /!?\[[^\]\n]+\]\([^)\s]+\)/.test(text) (an inline link or image), in one pass. The
 * regex rescans to the end of the line from every `[` (or every `](`), quadratic on a line of `[` or
 * of `[a](`. Here a `]` closes the first `[` since the previous `]`, and the scan for the `)` after
 * `](` resumes where the last one stopped (it stops at the first `)` or space either way).
 */
export function hasInlineLink(text: string): boolean {
  let open = -1;
  let stop = -1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\n') open = -1;
    else if (ch === '[') open = open === -1 ? i : open;
    else if (ch === ']') {
      const labelled = open !== -1 && i - open >= 2;
      open = -1;
      if (!labelled || text[i + 1] !== '(') continue;
      const from = i + 2;
      if (stop < from) {
        stop = from;
        while (stop < text.length && text[stop] !== ')' && !isSpace(text[stop])) stop++;
      }
      if (stop > from && text[stop] === ')') return true;
    }
  }
  return false;
}

/**
 * Same answer as /(\*\*|__)\S[^\n]*?\S\1/.test(text) (strong emphasis), in one pass per delimiter: an
 * opening delimiter (followed by a non-space) and a later closing one (preceded by a non-space) on one
 * line, at least four characters apart. The regex rescans to the end of the line from every opener,
 * quadratic on a line of `**a ` repeated.
 */
export function hasStrongEmphasis(text: string): boolean {
  for (const delimiter of ['**', '__']) {
    let open = -1;
    for (let i = 0; i + 1 < text.length; i++) {
      if (text[i] === '\n') open = -1;
      if (text[i] !== delimiter[0] || text[i + 1] !== delimiter[1]) continue;
      if (open !== -1 && i >= open + 4 && !isSpace(text[i - 1])) return true;
      if (open === -1 && i + 2 < text.length && !isSpace(text[i + 2])) open = i;
    }
  }
  return false;
}

const MARKDOWN_SIGNALS: Array<[kind: string, test: (line: string) => boolean]> = [
  ['heading', (line) => /^ {0,3}#{1,6}[ \t]+\S/.test(line)],
  ['fence', (line) => /^ {0,3}(?:```|~~~)/.test(line)],
  ['list', (line) => /^ {0,3}(?:[-*+]|\d{1,9}[.)])[ \t]+\S/.test(line)],
  ['quote', (line) => /^ {0,3}>[ \t]?\S/.test(line)],
  ['link', hasInlineLink],
  ['emphasis', hasStrongEmphasis],
  ['table', (line) => /^ {0,3}\|?(?: *:?-{3,}:? *\|)+/.test(line)],
];

/**
 * Markdown when the text shows a heading or fenced code plus one more kind of markdown construct, or at
 * least two headings. Misjudging only costs heading detection: markdown text is kept verbatim either way.
 */
export function looksLikeMarkdown(text: string): boolean {
  const kinds = new Set<string>();
  let headings = 0;
  for (const line of text.slice(0, 65_536).split('\n', 400)) {
    for (const [kind, test] of MARKDOWN_SIGNALS) {
      if (!test(line)) continue;
      kinds.add(kind);
      if (kind === 'heading') headings++;
    }
  }
  const anchored = kinds.has('heading') || kinds.has('fence');
  return (anchored && kinds.size >= 2) || headings >= 2;
}
