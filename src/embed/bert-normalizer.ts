/**
 * HF tokenizers' BertNormalizer and BertPreTokenizer. Order as in HF: clean_text, handle_chinese_chars,
 * strip_accents (NFD, then drop Mn), lowercase (per character, so no final-sigma rule).
 * Pure ASCII input, the common case, takes a path with no per-character work beyond one scan.
 */
import { CJK, MARK, NO_DECOMPOSE, PUNCT, REMOVED, SPACE, charFlags } from './bert-chars.js';

export interface BertNormalizerOptions {
  cleanText: boolean;
  handleChineseChars: boolean;
  /** `null` follows `lowercase`, as in HF. */
  stripAccents: boolean | null;
  lowercase: boolean;
}

const NON_ASCII = /[^\x00-\x7f]/;
// ASCII controls that clean_text drops (Cc except \t \n \r); \v and \f are White_Space but dropped first.
const ASCII_CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;
const ASCII_CONTROL_ALL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;
const ASCII_SPACE = /[\t\n\r]/;
const ASCII_SPACE_ALL = /[\t\n\r]/g;

function codePointAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return (c - 0xd800) * 0x400 + (d - 0xdc00) + 0x10000;
  }
  return c;
}

/** clean_text and handle_chinese_chars in one pass; reports whether NFD must spare some characters. */
function cleanAndPad(text: string, clean: boolean, pad: boolean): { text: string; spare: boolean } {
  const parts: string[] = [];
  let runStart = 0;
  let spare = false;
  for (let i = 0; i < text.length; ) {
    const cp = codePointAt(text, i);
    const width = cp > 0xffff ? 2 : 1;
    const f = charFlags(cp);
    let replacement: string | undefined;
    if (clean && f & REMOVED) replacement = '';
    else if (clean && f & SPACE && cp !== 0x20) replacement = ' ';
    else if (pad && f & CJK) replacement = ' ' + text.slice(i, i + width) + ' ';
    if (f & NO_DECOMPOSE) spare = true;
    if (replacement !== undefined) {
      if (runStart < i) parts.push(text.slice(runStart, i));
      parts.push(replacement);
      runStart = i + width;
    }
    i += width;
  }
  if (runStart === 0) return { text, spare };
  if (runStart < text.length) parts.push(text.slice(runStart));
  return { text: parts.join(''), spare };
}

/** NFD that leaves alone the characters HF's older Unicode data cannot decompose. */
function nfd(text: string, spare: boolean): string {
  if (!spare) return text.normalize('NFD');
  let out = '';
  let runStart = 0;
  for (let i = 0; i < text.length; ) {
    const cp = codePointAt(text, i);
    const width = cp > 0xffff ? 2 : 1;
    if (charFlags(cp) & NO_DECOMPOSE) {
      // These are starters (combining class 0), so normalising around them equals normalising the whole.
      out += text.slice(runStart, i).normalize('NFD') + text.slice(i, i + width);
      runStart = i + width;
    }
    i += width;
  }
  return out + text.slice(runStart).normalize('NFD');
}

function dropMarks(text: string): string {
  const parts: string[] = [];
  let runStart = 0;
  for (let i = 0; i < text.length; ) {
    const cp = codePointAt(text, i);
    const width = cp > 0xffff ? 2 : 1;
    if (charFlags(cp) & MARK) {
      if (runStart < i) parts.push(text.slice(runStart, i));
      runStart = i + width;
    }
    i += width;
  }
  if (runStart === 0) return text;
  if (runStart < text.length) parts.push(text.slice(runStart));
  return parts.join('');
}

// HF lowercases character by character; String#toLowerCase applies one context rule (final sigma),
// so capital sigma is mapped to the medial form first.
function lowercasePerChar(text: string): string {
  return (text.includes('\u03a3') ? text.replaceAll('\u03a3', '\u03c3') : text).toLowerCase();
}

export type Normalize = (text: string) => string;

export function createBertNormalizer(opts: BertNormalizerOptions): Normalize {
  const strip = opts.stripAccents ?? opts.lowercase;
  return (input) => {
    let text = input;
    if (!NON_ASCII.test(text)) {
      if (opts.cleanText) {
        if (ASCII_CONTROL.test(text)) text = text.replace(ASCII_CONTROL_ALL, '');
        if (ASCII_SPACE.test(text)) text = text.replace(ASCII_SPACE_ALL, ' ');
      }
      return opts.lowercase ? text.toLowerCase() : text;
    }
    let spare = true;
    if (opts.cleanText || opts.handleChineseChars) {
      ({ text, spare } = cleanAndPad(text, opts.cleanText, opts.handleChineseChars));
    }
    if (strip) text = dropMarks(nfd(text, spare));
    if (opts.lowercase) text = lowercasePerChar(text);
    return text;
  };
}

// 0 = part of a word, 1 = whitespace, 2 = punctuation (its own token).
const ASCII_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const f = charFlags(c);
  ASCII_CLASS[c] = f & SPACE ? 1 : f & PUNCT ? 2 : 0;
}

/**
 * BertPreTokenizer: splits on whitespace (dropped) and isolates every punctuation character.
 * Calls `onWord` with each piece, in order, to spare the caller an array per sentence.
 */
export function bertPreTokenize(text: string, onWord: (word: string) => void): void {
  let wordStart = 0;
  for (let i = 0; i < text.length; ) {
    const c = text.charCodeAt(i);
    let cls: number;
    let width = 1;
    if (c < 128) {
      cls = ASCII_CLASS[c];
    } else {
      const cp = codePointAt(text, i);
      if (cp > 0xffff) width = 2;
      const f = charFlags(cp);
      cls = f & SPACE ? 1 : f & PUNCT ? 2 : 0;
    }
    if (cls !== 0) {
      if (wordStart < i) onWord(text.slice(wordStart, i));
      if (cls === 2) onWord(text.slice(i, i + width));
      wordStart = i + width;
    }
    i += width;
  }
  if (wordStart < text.length) onWord(text.slice(wordStart));
}
