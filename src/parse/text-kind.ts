/** Content probes that tell HTML, Markdown and BEIR JSONL apart from plain text. */
import { isBeirRecordLine } from './jsonl.js';

const HTML_START = /^<(?:!doctype\s+html|html|head|body)[\s>/]/i;
// An XML declaration, comments and whitespace may precede the root element.
const HTML_PREAMBLE = /^(?:\s+|<\?xml[^>]*\?>|<!--[\s\S]*?-->)+/;

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

const MARKDOWN_SIGNALS: Array<[kind: string, pattern: RegExp]> = [
  ['heading', /^ {0,3}#{1,6}[ \t]+\S/],
  ['fence', /^ {0,3}(?:```|~~~)/],
  ['list', /^ {0,3}(?:[-*+]|\d{1,9}[.)])[ \t]+\S/],
  ['quote', /^ {0,3}>[ \t]?\S/],
  ['link', /!?\[[^\]\n]+\]\([^)\s]+\)/],
  ['emphasis', /(\*\*|__)\S[^\n]*?\S\1/],
  ['table', /^ {0,3}\|?(?: *:?-{3,}:? *\|)+/],
];

/**
 * Markdown when the text shows a heading or fenced code plus one more kind of markdown construct, or at
 * least two headings. Misjudging only costs heading detection: markdown text is kept verbatim either way.
 */
export function looksLikeMarkdown(text: string): boolean {
  const kinds = new Set<string>();
  let headings = 0;
  for (const line of text.slice(0, 65_536).split('\n', 400)) {
    for (const [kind, pattern] of MARKDOWN_SIGNALS) {
      if (!pattern.test(line)) continue;
      kinds.add(kind);
      if (kind === 'heading') headings++;
    }
  }
  const anchored = kinds.has('heading') || kinds.has('fence');
  return (anchored && kinds.size >= 2) || headings >= 2;
}
