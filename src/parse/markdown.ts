/**
 * Markdown is kept verbatim (citations quote it); we only find headings. ATX (`# x`) and setext
 * (`x` over `===`/`---`) headings are recognised outside fenced code and YAML front matter.
 * For every heading, `text.slice(start, end)` is its source text; `text` is that with whitespace collapsed.
 */
import type { HeadingSpan, ParsedDocument } from '../domain/types.js';

interface Line {
  start: number;
  end: number;
  value: string;
}

function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  while (start <= text.length) {
    const nl = text.indexOf('\n', start);
    const end = nl === -1 ? text.length : nl;
    lines.push({ start, end, value: text.slice(start, end) });
    if (nl === -1) break;
    start = nl + 1;
  }
  return lines;
}

const ATX = /^ {0,3}(#{1,6})(?=[ \t]|$)/;
const SETEXT_UNDERLINE = /^ {0,3}(=+|-+)[ \t]*$/;
const FENCE_OPEN = /^ {0,3}(`{3,}(?=[^`]*$)|~{3,})/;
// Lines that cannot be the content of a setext heading: a `---` under them is a thematic break.
const NOT_PARAGRAPH = /^(?: {0,3}(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)| {0,3}>| {0,3}\||\s*<)/;
const INDENTED_CODE = /^(?: {4,}|\t)/;

interface FrontMatter {
  endLine: number;
  title?: string;
}

/** YAML front matter: `---` on the first line, closed by `---` or `...`. */
function readFrontMatter(lines: Line[]): FrontMatter {
  if (lines[0]?.value.trimEnd() !== '---') return { endLine: 0 };
  for (let i = 1; i < Math.min(lines.length, 200); i++) {
    const v = lines[i].value.trimEnd();
    if (v !== '---' && v !== '...') continue;
    const titleLine = lines.slice(1, i).find((l) => /^title:\s*\S/.test(l.value));
    const title = titleLine?.value.replace(/^title:\s*/, '').trim().replace(/^(['"])(.*)\1$/, '$2');
    return { endLine: i + 1, title: title || undefined };
  }
  return { endLine: 0 };
}

function span(text: string, start: number, end: number, level: number): HeadingSpan {
  return { start, end, level, text: text.slice(start, end).replace(/\s+/g, ' ').trim() };
}

const isBlank = (ch: string) => ch === ' ' || ch === '\t';

/**
 * `content` without its optional closing sequence: a final run of `#` that is the whole content or
 * follows spaces or tabs, which go too. A scan from the end, in linear time: the regex it replaces,
 * /(?:^|[ \t]+)#+$/, retried its space run from every position, quadratic on a heading with a long
 * run of spaces inside.
 */
export function stripClosingHashes(content: string): string {
  let hashes = content.length;
  while (hashes > 0 && content[hashes - 1] === '#') hashes--;
  if (hashes === content.length) return content;
  if (hashes === 0) return '';
  if (!isBlank(content[hashes - 1])) return content;
  let end = hashes;
  while (end > 0 && isBlank(content[end - 1])) end--;
  return content.slice(0, end);
}

/** Content range of an ATX heading line: after the hashes, before an optional closing `#` run. */
function atxHeading(text: string, line: Line, hashes: string): HeadingSpan | undefined {
  const afterHashes = line.value.indexOf(hashes) + hashes.length;
  let content = line.value.slice(afterHashes);
  const lead = content.length - content.trimStart().length;
  content = stripClosingHashes(content.trim()).trimEnd();
  if (content === '') return undefined;
  const start = line.start + afterHashes + lead;
  return span(text, start, start + content.length, hashes.length);
}

export function findMarkdownHeadings(text: string): { headings: HeadingSpan[]; frontMatterTitle?: string } {
  const lines = splitLines(text);
  const front = readFrontMatter(lines);
  const headings: HeadingSpan[] = [];
  let fence: { char: string; length: number } | undefined;
  let paragraph: { start: number; end: number } | undefined;

  for (let i = front.endLine; i < lines.length; i++) {
    const line = lines[i];
    if (fence) {
      const close = line.value.match(/^ {0,3}(`{3,}|~{3,})[ \t]*$/);
      if (close && close[1][0] === fence.char && close[1].length >= fence.length) fence = undefined;
      continue;
    }
    const open = line.value.match(FENCE_OPEN);
    if (open) {
      fence = { char: open[1][0], length: open[1].length };
      paragraph = undefined;
      continue;
    }
    if (line.value.trim() === '') {
      paragraph = undefined;
      continue;
    }
    const atx = line.value.match(ATX);
    if (atx) {
      const heading = atxHeading(text, line, atx[1]);
      if (heading) headings.push(heading);
      paragraph = undefined;
      continue;
    }
    const underline = line.value.match(SETEXT_UNDERLINE);
    if (underline && paragraph) {
      headings.push(span(text, paragraph.start, paragraph.end, underline[1][0] === '=' ? 1 : 2));
      paragraph = undefined;
      continue;
    }
    if (underline || NOT_PARAGRAPH.test(line.value) || (!paragraph && INDENTED_CODE.test(line.value))) {
      paragraph = undefined;
      continue;
    }
    const contentStart = line.start + (line.value.length - line.value.trimStart().length);
    const contentEnd = line.start + line.value.trimEnd().length;
    paragraph = paragraph ? { start: paragraph.start, end: contentEnd } : { start: contentStart, end: contentEnd };
  }
  return { headings, frontMatterTitle: front.title };
}

export function parseMarkdown(text: string): ParsedDocument {
  const { headings, frontMatterTitle } = findMarkdownHeadings(text);
  const title = frontMatterTitle ?? headings.find((h) => h.level === 1)?.text;
  return { type: 'markdown', text, title, pages: [], headings };
}
