/**
 * Sentence spans for quoting (extractive answers and citation quotes). Offsets index into the given
 * text, so `text.slice(start, end)` is the sentence verbatim, trimmed of surrounding whitespace.
 * Rule-based on purpose: predictable, fast, and conservative where unsure (a missed split quotes a
 * little more; a wrong split cuts a claim in half). Unlike the chunker's sentenceSpans it also ends
 * sentences at markdown headings and list items, which matter for quotes but not for chunk packing.
 */

export interface SentenceSpan {
  start: number;
  end: number;
}

// Compared lowercase, without the final period. Multi-dot forms ("e.g", "u.s") are matched as written.
const ABBREVIATIONS: ReadonlySet<string> = new Set([
  'e.g', 'i.e', 'cf', 'viz', 'vs', 'etc', 'al', 'approx', 'ca', 'fig', 'figs', 'eq', 'eqs', 'ref', 'refs',
  'sec', 'secs', 'ch', 'chap', 'tab', 'vol', 'vols', 'no', 'nos', 'pp', 'p', 'ed', 'eds', 'dr', 'mr',
  'mrs', 'ms', 'prof', 'sr', 'jr', 'st', 'mt', 'gen', 'col', 'lt', 'sgt', 'rev', 'hon', 'inc', 'ltd',
  'co', 'corp', 'dept', 'univ', 'est', 'u.s', 'u.k', 'u.n', 'e.u', 'a.m', 'p.m', 'ph.d', 'm.d', 'b.sc',
  'm.sc', 'jan', 'feb', 'mar', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec', 'resp',
  'incl', 'min', 'max', 'avg', 'std', 'var', 'wt', 'conc',
]);

/** Abbreviations that often end a sentence: split after them only when a capital letter follows. */
const MAY_END: ReadonlySet<string> = new Set(['etc', 'inc', 'ltd', 'corp', 'a.m', 'p.m']);

const TERMINATORS = new Set(['.', '!', '?', '\u2026']);
const CLOSERS = new Set(['"', "'", ')', ']', '}', '\u201d', '\u2019', '\u00bb']);
const OPENERS = new Set(['"', "'", '(', '[', '{', '\u201c', '\u2018', '\u00ab']);
const HEADING_OR_ITEM = /^\s*(?:#{1,6}\s|[-*\u2022]\s|\d+[.)]\s)/;

function isSpace(c: string | undefined): boolean {
  return c !== undefined && /\s/.test(c);
}

function isUpper(c: string | undefined): boolean {
  return c !== undefined && c !== c.toLowerCase() && c === c.toUpperCase();
}

function isLower(c: string | undefined): boolean {
  return c !== undefined && c !== c.toUpperCase() && c === c.toLowerCase();
}

/** The word ending right before index `dot` (letters and inner dots), lowercased. */
function wordBefore(text: string, dot: number): string {
  let i = dot;
  while (i > 0 && /[\p{L}.]/u.test(text[i - 1])) i--;
  return text.slice(i, dot).replace(/^\.+/, '').toLowerCase();
}

/** Decides whether the lone period at `dot` ends a sentence, given the first character after the gap. */
function periodEnds(text: string, dot: number, next: string | undefined): boolean {
  if (next === undefined) return true;
  // A lowercase continuation is almost never a new sentence ("e.g. this", "approx. five").
  if (isLower(next)) return false;
  const word = wordBefore(text, dot);
  if (word.length === 1 && isUpper(text[dot - 1])) return false; // initials: "J. Smith", "John F. Kennedy"
  if (ABBREVIATIONS.has(word)) return MAY_END.has(word) && isUpper(next);
  // Dotted acronyms not listed above ("N.A.S.A.") are usually followed by a name, not a new sentence.
  if (/^(?:\p{L}\.)+\p{L}$/u.test(word)) return false;
  // "1. First step": a number opening its line is a list marker, not a sentence.
  if (word === '' && /^[ \t]*\d{1,3}$/.test(text.slice(text.lastIndexOf('\n', dot - 1) + 1, dot))) return false;
  return true;
}

/** Splits text into trimmed, non-empty sentence spans, in order. */
export function splitSentences(text: string): SentenceSpan[] {
  const spans: SentenceSpan[] = [];
  let start = 0;

  const push = (end: number) => {
    let s = start;
    let e = end;
    while (s < e && isSpace(text[s])) s++;
    while (e > s && isSpace(text[e - 1])) e--;
    if (e > s) spans.push({ start: s, end: e });
    start = end;
  };

  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text[i];
    if (c === '\n') {
      // A blank line always ends a sentence; a single newline only before or after a heading or list
      // item (PDF text wraps lines mid-sentence, so plain newlines do not count).
      let j = i + 1;
      while (j < n && (text[j] === ' ' || text[j] === '\t' || text[j] === '\r')) j++;
      if (j < n && text[j] === '\n') {
        push(i);
        i = j;
        continue;
      }
      const lineStart = text.lastIndexOf('\n', i - 1) + 1;
      if (HEADING_OR_ITEM.test(text.slice(j, j + 8)) || HEADING_OR_ITEM.test(text.slice(lineStart, i))) push(i);
      i++;
      continue;
    }
    if (TERMINATORS.has(c)) {
      let j = i + 1;
      while (j < n && TERMINATORS.has(text[j])) j++;
      const lonePeriod = c === '.' && j === i + 1;
      while (j < n && CLOSERS.has(text[j])) j++;
      // Only whitespace (or the end) after the terminator can end a sentence: "3.5", "e.g.," stay whole.
      if (j < n && !isSpace(text[j])) {
        i = j;
        continue;
      }
      let k = j;
      while (k < n && isSpace(text[k])) k++;
      let next = text[k];
      if (next !== undefined && OPENERS.has(next)) next = text[k + 1] ?? next;
      const ends = lonePeriod ? periodEnds(text, i, next) : next === undefined || !isLower(next);
      if (ends) push(j);
      i = j;
      continue;
    }
    i++;
  }
  push(n);
  return spans;
}
