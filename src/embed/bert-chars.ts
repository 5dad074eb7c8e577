/**
 * Character classes of HF tokenizers' BertNormalizer and BertPreTokenizer. HF uses its own, older
 * Unicode data (bert-unicode-tables.ts, generated from it), so we never consult Node's \p{...} classes:
 * token ids must not change when Node's ICU does. Classes are memoised per code point because the
 * chunker asks for them on every character of every document.
 */
import { CLEANED_RANGES, NONSPACING_MARK_RANGES, PUNCTUATION_RANGES } from './bert-unicode-tables.js';

/** Dropped by clean_text: NUL, U+FFFD, Cc/Cf/Co (and lone surrogates) except \t \n \r. */
export const REMOVED = 1;
/** Rust `char::is_whitespace` (Unicode White_Space); clean_text maps these to a plain space. */
export const SPACE = 2;
/** CJK ideographs that handle_chinese_chars pads with spaces (BERT's original ranges). */
export const CJK = 4;
/** BERT punctuation: ASCII punctuation or a Unicode P* category; each one becomes its own token. */
export const PUNCT = 8;
/** Nonspacing mark (Mn), dropped by strip_accents after NFD. */
export const MARK = 16;
/** Canonically decomposable in Node but not in HF's older NFD data: left undecomposed. */
export const NO_DECOMPOSE = 32;
const KNOWN = 128;

// Rust's char::is_whitespace is the Unicode White_Space property; JS `\s` differs (U+FEFF, U+0085).
const WHITE_SPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005,
  0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

// Found by the exhaustive sweep in test/unit/tokenizer-golden.test.ts: decompositions added to Unicode
// after the data HF's NFD was built from (Dives Akuru, Todhri, Tulu-Tigalari, Gurung Khema, Kirat Rai).
const HF_UNDECOMPOSED = new Set([
  0x105c9, 0x105e4, 0x11383, 0x11385, 0x1138e, 0x11391, 0x113c5, 0x113c7, 0x113c8, 0x11938, 0x16121, 0x16122,
  0x16123, 0x16124, 0x16125, 0x16126, 0x16127, 0x16128, 0x16d68, 0x16d69, 0x16d6a,
]);

function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** Binary search in a flat, sorted [first, last, first, last, ...] list. */
function inRanges(ranges: readonly number[], cp: number): boolean {
  let lo = 0;
  let hi = ranges.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < ranges[2 * mid]) hi = mid - 1;
    else if (cp > ranges[2 * mid + 1]) lo = mid + 1;
    else return true;
  }
  return false;
}

function classify(cp: number): number {
  let flags = KNOWN;
  if (WHITE_SPACE.has(cp)) flags |= SPACE;
  if ((cp >= 0xd800 && cp <= 0xdfff) || inRanges(CLEANED_RANGES, cp)) flags |= REMOVED;
  if (isCjk(cp)) flags |= CJK;
  if (inRanges(PUNCTUATION_RANGES, cp)) flags |= PUNCT;
  if (inRanges(NONSPACING_MARK_RANGES, cp)) flags |= MARK;
  if (HF_UNDECOMPOSED.has(cp)) flags |= NO_DECOMPOSE;
  return flags;
}

const table = new Uint8Array(0x110000);

/** Flags of one code point: REMOVED | SPACE | CJK | PUNCT | MARK | NO_DECOMPOSE. */
export function charFlags(cp: number): number {
  let f = table[cp];
  if (f === 0) {
    f = classify(cp);
    table[cp] = f;
  }
  return f;
}
