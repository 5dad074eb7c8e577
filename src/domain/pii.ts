/**
 * PII policy at ingest: find personal data in a parsed document and either count it (`flag`) or replace
 * it with a typed placeholder (`redact`) while keeping every page and heading span pointing at the right
 * text, so citations into the redacted text stay exact.
 *
 * Input is untrusted and can be megabytes, so every built-in detector is a hand-written scanner that
 * looks at each character a bounded number of times (no backtracking regular expressions). Detectors
 * report offsets only: nothing here returns, logs or throws the matched text.
 *
 * Pure: no I/O, no environment. The entrypoint reads SRAG_PII_PATTERNS and passes the string in.
 */
import { AppError, ConfigError } from '../errors.js';
import type { HeadingSpan, PageSpan, ParsedDocument } from './types.js';

export type PiiPolicy = 'off' | 'flag' | 'redact';

export const PII_POLICIES: readonly PiiPolicy[] = ['off', 'flag', 'redact'];

/** A range [start, end) of the scanned text. */
export interface PiiSpan {
  start: number;
  end: number;
}

export interface PiiMatch extends PiiSpan {
  /** The detector's type: `email`, `phone`, `iban`, `card` or an operator pattern's name. */
  type: string;
}

export interface PiiDetector {
  /** Lower-case name, `[a-z0-9_]{1,40}`; upper-cased inside the redaction placeholder. */
  readonly type: string;
  /** Candidate ranges in `text`, in any order; they may overlap (detectPii resolves that). */
  find(text: string): PiiSpan[];
}

// ---------------------------------------------------------------------------------------------------
// Character classes (UTF-16 code units)

const C_0 = 48;
const C_9 = 57;
const C_PLUS = 43;
const C_DOT = 46;
const C_DASH = 45;
const C_SLASH = 47;
const C_SPACE = 32;
const C_COMMA = 44;
const C_OPEN = 40;
const C_CLOSE = 41;
const C_AT = 64;

const isDigit = (c: number): boolean => c >= C_0 && c <= C_9;
const isAsciiLetter = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isAsciiAlnum = (c: number): boolean => isDigit(c) || isAsciiLetter(c);

const NON_ASCII_WORD = /^[\p{L}\p{N}\p{M}]$/u;

/**
 * A letter, digit or mark in any script. Surrogates count as word units so that a number glued to an
 * astral-plane letter is not taken for a free-standing one. NaN (outside the text) is not a word unit.
 */
function isWordUnit(c: number): boolean {
  if (c < 128) return isAsciiAlnum(c) || c === 95;
  if (c >= 0xd800 && c <= 0xdfff) return true;
  return NON_ASCII_WORD.test(String.fromCharCode(c));
}

/** Spaces that may sit inside a printed phone number (regular, no-break, thin, narrow no-break). */
const isInlineSpace = (c: number): boolean => c === C_SPACE || c === 0xa0 || c === 0x2009 || c === 0x202f;
/** Punctuation that may sit between phone digit groups; hyphen variants included. */
const isPhonePunct = (c: number): boolean => c === C_DASH || c === C_DOT || c === C_SLASH || c === 0x2010 || c === 0x2011 || c === 0x2013;

// ---------------------------------------------------------------------------------------------------
// email

/** The practical subset of RFC 5322 atext seen in real addresses, plus letters of any script. */
function isLocalUnit(c: number): boolean {
  if (c < 128) return isAsciiAlnum(c) || c === C_DOT || c === 95 || c === 37 || c === C_PLUS || c === C_DASH;
  return isWordUnit(c);
}

function isLabelUnit(c: number): boolean {
  if (c < 128) return isAsciiAlnum(c) || c === C_DASH;
  return isWordUnit(c);
}

const MAX_LOCAL = 64;
const MAX_LABEL = 63;
const MAX_DOMAIN = 253;

/**
 * Scans outwards from each `@`: left over at most 64 local-part units, right over at most 253 domain
 * units, so the work is linear whatever the input. The domain needs at least two labels and ends at the
 * last label that reads as a top-level domain (letters only, two or more), so a sentence's closing dot
 * or a trailing `.123` stays outside. Quoted local parts and IP-literal domains are not recognised.
 */
function findEmails(text: string): PiiSpan[] {
  const out: PiiSpan[] = [];
  for (let at = text.indexOf('@'); at >= 0; at = text.indexOf('@', at + 1)) {
    let start = at;
    while (start > 0 && at - start <= MAX_LOCAL && isLocalUnit(text.charCodeAt(start - 1))) start--;
    // A run longer than any local part is a token of some other kind (base64, a hash): not an address.
    if (at - start > MAX_LOCAL) continue;
    while (start < at && text.charCodeAt(start) === C_DOT) start++;
    if (start === at || text.charCodeAt(at - 1) === C_DOT || text.slice(start, at).includes('..')) continue;

    let end = -1;
    let labels = 0;
    let p = at + 1;
    while (p - at - 1 < MAX_DOMAIN) {
      const labelStart = p;
      let alphaOnly = true;
      while (p < text.length && p - labelStart < MAX_LABEL && isLabelUnit(text.charCodeAt(p))) {
        const c = text.charCodeAt(p);
        if (isDigit(c) || c === C_DASH) alphaOnly = false;
        p++;
      }
      // Empty, hyphen-edged or over-long labels end the domain; an over-long one is not an address at all.
      if (p === labelStart || text.charCodeAt(labelStart) === C_DASH || text.charCodeAt(p - 1) === C_DASH) break;
      if (isLabelUnit(text.charCodeAt(p))) {
        end = -1;
        break;
      }
      labels++;
      if (labels >= 2 && alphaOnly && p - labelStart >= 2) end = p;
      if (text.charCodeAt(p) === C_DOT && isLabelUnit(text.charCodeAt(p + 1))) p++;
      else break;
    }
    if (end > 0) out.push({ start, end });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Digit-group runs, shared by the phone and card scanners

interface Group {
  /** Where the group begins, `+` or `(` included. */
  start: number;
  /** Where it ends, `)` included. */
  end: number;
  digitsStart: number;
  digitsEnd: number;
  plus: boolean;
  paren: boolean;
  /** Kind of separator before this group: none (first group or glued to a parenthesis), spaced, or tight. */
  before: 'none' | 'spaced' | 'tight';
  /** The separator's punctuation character code (0 if only spaces or none). */
  punct: number;
}

const groupDigits = (g: Group): number => g.digitsEnd - g.digitsStart;

/**
 * A number may start here: the text before is not part of a word, and not a number's decimal or
 * separator tail (`3.14159265`, `v1.2-45678901` must not yield a match from their tail).
 */
function canStartNumber(text: string, i: number): boolean {
  if (i === 0) return true;
  const prev = text.charCodeAt(i - 1);
  if (isWordUnit(prev) || prev === C_PLUS || prev === C_AT) return false;
  if ((prev === C_DOT || prev === C_COMMA || isPhonePunct(prev)) && i >= 2 && isDigit(text.charCodeAt(i - 2))) return false;
  return true;
}

/** True when the text after a run glues it to something else: a word, a decimal part, an email. */
function gluedAfter(text: string, end: number): boolean {
  const next = text.charCodeAt(end);
  if (isWordUnit(next) || next === C_AT) return true;
  return (next === C_COMMA || next === C_DOT) && isDigit(text.charCodeAt(end + 1));
}

interface RunSyntax {
  /** Accept `+` before a group (phones) and `(`...`)` around one. */
  phone: boolean;
}

/**
 * Reads a maximal run of digit groups from `i` and returns it with the index just past its last group.
 * Separators are at most one punctuation character with optional single spaces around it (phones) or
 * exactly one space or dash (cards). Each character is read once, so a megabyte of `1 1 1 ...` is one
 * linear pass.
 */
function readRun(text: string, i: number, syntax: RunSyntax): { groups: Group[]; end: number } {
  const groups: Group[] = [];
  let pos = i;
  let before: Group['before'] = 'none';
  let punct = 0;
  for (;;) {
    let p = pos;
    let plus = false;
    let paren = false;
    if (syntax.phone && text.charCodeAt(p) === C_PLUS && (groups.length === 0 || before === 'spaced')) {
      plus = true;
      p++;
    }
    if (syntax.phone && text.charCodeAt(p) === C_OPEN) {
      paren = true;
      p++;
    }
    const digitsStart = p;
    while (isDigit(text.charCodeAt(p))) p++;
    const digitsEnd = p;
    if (digitsEnd === digitsStart) break;
    if (paren) {
      if (text.charCodeAt(p) !== C_CLOSE) break;
      p++;
    }
    groups.push({ start: pos, end: p, digitsStart, digitsEnd, plus, paren, before, punct });

    // Separator to the next group.
    let q = p;
    let spaced = false;
    punct = 0;
    if (syntax.phone) {
      if (isInlineSpace(text.charCodeAt(q))) {
        q++;
        spaced = true;
      }
      if (isPhonePunct(text.charCodeAt(q))) {
        punct = text.charCodeAt(q);
        q++;
        if (isInlineSpace(text.charCodeAt(q))) {
          q++;
          spaced = true;
        }
      }
    } else {
      const c = text.charCodeAt(q);
      if (c === C_SPACE || c === C_DASH) {
        punct = c === C_DASH ? c : 0;
        spaced = c === C_SPACE;
        q++;
      }
    }
    const next = text.charCodeAt(q);
    const startsGroup = isDigit(next) || (syntax.phone && (next === C_OPEN || (next === C_PLUS && spaced && isDigit(text.charCodeAt(q + 1)))));
    // Digits may touch a parenthesis directly (`+49(0)30`); otherwise a separator is needed.
    if (!startsGroup || (q === p && !paren && next !== C_OPEN)) break;
    before = q === p ? 'none' : spaced ? 'spaced' : 'tight';
    pos = q;
  }
  const end = groups.length > 0 ? groups[groups.length - 1].end : i;
  return { groups, end };
}

/** How a digit-group scanner judges a stretch of groups. */
interface NumberRule {
  /** Most groups one number may have; bounds the work per start. */
  maxGroups: number;
  minDigits: number;
  maxDigits: number;
  /** Digits of group k that count towards the length when the number starts at group a. */
  digitsOf(groups: Group[], a: number, k: number): number;
  accept(groups: Group[], a: number, b: number): boolean;
}

/**
 * Splits a run into numbers. A number begins at the run's first group, at a `+`, or after a spaced
 * separator, and ends at the run's end or before a spaced separator, so an ISBN's inner groups yield
 * nothing. Among the ways to cut the run, the one covering the most digits wins (then the one with
 * fewer numbers): `030 1234567 / 040 7654321` is two numbers, not `030 1234567 / 040` and a leftover.
 * This is a shortest-path over group boundaries where each start tries at most `maxGroups` groups, so
 * the split stays linear in the run's length.
 */
function splitRun(groups: Group[], glued: boolean, rule: NumberRule): PiiSpan[] {
  const n = groups.length;
  // cover[k]: most digits coverable in groups[0, k); taken[k]: numbers used; from[k]: where the last
  // number began (-1 when group k-1 is left uncovered).
  const cover = new Array<number>(n + 1).fill(-1);
  const taken = new Array<number>(n + 1).fill(0);
  const from = new Array<number>(n + 1).fill(-1);
  cover[0] = 0;
  const better = (k: number, c: number, t: number) => c > cover[k] || (c === cover[k] && t < taken[k]);
  for (let a = 0; a < n; a++) {
    if (better(a + 1, cover[a], taken[a])) {
      cover[a + 1] = cover[a];
      taken[a + 1] = taken[a];
      from[a + 1] = -1;
    }
    if (a > 0 && groups[a].before !== 'spaced' && !groups[a].plus) continue;
    let digits = 0;
    for (let b = a; b < n && b - a < rule.maxGroups; b++) {
      if (b > a && groups[b].plus) break;
      digits += rule.digitsOf(groups, a, b);
      if (digits > rule.maxDigits) break;
      if (digits < rule.minDigits) continue;
      const last = b === n - 1;
      if (last ? glued : groups[b + 1].before !== 'spaced' && !groups[b + 1].plus) continue;
      if (better(b + 1, cover[a] + digits, taken[a] + 1) && rule.accept(groups, a, b)) {
        cover[b + 1] = cover[a] + digits;
        taken[b + 1] = taken[a] + 1;
        from[b + 1] = a;
      }
    }
  }
  const out: PiiSpan[] = [];
  for (let k = n; k > 0; ) {
    const a = from[k];
    if (a < 0) {
      k--;
      continue;
    }
    out.push({ start: groups[a].start, end: groups[k - 1].end });
    k = a;
  }
  return out.reverse();
}

function scanRuns(text: string, syntax: RunSyntax, rule: NumberRule): PiiSpan[] {
  const out: PiiSpan[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    const opener = isDigit(c) || (syntax.phone && (c === C_PLUS || c === C_OPEN));
    if (!opener || !canStartNumber(text, i)) {
      i++;
      continue;
    }
    const { groups, end } = readRun(text, i, syntax);
    if (groups.length === 0) {
      i++;
      continue;
    }
    for (const span of splitRun(groups, gluedAfter(text, end), rule)) out.push(span);
    i = end;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// phone

const MIN_PHONE_DIGITS = 8;
const MAX_PHONE_DIGITS = 15;

function groupText(text: string, g: Group): string {
  return text.slice(g.digitsStart, g.digitsEnd);
}

/** `01.02.2024`, `15/01/2024`, `2024-01-15`: three groups that read as day, month and year in some order. */
function looksLikeDate(text: string, groups: Group[], a: number, b: number): boolean {
  if (b - a < 2) return false;
  const [x, y, z] = [groups[a], groups[a + 1], groups[a + 2]];
  if (!(y.punct !== 0 && z.punct !== 0)) return false;
  const n = [x, y, z].map((g) => Number(groupText(text, g)));
  const len = [x, y, z].map(groupDigits);
  const year = (v: number) => v >= 1000 && v <= 2999;
  const dayMonth = (d: number, m: number) => (d >= 1 && d <= 31 && m >= 1 && m <= 12) || (m >= 1 && m <= 31 && d >= 1 && d <= 12);
  if (len[0] === 4 && len[1] <= 2 && len[2] <= 2) return year(n[0]) && dayMonth(n[2], n[1]);
  if (len[0] <= 2 && len[1] <= 2 && len[2] === 4) return year(n[2]) && dayMonth(n[0], n[1]);
  return false;
}

/**
 * Phone structure, checked on groups a..b (the 8-15 digit length, E.164's maximum, is checked by the
 * caller, a parenthesised trunk `(0)` not counted):
 * - international: a leading `+` and a country code not starting with 0 (`+49 30 1234567`, `+4930123456`);
 * - national: at least one separator and either a trunk prefix (first group of 2-5 digits starting with 0:
 *   `030 12345678`, `(030) 1234-567`, `0049 30 1234567`) or North American grouping 3-3-4 / 1-3-3-4 with an
 *   area code starting 2-9 (`(555) 123-4567`, `1-800-555-0199`); never a date, never ending in a lone digit.
 * Not caught: national numbers written without separators, or grouped without a trunk prefix outside
 * North America (`912 345 678`), since those are indistinguishable from ids and thousands-grouped amounts.
 */
function acceptPhone(text: string, groups: Group[], a: number, b: number): boolean {
  const first = groups[a];
  if (first.plus) return text.charCodeAt(first.digitsStart) !== C_0;
  if (b === a || looksLikeDate(text, groups, a, b) || groupDigits(groups[b]) < 2) return false;
  const lead = text.charCodeAt(first.digitsStart);
  if (lead === C_0 && groupDigits(first) >= 2 && groupDigits(first) <= 5) return true;
  if (b - a > 3) return false;
  const lens = groups.slice(a, b + 1).map(groupDigits).join('-');
  const areaOk = (g: Group) => text.charCodeAt(g.digitsStart) >= 50; // '2'..'9'
  if (lens === '3-3-4') return areaOk(first);
  if (lens === '1-3-3-4') return lead === 49 && areaOk(groups[a + 1]); // a leading '1'
  return false;
}

function findPhones(text: string): PiiSpan[] {
  return scanRuns(text, { phone: true }, {
    maxGroups: MAX_PHONE_DIGITS + 1,
    minDigits: MIN_PHONE_DIGITS,
    maxDigits: MAX_PHONE_DIGITS,
    digitsOf: (groups, a, k) => {
      const g = groups[k];
      const trunk = g.paren && k > a && groupDigits(g) === 1 && text.charCodeAt(g.digitsStart) === C_0;
      return trunk ? 0 : groupDigits(g);
    },
    accept: (groups, a, b) => acceptPhone(text, groups, a, b),
  });
}

// ---------------------------------------------------------------------------------------------------
// card

/** Luhn over the digits of text[start, end), separators skipped. */
function luhnOk(text: string, start: number, end: number): boolean {
  let sum = 0;
  let double = false;
  for (let i = end - 1; i >= start; i--) {
    const c = text.charCodeAt(i);
    if (!isDigit(c)) continue;
    let d = c - C_0;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Issuer prefixes and lengths of the networks in wide use; an unknown prefix is not a card. */
function plausibleIin(digits: string): boolean {
  const n = digits.length;
  const p = (k: number) => Number(digits.slice(0, k));
  const d1 = p(1);
  if (d1 === 4) return n === 13 || n === 16 || n === 19; // Visa
  if (p(2) >= 51 && p(2) <= 55) return n === 16; // Mastercard
  if (p(4) >= 2221 && p(4) <= 2720) return n === 16; // Mastercard 2-series
  if (p(4) >= 2200 && p(4) <= 2204) return n >= 16 && n <= 19; // Mir
  if (p(2) === 34 || p(2) === 37) return n === 15; // American Express
  if ((p(3) >= 300 && p(3) <= 305) || p(2) === 36 || p(2) === 38 || p(2) === 39) return n >= 14 && n <= 19; // Diners
  if (p(4) >= 3528 && p(4) <= 3589) return n >= 16 && n <= 19; // JCB
  if (p(2) === 50 || (p(2) >= 56 && p(2) <= 69)) return n >= 13 && n <= 19; // Maestro, Discover, UnionPay, RuPay
  return false;
}

/**
 * 13-19 digits (length checked by the caller), written solid or in groups: the first of 4 digits, the
 * rest of 3-6, one separator kind throughout (`4111 1111 1111 1111`, `3782-822463-10005`); Luhn-valid
 * with a known issuer prefix.
 */
function acceptCard(text: string, groups: Group[], a: number, b: number): boolean {
  if (b > a && groupDigits(groups[a]) !== 4) return false;
  let digits = groupText(text, groups[a]);
  for (let k = a + 1; k <= b; k++) {
    const g = groups[k];
    if (groupDigits(g) < 3 || groupDigits(g) > 6 || g.punct !== groups[a + 1].punct) return false;
    digits += groupText(text, g);
  }
  return plausibleIin(digits) && luhnOk(text, groups[a].digitsStart, groups[b].digitsEnd);
}

function findCards(text: string): PiiSpan[] {
  return scanRuns(text, { phone: false }, {
    maxGroups: 6,
    minDigits: 13,
    maxDigits: 19,
    digitsOf: (groups, _a, k) => groupDigits(groups[k]),
    accept: (groups, a, b) => acceptCard(text, groups, a, b),
  });
}

// ---------------------------------------------------------------------------------------------------
// iban

/** ISO 13616 IBAN lengths for the countries most documents will name. An unlisted country is not matched. */
const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AT: 20, BA: 20, BE: 16, BG: 22, BH: 22, CH: 21, CY: 28, CZ: 24, DE: 22, DK: 18, EE: 20,
  ES: 24, FI: 18, FO: 18, FR: 27, GB: 22, GI: 23, GL: 18, GR: 27, HR: 21, HU: 28, IE: 22, IL: 23, IS: 26,
  IT: 27, LI: 21, LT: 20, LU: 20, LV: 21, MC: 27, MT: 31, NL: 18, NO: 15, PL: 28, PT: 25, RO: 24, SA: 24,
  SE: 24, SI: 19, SK: 24, SM: 27, TR: 26, UA: 29,
};

/** ISO 13616 / ISO 7064 mod 97-10: move the first four characters to the end, letters as 10..35. */
function ibanMod97(chars: string): number {
  const rearranged = chars.slice(4) + chars.slice(0, 4);
  let r = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i);
    r = isDigit(c) ? (r * 10 + (c - C_0)) % 97 : (r * 100 + (c - 55)) % 97;
  }
  return r;
}

/**
 * Country code, two check digits and the BBAN, either solid or in groups of four separated by single
 * spaces (the printed form); letters in either case. The length must be the country's and the mod-97
 * check must give 1. The whole IBAN is matched, never a prefix of a longer token.
 */
function findIbans(text: string): PiiSpan[] {
  const out: PiiSpan[] = [];
  for (let i = 0; i + 4 <= text.length; i++) {
    if (!isAsciiLetter(text.charCodeAt(i)) || !isAsciiLetter(text.charCodeAt(i + 1))) continue;
    if (i > 0 && isWordUnit(text.charCodeAt(i - 1))) continue;
    const length = IBAN_LENGTHS[text.slice(i, i + 2).toUpperCase()];
    if (length === undefined || !isDigit(text.charCodeAt(i + 2)) || !isDigit(text.charCodeAt(i + 3))) continue;
    const spaced = text.charCodeAt(i + 4) === C_SPACE;
    let chars = text.slice(i, i + 4).toUpperCase();
    let p = i + 4;
    while (chars.length < length) {
      if (spaced && chars.length % 4 === 0) {
        if (text.charCodeAt(p) !== C_SPACE) break;
        p++;
      }
      const c = text.charCodeAt(p);
      if (!isAsciiAlnum(c)) break;
      chars += text[p].toUpperCase();
      p++;
    }
    if (chars.length !== length || isWordUnit(text.charCodeAt(p))) continue;
    const check = Number(chars.slice(2, 4));
    if (check < 2 || check > 98 || ibanMod97(chars) !== 1) continue;
    out.push({ start: i, end: p });
    i = p - 1;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Detectors

export const emailDetector: PiiDetector = { type: 'email', find: findEmails };
export const phoneDetector: PiiDetector = { type: 'phone', find: findPhones };
export const ibanDetector: PiiDetector = { type: 'iban', find: findIbans };
export const cardDetector: PiiDetector = { type: 'card', find: findCards };

/** The built-in detectors, strongest structure first (that order breaks ties between equal matches). */
export const BUILTIN_PII_DETECTORS: readonly PiiDetector[] = [ibanDetector, cardDetector, emailDetector, phoneDetector];

const PATTERN_NAME = /^[a-z0-9_]{1,40}$/;
const MAX_PATTERN_LENGTH = 500;

function regexDetector(type: string, source: string): PiiDetector {
  const compiled = new RegExp(source, 'gu');
  return {
    type,
    find(text: string): PiiSpan[] {
      const re = new RegExp(compiled); // own lastIndex per call
      const out: PiiSpan[] = [];
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        // An empty match marks nothing; step past it (by code point, as the `u` flag requires).
        if (m[0].length === 0) {
          re.lastIndex += (text.codePointAt(m.index) ?? 0) > 0xffff ? 2 : 1;
          continue;
        }
        out.push({ start: m.index, end: m.index + m[0].length });
      }
      return out;
    },
  };
}

/**
 * Operator patterns from SRAG_PII_PATTERNS: a JSON object mapping a type name (`[a-z0-9_]{1,40}`, not a
 * built-in type) to a regular expression source, compiled with the `u` flag. Undefined or blank means
 * none. Throws ConfigError naming the offending pattern.
 *
 * JavaScript regular expressions backtrack, and ingest runs them over untrusted text: an operator
 * pattern must be linear, i.e. no nested or adjacent quantifiers that can match the same characters
 * (`(\d+)+`, `\w*\w*x`). Prefer fixed shapes such as `EMP-\d{6}` or `\bPX[0-9]{8}\b`. Patterns are limited
 * to 500 characters, and one that matches the empty string is refused.
 */
export function parsePiiPatterns(spec: string | undefined): PiiDetector[] {
  if (spec === undefined || spec.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(spec);
  } catch (err) {
    throw new ConfigError('SRAG_PII_PATTERNS is not valid JSON: expected an object of name -> regular expression', { cause: err });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError('SRAG_PII_PATTERNS must be a JSON object of name -> regular expression');
  }
  const builtin = new Set(BUILTIN_PII_DETECTORS.map((d) => d.type));
  const detectors: PiiDetector[] = [];
  for (const [name, source] of Object.entries(parsed)) {
    const details = { pattern: name };
    if (!PATTERN_NAME.test(name)) {
      throw new ConfigError(`SRAG_PII_PATTERNS: pattern name "${name.slice(0, 60)}" must match [a-z0-9_]{1,40}`, { details });
    }
    if (builtin.has(name)) {
      throw new ConfigError(`SRAG_PII_PATTERNS: pattern "${name}" clashes with the built-in detector of that name`, { details });
    }
    if (typeof source !== 'string' || source === '') {
      throw new ConfigError(`SRAG_PII_PATTERNS: pattern "${name}" must be a non-empty string`, { details });
    }
    if (source.length > MAX_PATTERN_LENGTH) {
      throw new ConfigError(`SRAG_PII_PATTERNS: pattern "${name}" is longer than ${MAX_PATTERN_LENGTH} characters`, { details });
    }
    let detector: PiiDetector;
    try {
      detector = regexDetector(name, source);
    } catch (err) {
      throw new ConfigError(`SRAG_PII_PATTERNS: pattern "${name}" is not a valid regular expression (${(err as Error).message})`, { cause: err, details });
    }
    if (new RegExp(`^(?:${source})$`, 'u').test('')) {
      throw new ConfigError(`SRAG_PII_PATTERNS: pattern "${name}" matches the empty string`, { details });
    }
    detectors.push(detector);
  }
  return detectors;
}

/** The built-in detectors followed by the operator's patterns. */
export function piiDetectors(spec?: string): PiiDetector[] {
  return [...BUILTIN_PII_DETECTORS, ...parsePiiPatterns(spec)];
}

// ---------------------------------------------------------------------------------------------------
// Detection and policy

/**
 * Every match of every detector, sorted and non-overlapping. Where matches overlap, the one starting
 * earlier wins (the longer at the same start, then the earlier detector), and it absorbs the tail of
 * any match it overlaps: redaction must not leave half a card number behind because a phone number
 * claimed its first digits.
 */
export function detectPii(text: string, detectors: readonly PiiDetector[]): PiiMatch[] {
  const all: (PiiMatch & { rank: number })[] = [];
  detectors.forEach((detector, rank) => {
    for (const { start, end } of detector.find(text)) {
      const s = Math.max(0, Math.floor(start));
      const e = Math.min(text.length, Math.floor(end));
      if (e > s) all.push({ type: detector.type, start: s, end: e, rank });
    }
  });
  all.sort((x, y) => x.start - y.start || y.end - x.end || x.rank - y.rank);
  const out: PiiMatch[] = [];
  for (const m of all) {
    const last = out[out.length - 1];
    if (last && m.start < last.end) {
      if (m.end > last.end) last.end = m.end;
      continue;
    }
    out.push({ type: m.type, start: m.start, end: m.end });
  }
  return out;
}

function countByType(matches: readonly PiiMatch[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const m of matches) counts[m.type] = (counts[m.type] ?? 0) + 1;
  return counts;
}

/** Merges per-type counts (for job reports summing documents). Neither argument is changed. */
export function piiCountsAdd(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = { ...a };
  for (const [type, n] of Object.entries(b)) out[type] = (out[type] ?? 0) + n;
  return out;
}

export function redactionPlaceholder(type: string): string {
  return `[REDACTED:${type.toUpperCase()}]`;
}

interface Redaction {
  text: string;
  /** Maps an old offset to the new text; a boundary strictly inside a match snaps to its start or end. */
  map(pos: number, snap: 'start' | 'end'): number;
}

function redact(text: string, matches: readonly PiiMatch[]): Redaction {
  const parts: string[] = [];
  const newStart: number[] = [];
  const newEnd: number[] = [];
  let cursor = 0;
  let length = 0;
  for (const m of matches) {
    parts.push(text.slice(cursor, m.start));
    length += m.start - cursor;
    const placeholder = redactionPlaceholder(m.type);
    parts.push(placeholder);
    newStart.push(length);
    length += placeholder.length;
    newEnd.push(length);
    cursor = m.end;
  }
  parts.push(text.slice(cursor));
  const map = (pos: number, snap: 'start' | 'end'): number => {
    const p = Math.max(0, Math.min(text.length, Math.floor(pos)));
    // The last match starting strictly before p.
    let lo = 0;
    let hi = matches.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (matches[mid].start < p) lo = mid + 1;
      else hi = mid;
    }
    const k = lo - 1;
    if (k < 0) return p;
    if (p < matches[k].end) return snap === 'start' ? newStart[k] : newEnd[k];
    return p - matches[k].end + newEnd[k];
  };
  return { text: parts.join(''), map };
}

/** Same normalisation as the parsers apply to heading labels. */
const collapse = (s: string): string => s.replace(/\s+/g, ' ').trim();

function redactString(s: string, detectors: readonly PiiDetector[]): string {
  return redact(s, detectPii(s, detectors)).text;
}

/**
 * Applies the ingest PII policy.
 * - `off`: the document as it is, no counts.
 * - `flag`: the document as it is, matches in its text counted by type.
 * - `redact`: each match replaced by `[REDACTED:<TYPE>]`; counts as for `flag`. Page and heading spans are
 *   moved onto the new text. A page boundary inside a match moves to the match's end, so the match stays
 *   whole on the page where it starts and pages stay contiguous. A heading boundary inside a match widens
 *   the heading to the whole placeholder. Heading labels are recomputed from the new text the way the
 *   parsers derive them; a label that was not derived from its span is redacted on its own, like the title.
 * Counts cover the text only: the title usually repeats a heading and would be counted twice.
 */
export function applyPiiPolicy(
  doc: ParsedDocument,
  policy: PiiPolicy,
  detectors: readonly PiiDetector[],
): { doc: ParsedDocument; counts: Record<string, number> } {
  if (policy === 'off') return { doc, counts: {} };
  if (policy !== 'flag' && policy !== 'redact') {
    throw new AppError('INVALID_INPUT', `unknown PII policy: ${String(policy)}`, { details: { policy } });
  }
  const matches = detectPii(doc.text, detectors);
  const counts = countByType(matches);
  if (policy === 'flag') return { doc, counts };

  const r = redact(doc.text, matches);
  const pages: PageSpan[] = doc.pages.map((p) => ({ ...p, start: r.map(p.start, 'end'), end: r.map(p.end, 'end') }));
  const headings: HeadingSpan[] = doc.headings.map((h) => {
    const start = r.map(h.start, 'start');
    const end = Math.max(start, r.map(h.end, 'end'));
    const derived = h.text === collapse(doc.text.slice(h.start, h.end));
    return { ...h, start, end, text: derived ? collapse(r.text.slice(start, end)) : redactString(h.text, detectors) };
  });
  const out: ParsedDocument = { ...doc, text: r.text, pages, headings };
  if (doc.title !== undefined) out.title = redactString(doc.title, detectors);
  return { doc: out, counts };
}
