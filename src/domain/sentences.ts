/** Sentence and paragraph boundaries as [start, end) offsets into the original text. Pure. */

export interface Span {
  start: number;
  end: number;
}

const WS = /\s/;

function isSpace(ch: string | undefined): boolean {
  return ch !== undefined && WS.test(ch);
}

/** Moves start/end inwards past whitespace; undefined when nothing but whitespace remains. */
export function trimSpan(text: string, start: number, end: number): Span | undefined {
  while (start < end && isSpace(text[start])) start++;
  while (end > start && isSpace(text[end - 1])) end--;
  return start < end ? { start, end } : undefined;
}

/**
 * Searches (regexes, indexOf) run over `text.slice(start, end)` (a view in V8, not a copy), never over
 * the whole text: a search from `start` in the whole text would run on past `end` to the next match,
 * and the chunker calls these once per region, so a text cut into many regions (a heading on every
 * line) with no match anywhere would be rescanned to its end for each region, quadratic in its length.
 */
function rangeText(text: string, start: number, end: number): string {
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/** Paragraphs are separated by a blank line (a line holding only whitespace). */
export function paragraphSpans(text: string, start: number, end: number): Span[] {
  const out: Span[] = [];
  const range = rangeText(text, start, end);
  const separator = /\n[^\S\n]*\n/g;
  let from = start;
  for (let m = separator.exec(range); m; m = separator.exec(range)) {
    const at = start + m.index;
    const span = trimSpan(text, from, at);
    if (span) out.push(span);
    from = at + m[0].length;
    // Let runs of blank lines match again from the newline that closed this one.
    separator.lastIndex = m.index + m[0].length - 1;
  }
  const last = trimSpan(text, from, end);
  if (last) out.push(last);
  return out;
}

/** Lower-cased words that end in a period without ending the sentence. */
const ABBREVIATIONS = new Set([
  'e.g', 'i.e', 'al', 'etc.al', 'cf', 'vs', 'viz', 'approx', 'ca', 'fig', 'figs', 'eq', 'eqs', 'tab', 'ref', 'refs',
  'sec', 'ch', 'chap', 'vol', 'vols', 'no', 'nos', 'pp', 'p', 'dr', 'mr', 'mrs', 'ms', 'prof', 'sr', 'jr', 'st',
  'mt', 'inc', 'ltd', 'co', 'corp', 'dept', 'univ', 'gen', 'gov', 'rev', 'est', 'jan', 'feb', 'mar', 'apr', 'jun',
  'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec', 'u.s', 'u.k', 'ph.d', 'm.d', 'b.sc', 'm.sc', 'a.m', 'p.m',
]);

const CJK_TERMINATOR = /[。！？]/;
const CLOSERS = `"'”’)]」』`;
/** What may start a new sentence after a Latin terminator: an uppercase letter, a digit, an opening quote or bracket. */
const SENTENCE_START = /[\p{Lu}\p{Lt}\p{N}"'“‘(\[¿¡]/u;

/** The word before a period, without leading brackets or quotes, and where it starts. */
function wordBefore(text: string, dot: number, floor: number): { word: string; at: number } {
  let i = dot;
  while (i > floor && !isSpace(text[i - 1])) i--;
  let at = i;
  while (at < dot && `("'“‘[`.includes(text[at])) at++;
  return { word: text.slice(at, dot), at };
}

function isAbbreviation(text: string, dot: number, floor: number): boolean {
  const { word, at } = wordBefore(text, dot, floor);
  if (word.length === 0) return false;
  const lower = word.toLowerCase();
  if (ABBREVIATIONS.has(lower)) return true;
  // Initials ("J. Smith") and dotted abbreviations ("e.g", "U.S.A").
  if (/^\p{L}$/u.test(word) || /^(\p{L}\.)+\p{L}$/u.test(word)) return true;
  // A list number at the start of a line ("1. Introduction") is a label, not a sentence.
  if (/^\d{1,3}$/.test(word) && (at === floor || text[at - 1] === '\n')) return true;
  return false;
}

/** A line that opens a Markdown block: heading, bullet, numbered item or quote. */
const BLOCK_LINE = /^[^\S\n]*(#{1,6}\s|[-*+•]\s|\d{1,3}[.)]\s|>\s)/;
const HEADING_LINE = /^[^\S\n]*#{1,6}\s/;

/**
 * Splits a paragraph at line breaks that are structure, not wrapping: before a line that opens a
 * Markdown block and after a heading line. Plain wrapped lines (PDF text) stay together.
 */
function lineBlocks(text: string, start: number, end: number): Span[] {
  const out: Span[] = [];
  let from = start;
  let lineStart = start;
  const range = rangeText(text, start, end);
  for (let i = range.indexOf('\n'); i !== -1; i = range.indexOf('\n', i + 1)) {
    const nl = start + i;
    const line = text.slice(lineStart, nl);
    const nextLine = text.slice(nl + 1, Math.min(end, nl + 16));
    if (HEADING_LINE.test(line) || BLOCK_LINE.test(nextLine)) {
      const span = trimSpan(text, from, nl);
      if (span) out.push(span);
      from = nl + 1;
    }
    lineStart = nl + 1;
  }
  const last = trimSpan(text, from, end);
  if (last) out.push(last);
  return out;
}

/** Sentences of one line block, split at terminators; appends trimmed spans to `out`. */
function splitTerminated(text: string, start: number, end: number, out: Span[]): void {
  const range = rangeText(text, start, end);
  const terminator = /[.!?。！？]+/g;
  let from = start;
  for (let m = terminator.exec(range); m; m = terminator.exec(range)) {
    const at = start + m.index;
    let stop = at + m[0].length;
    while (stop < end && CLOSERS.includes(text[stop])) stop++;
    let boundary = false;
    if (CJK_TERMINATOR.test(m[0][m[0].length - 1])) {
      boundary = true;
    } else if (stop < end && isSpace(text[stop])) {
      let next = stop;
      while (next < end && isSpace(text[next])) next++;
      const lone = m[0] === '.';
      boundary = next < end && SENTENCE_START.test(text[next]) && !(lone && isAbbreviation(text, at, from));
    }
    if (boundary) {
      const span = trimSpan(text, from, stop);
      if (span) out.push(span);
      from = stop;
    }
    terminator.lastIndex = stop - start;
  }
  const last = trimSpan(text, from, end);
  if (last) out.push(last);
}

/**
 * Sentences inside [start, end): a sentence ends at `.`, `!` or `?` (plus closing quotes) followed by
 * whitespace and a capital, digit or opening quote, unless the period closes an abbreviation or
 * initial; CJK full stops end a sentence on their own; blank lines and Markdown block lines end one
 * too. A line break alone never does (PDF text wraps mid-sentence). Spans are trimmed, in order, and
 * cover every non-space character of the range.
 */
export function sentenceSpans(text: string, start: number, end: number): Span[] {
  const out: Span[] = [];
  for (const paragraph of paragraphSpans(text, start, end)) {
    for (const block of lineBlocks(text, paragraph.start, paragraph.end)) splitTerminated(text, block.start, block.end, out);
  }
  return out;
}

