import type { TokenCounter } from '../embed/port.js';

/** A trimmed [start, end) range of the document text with its token count. */
export interface Unit {
  start: number;
  end: number;
  tokens: number;
}

/** A packed group of consecutive units [first, last] and the exact token count of its text. */
export interface Group {
  first: number;
  last: number;
  tokens: number;
}

/**
 * Greedy packing of consecutive units into groups of at most `maxTokens`. Unit counts are summed to
 * pick a candidate (no counting of growing strings); the candidate's joined text is then counted once,
 * and shrunk while a tokenizer that is not additive across boundaries puts it over the limit.
 * Each next group starts with trailing units of the previous one worth at most `overlapTokens`.
 * Every unit must itself fit in `maxTokens`.
 */
export function packUnits(
  text: string,
  units: Unit[],
  maxTokens: number,
  overlapTokens: number,
  counter: TokenCounter,
): Group[] {
  const groups: Group[] = [];
  const n = units.length;
  let start = 0;
  let prevLast = -1;
  while (start < n) {
    let end = start;
    let sum = 0;
    while (end < n && (end === start || sum + units[end].tokens <= maxTokens)) sum += units[end++].tokens;
    // The group must reach past the previous one, or the loop would not advance.
    const minEnd = Math.max(start + 1, prevLast + 2);
    let tokens = counter.countTokens(text.slice(units[start].start, units[end - 1].end));
    while (tokens > maxTokens && end > minEnd) {
      end--;
      tokens = counter.countTokens(text.slice(units[start].start, units[end - 1].end));
    }
    if (tokens > maxTokens && start <= prevLast) {
      // Even one new unit does not fit beside the overlap: drop the overlap.
      start = prevLast + 1;
      continue;
    }
    groups.push({ first: start, last: end - 1, tokens });
    if (end >= n) break;
    prevLast = end - 1;
    let next = end;
    let overlap = 0;
    while (next - 1 > start && overlap + units[next - 1].tokens <= overlapTokens) overlap += units[--next].tokens;
    // Leave room for at least the first new unit.
    while (next < end && overlap + units[end].tokens > maxTokens) overlap -= units[next++].tokens;
    start = next;
  }
  return groups;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** Largest cut in (from, end] whose text counts at most maxTokens (at least one code point). */
function longestFit(text: string, from: number, end: number, maxTokens: number, counter: TokenCounter): number {
  const fits = (cut: number) => counter.countTokens(text.slice(from, cut)) <= maxTokens;
  const snap = (cut: number) => (cut < end && cut > from + 1 && isHighSurrogate(text.charCodeAt(cut - 1)) ? cut - 1 : cut);
  const minimal = isHighSurrogate(text.charCodeAt(from)) && from + 2 <= end ? from + 2 : from + 1;
  let ok = minimal;
  if (!fits(ok)) return ok;
  // Exponential probe, then bisection: O(piece length x log) work per piece, not per text.
  let step = Math.max(1, maxTokens);
  let bad = -1;
  for (;;) {
    const probe = snap(Math.min(end, ok + step));
    if (probe <= ok) break;
    if (fits(probe)) {
      ok = probe;
      if (ok >= end) return end;
      step *= 2;
    } else {
      bad = probe;
      break;
    }
  }
  if (bad === -1) return ok;
  while (bad - ok > 1) {
    const mid = snap((ok + bad) >>> 1);
    if (mid <= ok || mid >= bad) break;
    if (fits(mid)) ok = mid;
    else bad = mid;
  }
  return ok;
}

/** Splits a run without whitespace (a huge token, CJK text) at character boundaries. */
function splitChars(text: string, start: number, end: number, maxTokens: number, counter: TokenCounter): Unit[] {
  const out: Unit[] = [];
  let from = start;
  while (from < end) {
    const cut = longestFit(text, from, end, maxTokens, counter);
    out.push({ start: from, end: cut, tokens: counter.countTokens(text.slice(from, cut)) });
    from = cut;
  }
  return out;
}

/**
 * Cuts a unit longer than maxTokens into pieces that fit: at word boundaries, and inside a word only
 * when the word alone is too long.
 */
export function splitOversized(text: string, unit: Unit, maxTokens: number, counter: TokenCounter): Unit[] {
  const words: Unit[] = [];
  const wordRe = /\S+/g;
  wordRe.lastIndex = unit.start;
  for (let m = wordRe.exec(text); m && m.index < unit.end; m = wordRe.exec(text)) {
    const start = m.index;
    const end = Math.min(unit.end, start + m[0].length);
    const tokens = counter.countTokens(text.slice(start, end));
    if (tokens <= maxTokens) words.push({ start, end, tokens });
    else words.push(...splitChars(text, start, end, maxTokens, counter));
  }
  return packUnits(text, words, maxTokens, 0, counter).map((g) => ({
    start: words[g.first].start,
    end: words[g.last].end,
    tokens: g.tokens,
  }));
}
