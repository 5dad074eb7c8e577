/**
 * What kind of answer a question asks for, from its wording, and whether a sentence holds one. Pure;
 * English only (other languages get 'other', which changes nothing). Used to lead an extractive answer
 * with the sentence that states the duration, number, date, name or place asked for.
 */
export type AnswerKind = 'duration' | 'number' | 'date' | 'person' | 'place' | 'other';

const NUMBER_WORDS = 'one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|sixty|hundred|thousand|million|billion|half|dozen';
const NUMBER = `(?:\\d[\\d,.]*|\\b(?:${NUMBER_WORDS})\\b)`;
const TIME_UNIT = '(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|decades?|centuries|century)';
const MONTHS = 'january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec';

const KIND_PATTERNS: [AnswerKind, RegExp][] = [
  ['duration', /\bhow long\b|\bhow much time\b|\bhow many (?:seconds|minutes|hours|days|weeks|months|years)\b|\bfor how long\b|\bduration\b|\btime limit\b/i],
  ['date', /^\s*when\b|\bwhat (?:year|date|day|month|century|decade|time)\b|\bwhich (?:year|date|day|month|century|decade)\b|\bin what year\b/i],
  ['number', /\bhow (?:many|much|large|big|tall|high|far|old|deep|long ago|often)\b|\bwhat (?:number|percentage|percent|amount|proportion|share|fraction|size|population|price|cost|rate)\b|\bwhat is the (?:number|amount|total)\b/i],
  ['person', /^\s*(?:who|whom|whose)\b|\b(?:which|what) (?:person|people|man|woman|author|king|queen|president|player|scientist|company|companies|organi[sz]ations?|team|group|agency|body|institution|university|party)\b|\bwhat is the name of\b|\bwhat (?:was|is) (?:his|her|their|its) name\b/i],
  ['place', /^\s*where\b|\b(?:what|which) (?:city|cities|country|countries|state|states|place|places|region|regions|continent|town|province|county|location|river|island|area)\b|\bin which (?:city|country|state|region)\b/i],
];

export function answerKind(question: string): AnswerKind {
  for (const [kind, pattern] of KIND_PATTERNS) if (pattern.test(question)) return kind;
  return 'other';
}

const HOLDS: Record<Exclude<AnswerKind, 'other'>, RegExp> = {
  // "three (3) minutes", "30 days", "two weeks"
  duration: new RegExp(`${NUMBER}(?:\\s*\\(\\d+\\))?[\\s-]*${TIME_UNIT}\\b`, 'i'),
  number: new RegExp(`\\d[\\d,.]*|\\b(?:${NUMBER_WORDS})\\b|%|\\bpercent\\b`, 'i'),
  // a year, a month name, a century or decade
  date: new RegExp(`\\b(?:1\\d{3}|20\\d{2})s?\\b|\\b(?:${MONTHS})\\b\\.?\\s*\\d|\\b\\d{1,2}(?:st|nd|rd|th)\\s+century\\b|\\b(?:${MONTHS})\\b`, 'i'),
  // a capitalized word that does not start the sentence
  person: /(?<=[^\s.!?]\s+)\p{Lu}\p{Ll}+/u,
  place: /\b(?:in|at|from|of|near|to)\s+(?:the\s+)?\p{Lu}\p{Ll}+/u,
};

/**
 * Whether `sentence` contains something of the kind asked for (always false for 'other'). Given the
 * question, what it already says does not count: "Who besides Woodrow Wilson …" is not answered by a
 * sentence whose only name is Woodrow Wilson, nor "How many tackles in 2015 …" by "in 2015".
 */
export function holdsAnswerKind(kind: AnswerKind, sentence: string, question?: string): boolean {
  if (kind === 'other') return false;
  if (question === undefined) return HOLDS[kind].test(sentence);
  const asked = new Set(question.toLowerCase().match(WORD) ?? []);
  const pattern = new RegExp(HOLDS[kind].source, `${HOLDS[kind].flags}g`);
  for (const m of sentence.matchAll(pattern)) {
    const words = m[0].toLowerCase().match(WORD) ?? [];
    // A match of only the question's words and connectors (in, the, of) brings nothing new.
    if (words.some((w) => !asked.has(w) && !CONNECTORS.has(w))) return true;
  }
  return false;
}

const WORD = /[\p{L}\p{N}]+/gu;
const CONNECTORS = new Set(['in', 'at', 'from', 'of', 'near', 'to', 'the']);
