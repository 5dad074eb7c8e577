import { describe, expect, it } from 'vitest';
import { AppError, ConfigError } from '../../src/errors.js';
import {
  applyPiiPolicy,
  BUILTIN_PII_DETECTORS,
  cardDetector,
  detectPii,
  emailDetector,
  ibanDetector,
  parsePiiPatterns,
  phoneDetector,
  piiCountsAdd,
  piiDetectors,
  type PiiDetector,
  type PiiMatch,
} from '../../src/domain/pii.js';
import type { HeadingSpan, PageSpan, ParsedDocument } from '../../src/domain/types.js';
import { rng } from '../support/random.js';

/** What one detector marks in `text`, as the marked substrings in order. */
function marked(detector: PiiDetector, text: string): string[] {
  return detectPii(text, [detector]).map((m) => text.slice(m.start, m.end));
}

const collapse = (s: string): string => s.replace(/\s+/g, ' ').trim();

// Independent checks of the fixtures, so a wrong fixture cannot make a wrong detector look right.
function luhn(digits: string): boolean {
  let sum = 0;
  [...digits].reverse().forEach((ch, i) => {
    const d = Number(ch) * (i % 2 === 1 ? 2 : 1);
    sum += d > 9 ? d - 9 : d;
  });
  return sum % 10 === 0;
}

/** `body` followed by the digit that makes it pass Luhn. */
function withCheckDigit(body: string): string {
  for (let d = 0; d <= 9; d++) if (luhn(body + d)) return body + d;
  throw new Error('unreachable');
}

function ibanValid(iban: string): boolean {
  const s = iban.replace(/ /g, '').toUpperCase();
  const numeric = [...(s.slice(4) + s.slice(0, 4))].map((ch) => (/[A-Z]/.test(ch) ? String(ch.charCodeAt(0) - 55) : ch)).join('');
  return BigInt(numeric) % 97n === 1n;
}

describe('email detector', () => {
  it.each<[string, string, string[]]>([
    ['plain address', 'write to john@example.com today', ['john@example.com']],
    ['subaddressing with +', 'john.doe+newsletter@example.co.uk', ['john.doe+newsletter@example.co.uk']],
    ['underscore, percent, hyphen', 'first_last%x-y@mail.example.org', ['first_last%x-y@mail.example.org']],
    ['sentence-final dot stays outside', 'Mail a.b@example.com.', ['a.b@example.com']],
    ['inside angle brackets', 'Bob <bob@example.net>', ['bob@example.net']],
    ['after mailto:', 'mailto:Alice@Example.COM', ['Alice@Example.COM']],
    ['non-ASCII letters', 'jürgen@münchen.de', ['jürgen@münchen.de']],
    ['two addresses', 'a@example.com, b@example.org', ['a@example.com', 'b@example.org']],
    ['trailing numeric label is cut', 'x@example.com.123', ['x@example.com']],
    ['leading dots are not the address', '...ann@example.com', ['ann@example.com']],
  ])('finds %s', (_name, text, expected) => {
    expect(marked(emailDetector, text)).toEqual(expected);
  });

  it.each<[string, string]>([
    ['no dot in domain', 'user@localhost'],
    ['social handle', 'ping @handle on chat'],
    ['one-letter TLD', 'a@b.c'],
    ['double dot in local part', 'foo..bar@example.com'],
    ['local part ends with a dot', 'foo.@example.com'],
    ['domain label starts with a hyphen', 'x@-example.com'],
    ['space after @', 'name@ example.com'],
    ['numeric TLD', 'v1.2@3.4'],
    ['bare @ runs', '@@@ @.@ a@@b.com'],
    ['local part longer than 64', `${'a'.repeat(65)}@example.com`],
    ['domain label longer than 63', `x@example.${'c'.repeat(70)}`],
  ])('ignores %s', (_name, text) => {
    expect(marked(emailDetector, text)).toEqual([]);
  });
});

describe('phone detector', () => {
  it.each<[string, string, string[]]>([
    ['international with spaces', 'call +49 30 1234567 now', ['+49 30 1234567']],
    ['international compact', 'tel:+4930123456', ['+4930123456']],
    ['international with (0) trunk', '+49 (0)30 1234567', ['+49 (0)30 1234567']],
    ['UK with (0) and groups', '+44 (0) 20 7946 0958', ['+44 (0) 20 7946 0958']],
    ['international with dashes', 'x:+49-30-1234567;', ['+49-30-1234567']],
    ['French pairs', '+33 1 23 45 67 89', ['+33 1 23 45 67 89']],
    ['national French pairs', '01 23 45 67 89', ['01 23 45 67 89']],
    ['German national with space', '030 12345678', ['030 12345678']],
    ['German national with slash', 'Tel.: 030/1234567', ['030/1234567']],
    ['area code in parentheses', '(030) 1234-567', ['(030) 1234-567']],
    ['mobile with hyphen, sentence end', 'call 0151-23456789.', ['0151-23456789']],
    ['00 international prefix', '0049 30 1234567', ['0049 30 1234567']],
    ['North American', '(555) 234-5678 or 555-123-4567 or 555.234.5678', ['(555) 234-5678', '555-123-4567', '555.234.5678']],
    ['North American with 1', '1-800-555-0199', ['1-800-555-0199']],
    ['North American international', '+1 (555) 123-4567', ['+1 (555) 123-4567']],
    ['a list of two', '030 1234567 / 040 7654321', ['030 1234567', '040 7654321']],
    ['two international side by side', '+49 30 1234567 +33 1 23 45 67 89', ['+49 30 1234567', '+33 1 23 45 67 89']],
    ['after a postcode', 'Berlin 10115 030 1234567', ['030 1234567']],
    ['after a list number', '1. 030 1234567', ['030 1234567']],
  ])('finds %s', (_name, text, expected) => {
    expect(marked(phoneDetector, text)).toEqual(expected);
  });

  it.each<[string, string]>([
    ['years', 'in 1999 2000 2001 and 2024'],
    ['ISO date', 'on 2024-01-15 at 10:30'],
    ['day-first dates', '01.02.2024 and 15/01/2024 and 05-06-2023'],
    ['a date followed by a count', '01.02.2024 15 people came'],
    ['page ranges', 'see pp. 1023-1045 and 2019-2020'],
    ['prices', 'EUR 1.234.567,89 or $ 12,345,678.90 or 12 345 678,90 €'],
    ['thousands grouping', '12.500.000 inhabitants'],
    ['decimals', 'pi is 3.14159265, 0.12345678 and 0,5 0,75'],
    ['ISBN-13', 'ISBN 978-3-16-148410-0'],
    ['ISBN-10', 'ISBN 0-306-40615-2'],
    ['ISBN with spaces', 'ISBN 978 3 16 148410 0'],
    ['IP address', 'host 192.168.100.200'],
    ['national without separators', 'id 0301234567'],
    ['too short', '030 1234'],
    ['too long', '+4930123456789012'],
    ['glued to a word', 'ref030 1234567 and 030 1234567x'],
    ['timestamp digits', 'v1.2.3 build 20240115 103000'],
    ['North American exchange with area 0/1', '155 234 5678'],
    ['plus inside a word', 'C+49 30 1234567'],
  ])('ignores %s', (_name, text) => {
    expect(marked(phoneDetector, text)).toEqual([]);
  });
});

describe('card detector', () => {
  const valid: [string, string][] = [
    ['Visa, spaced', '4111 1111 1111 1111'],
    ['Visa, dashed', '4111-1111-1111-1111'],
    ['Visa, solid', '4111111111111111'],
    ['Visa 13 digits', '4222222222222'],
    ['Mastercard', '5555 5555 5555 4444'],
    ['Mastercard 2-series', '2223 0031 2200 3222'],
    ['American Express 4-6-5', '3782 822463 10005'],
    ['Discover', '6011111111111117'],
    ['JCB', '3530 1113 3330 0000'],
    ['Diners 14 digits', '3056 930902 5904'],
  ];
  it.each(valid)('finds %s', (_name, card) => {
    expect(luhn(card.replace(/\D/g, ''))).toBe(true);
    expect(marked(cardDetector, `paid with ${card}, thanks`)).toEqual([card]);
  });

  it.each<[string, string]>([
    ['Luhn fails', '4111 1111 1111 1112'],
    ['Luhn fails, solid', '5555555555554445'],
    ['Luhn passes, unknown issuer prefix', '1234 5678 9012 3452'],
    ['Visa with a length Visa never has', withCheckDigit('41111111111111')],
    ['part of a longer digit run', '41111111111111112'],
    ['glued to a word', 'x4111111111111111'],
    ['mixed separators', '4111 1111-1111 1111'],
    ['odd grouping', '41 1111 1111 111111'],
    ['too short', '4111 1111 1111'],
  ])('ignores %s', (_name, text) => {
    expect(marked(cardDetector, text)).toEqual([]);
  });

  it('finds two cards in a row', () => {
    expect(marked(cardDetector, '4111 1111 1111 1111 5555 5555 5555 4444')).toEqual(['4111 1111 1111 1111', '5555 5555 5555 4444']);
  });
});

describe('iban detector', () => {
  const valid: [string, string][] = [
    ['DE', 'DE89 3704 0044 0532 0130 00'],
    ['GB', 'GB82 WEST 1234 5698 7654 32'],
    ['FR', 'FR14 2004 1010 0505 0001 3M02 606'],
    ['NL', 'NL91 ABNA 0417 1643 00'],
    ['ES', 'ES91 2100 0418 4502 0005 1332'],
    ['CH', 'CH93 0076 2011 6238 5295 7'],
  ];

  it.each(valid)('finds a %s IBAN, grouped and solid', (_cc, iban) => {
    expect(ibanValid(iban)).toBe(true);
    const solid = iban.replace(/ /g, '');
    expect(marked(ibanDetector, `IBAN: ${iban}.`)).toEqual([iban]);
    expect(marked(ibanDetector, `IBAN ${solid}, BIC`)).toEqual([solid]);
    expect(marked(ibanDetector, solid.toLowerCase())).toEqual([solid.toLowerCase()]);
  });

  it.each(valid)('ignores a %s IBAN with a wrong check digit or length', (_cc, iban) => {
    const flipped = iban.slice(0, 3) + String((Number(iban[3]) + 1) % 10) + iban.slice(4);
    expect(ibanValid(flipped)).toBe(false);
    expect(marked(ibanDetector, flipped)).toEqual([]);
    const solid = iban.replace(/ /g, '');
    expect(marked(ibanDetector, solid.slice(0, -1))).toEqual([]);
    expect(marked(ibanDetector, `${solid}7`)).toEqual([]);
  });

  it.each<[string, string]>([
    ['unknown country', 'XX89 3704 0044 0532 0130 00'],
    ['glued to a word', 'ABCDE89370400440532013000'],
    ['irregular grouping', 'DE89 370400 44053 20130 00'],
    ['a country code and a year', 'DE 2024 report'],
  ])('ignores %s', (_name, text) => {
    expect(marked(ibanDetector, text)).toEqual([]);
  });
});

describe('built-in detectors together', () => {
  it.each<[string, string]>([
    ['prose with numbers', 'In 2024 revenue grew 12.5% to EUR 1.234.567,89 (see page 42, pp. 101-115, table 3.2).'],
    ['dates and times', 'Meeting 2024-01-15 10:30-11:45, follow-up 15.02.2024, deadline 03/31/2025.'],
    ['identifiers', 'ISBN 978-3-16-148410-0, DOI 10.1000/182, version 2.14.3, IP 10.0.0.255.'],
    ['social handle and code', 'Ping @maintainer; run `npm i foo@1.2.3`; price 9.99.'],
  ])('marks nothing in %s', (_name, text) => {
    expect(detectPii(text, BUILTIN_PII_DETECTORS)).toEqual([]);
  });

  it('tags each match with its type, in text order', () => {
    const text = 'Mail bob@example.com, call +49 30 1234567, pay to DE89 3704 0044 0532 0130 00 or card 4111 1111 1111 1111.';
    const found = detectPii(text, BUILTIN_PII_DETECTORS).map((m) => [m.type, text.slice(m.start, m.end)]);
    expect(found).toEqual([
      ['email', 'bob@example.com'],
      ['phone', '+49 30 1234567'],
      ['iban', 'DE89 3704 0044 0532 0130 00'],
      ['card', '4111 1111 1111 1111'],
    ]);
  });
});

describe('detectPii', () => {
  const fixed = (type: string, spans: [number, number][]): PiiDetector => ({ type, find: () => spans.map(([start, end]) => ({ start, end })) });

  it.each<[string, PiiDetector[], PiiMatch[]]>([
    ['sorted by start', [fixed('a', [[10, 12], [0, 2]])], [{ type: 'a', start: 0, end: 2 }, { type: 'a', start: 10, end: 12 }]],
    ['longer wins at the same start', [fixed('a', [[0, 2]]), fixed('b', [[0, 5]])], [{ type: 'b', start: 0, end: 5 }]],
    ['earlier detector wins a tie', [fixed('a', [[0, 3]]), fixed('b', [[0, 3]])], [{ type: 'a', start: 0, end: 3 }]],
    ['earlier wins and absorbs an overlapping tail', [fixed('a', [[0, 4]]), fixed('b', [[2, 8]])], [{ type: 'a', start: 0, end: 8 }]],
    ['contained match disappears', [fixed('a', [[0, 8]]), fixed('b', [[2, 4]])], [{ type: 'a', start: 0, end: 8 }]],
    ['touching matches both stay', [fixed('a', [[0, 4]]), fixed('b', [[4, 6]])], [{ type: 'a', start: 0, end: 4 }, { type: 'b', start: 4, end: 6 }]],
    ['out-of-range and empty spans are dropped or clamped', [fixed('a', [[-3, 2], [5, 5], [18, 99]])], [{ type: 'a', start: 0, end: 2 }, { type: 'a', start: 18, end: 20 }]],
  ])('%s', (_name, detectors, expected) => {
    expect(detectPii('x'.repeat(20), detectors)).toEqual(expected);
  });

  it('returns offsets and types only', () => {
    const [m] = detectPii('bob@example.com', BUILTIN_PII_DETECTORS);
    expect(Object.keys(m).sort()).toEqual(['end', 'start', 'type']);
  });
});

describe('parsePiiPatterns', () => {
  it('compiles named patterns with the u flag', () => {
    const detectors = parsePiiPatterns(JSON.stringify({ employee_id: 'EMP-\\d{6}', badge: '(?<!\\p{L})\\p{Lu}{2}-\\d{4}(?!\\d)' }));
    expect(detectors.map((d) => d.type)).toEqual(['employee_id', 'badge']);
    const text = 'EMP-123456 and ÄB-1234, not EMP-12345';
    expect(detectPii(text, detectors).map((m) => [m.type, text.slice(m.start, m.end)])).toEqual([
      ['employee_id', 'EMP-123456'],
      ['badge', 'ÄB-1234'],
    ]);
  });

  it('finds every match on every call (no state kept between calls)', () => {
    const [d] = parsePiiPatterns('{"ticket":"T\\\\d{3}"}');
    expect(d.find('T123 T456')).toHaveLength(2);
    expect(d.find('T789')).toEqual([{ start: 0, end: 4 }]);
  });

  it.each<[string, string | undefined]>([
    ['undefined', undefined],
    ['empty', ''],
    ['blank', '  \n'],
    ['empty object', '{}'],
  ])('%s means no operator patterns', (_name, spec) => {
    expect(parsePiiPatterns(spec)).toEqual([]);
  });

  it.each<[string, string, RegExp]>([
    ['bad JSON', '{"employee_id": "EMP-\\d{6}"', /not valid JSON/],
    ['an array', '["EMP-\\\\d{6}"]', /JSON object/],
    ['null', 'null', /JSON object/],
    ['bad regex', '{"employee_id":"EMP-(\\\\d{6}"}', /"employee_id" is not a valid regular expression/],
    ['invalid only under the u flag', '{"strict_escape":"a\\\\qb"}', /"strict_escape" is not a valid regular expression/],
    ['upper-case name', '{"Employee":"x"}', /"Employee" must match/],
    ['name with a dash', '{"employee-id":"x"}', /"employee-id" must match/],
    ['name too long', JSON.stringify({ ['n'.repeat(41)]: 'x' }), /must match \[a-z0-9_\]\{1,40\}/],
    ['empty name', '{"":"x"}', /must match/],
    ['non-string pattern', '{"employee_id":42}', /"employee_id" must be a non-empty string/],
    ['empty pattern', '{"employee_id":""}', /"employee_id" must be a non-empty string/],
    ['pattern over 500 characters', JSON.stringify({ long_one: 'a'.repeat(501) }), /"long_one" is longer than 500/],
    ['pattern matching the empty string', '{"maybe":"\\\\d*"}', /"maybe" matches the empty string/],
    ['built-in name', '{"email":"x@y"}', /"email" clashes/],
  ])('refuses %s with a ConfigError', (_name, spec, message) => {
    let caught: unknown;
    try {
      parsePiiPatterns(spec);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).code).toBe('CONFIG_INVALID');
    expect((caught as ConfigError).message).toMatch(message);
  });

  it('names the pattern in the error details', () => {
    expect(() => parsePiiPatterns('{"ok":"a","broken":"("}')).toThrow(expect.objectContaining({ details: { pattern: 'broken' } }));
  });

  it('accepts a pattern of exactly 500 characters', () => {
    expect(parsePiiPatterns(JSON.stringify({ edge: 'a'.repeat(500) }))).toHaveLength(1);
  });

  it('piiDetectors appends operator patterns to the built-ins', () => {
    expect(piiDetectors('{"employee_id":"EMP-\\\\d{6}"}').map((d) => d.type)).toEqual(['iban', 'card', 'email', 'phone', 'employee_id']);
    expect(piiDetectors().map((d) => d.type)).toEqual(['iban', 'card', 'email', 'phone']);
  });
});

describe('piiCountsAdd', () => {
  it.each<[Record<string, number>, Record<string, number>, Record<string, number>]>([
    [{}, {}, {}],
    [{ email: 1 }, {}, { email: 1 }],
    [{ email: 1, phone: 2 }, { email: 3, card: 1 }, { email: 4, phone: 2, card: 1 }],
  ])('%j + %j', (a, b, expected) => {
    const before = JSON.stringify(a);
    expect(piiCountsAdd(a, b)).toEqual(expected);
    expect(JSON.stringify(a)).toBe(before);
  });
});

/** Pages from page texts, contiguous and covering the text. */
function paged(pageTexts: string[], extra: Partial<ParsedDocument> = {}): ParsedDocument {
  let text = '';
  const pages: PageSpan[] = [];
  pageTexts.forEach((t, i) => {
    const start = text.length;
    text += t;
    pages.push({ page: i + 1, start, end: text.length });
  });
  return { type: 'pdf', text, pages, headings: [], ...extra };
}

const pageTexts = (d: ParsedDocument): string[] => d.pages.map((p) => d.text.slice(p.start, p.end));

describe('applyPiiPolicy', () => {
  const doc = paged(
    [
      'Contact alice@example.com for access.\n',
      'Account holder: Bob. Call +49 30 1234567',
      '\nNothing here.\n',
      '4111 1111 1111 1111 was charged.',
    ],
    { title: 'Notes for alice@example.com' },
  );

  it('off: the same document, no counts', () => {
    const out = applyPiiPolicy(doc, 'off', BUILTIN_PII_DETECTORS);
    expect(out.doc).toBe(doc);
    expect(out.counts).toEqual({});
  });

  it('flag: the text unchanged, counts by type', () => {
    const out = applyPiiPolicy(doc, 'flag', BUILTIN_PII_DETECTORS);
    expect(out.doc).toEqual(doc);
    expect(out.counts).toEqual({ email: 1, phone: 1, card: 1 });
  });

  it('redact: matches in the middle, at a page end and at a page start; pages remapped', () => {
    const { doc: out, counts } = applyPiiPolicy(doc, 'redact', BUILTIN_PII_DETECTORS);
    expect(counts).toEqual({ email: 1, phone: 1, card: 1 });
    expect(pageTexts(out)).toEqual([
      'Contact [REDACTED:EMAIL] for access.\n',
      'Account holder: Bob. Call [REDACTED:PHONE]',
      '\nNothing here.\n',
      '[REDACTED:CARD] was charged.',
    ]);
    expect(out.pages.map((p) => p.page)).toEqual([1, 2, 3, 4]);
    expect(out.pages[0].start).toBe(0);
    expect(out.pages[3].end).toBe(out.text.length);
    expect(out.title).toBe('Notes for [REDACTED:EMAIL]');
    expect(out.type).toBe('pdf');
    // The input is left as it was.
    expect(doc.text).toContain('alice@example.com');
  });

  it('redact: a page boundary inside a match moves to the match end', () => {
    // The page break falls inside the address: the whole placeholder stays on the page where it starts.
    const d = paged(['Write to carol@exam', 'ple.org soon.', ' End.']);
    const { doc: out } = applyPiiPolicy(d, 'redact', BUILTIN_PII_DETECTORS);
    expect(pageTexts(out)).toEqual(['Write to [REDACTED:EMAIL]', ' soon.', ' End.']);
  });

  it('redact: a page that lies inside one match becomes empty, pages stay contiguous', () => {
    const d = paged(['Pay DE89 3704 ', '0044 ', '0532 0130 00 now']);
    const { doc: out } = applyPiiPolicy(d, 'redact', BUILTIN_PII_DETECTORS);
    expect(pageTexts(out)).toEqual(['Pay [REDACTED:IBAN]', '', ' now']);
    expect(out.pages[1].start).toBe(out.pages[0].end);
    expect(out.pages[2].start).toBe(out.pages[1].end);
  });

  it('redact: headings are remapped and their labels recomputed like the parsers do', () => {
    const text = '# Contact  dave@example.com\n\nBody text.\n\n## Phones\n\nCall 030 12345678 today.\n\n## Other\n\nEnd.';
    const headingAt = (label: string, level: number): HeadingSpan => {
      const start = text.indexOf(label);
      return { start, end: start + label.length, level, text: collapse(label) };
    };
    const d: ParsedDocument = {
      type: 'markdown',
      text,
      title: 'Contact dave@example.com',
      pages: [],
      headings: [headingAt('Contact  dave@example.com', 1), headingAt('Phones', 2), headingAt('Other', 2)],
    };
    const { doc: out } = applyPiiPolicy(d, 'redact', BUILTIN_PII_DETECTORS);
    expect(out.text).toBe('# Contact  [REDACTED:EMAIL]\n\nBody text.\n\n## Phones\n\nCall [REDACTED:PHONE] today.\n\n## Other\n\nEnd.');
    expect(out.headings.map((h) => h.text)).toEqual(['Contact [REDACTED:EMAIL]', 'Phones', 'Other']);
    for (const h of out.headings) expect(collapse(out.text.slice(h.start, h.end))).toBe(h.text);
    expect(out.title).toBe('Contact [REDACTED:EMAIL]');
    expect(out.pages).toEqual([]);
  });

  it('redact: a heading boundary inside a match widens the heading to the whole placeholder', () => {
    const text = 'Owner: erin@example.com was here';
    // Starts and ends inside the address.
    const h: HeadingSpan = { start: text.indexOf('@') - 2, end: text.indexOf('.com'), level: 2, text: '' };
    h.text = collapse(text.slice(h.start, h.end));
    const { doc: out } = applyPiiPolicy({ type: 'text', text, pages: [], headings: [h] }, 'redact', BUILTIN_PII_DETECTORS);
    expect(out.headings).toEqual([{ start: 7, end: 7 + '[REDACTED:EMAIL]'.length, level: 2, text: '[REDACTED:EMAIL]' }]);
  });

  it('redact: a label not derived from its span is redacted on its own', () => {
    const text = '# Reach frank@example.com\nBody.';
    const start = text.indexOf('Reach');
    const headings: HeadingSpan[] = [{ start: 0, end: text.indexOf('\n'), level: 1, text: 'Reach frank@example.com' }];
    const { doc: out } = applyPiiPolicy({ type: 'markdown', text, pages: [], headings }, 'redact', BUILTIN_PII_DETECTORS);
    expect(out.headings[0]).toEqual({ start: 0, end: start + 'Reach [REDACTED:EMAIL]'.length, level: 1, text: 'Reach [REDACTED:EMAIL]' });
  });

  it('redact: operator pattern types are upper-cased in the placeholder', () => {
    const detectors = [...BUILTIN_PII_DETECTORS, ...parsePiiPatterns('{"employee_id":"EMP-\\\\d{6}"}')];
    const { doc: out, counts } = applyPiiPolicy({ type: 'text', text: 'by EMP-004211.', pages: [], headings: [] }, 'redact', detectors);
    expect(out.text).toBe('by [REDACTED:EMPLOYEE_ID].');
    expect(counts).toEqual({ employee_id: 1 });
  });

  it('redact: a document without matches comes back equal', () => {
    const d = paged(['Nothing to see.', ' Still nothing.'], { title: 'Plain' });
    const out = applyPiiPolicy(d, 'redact', BUILTIN_PII_DETECTORS);
    expect(out.doc).toEqual(d);
    expect(out.counts).toEqual({});
  });

  it('refuses an unknown policy', () => {
    expect(() => applyPiiPolicy(doc, 'mask' as never, BUILTIN_PII_DETECTORS)).toThrow(AppError);
  });
});

describe('applyPiiPolicy redact invariants on random documents', () => {
  const samples: Record<string, string[]> = {
    email: ['alice@example.com', 'bob.smith+tag@mail.example.org', 'x_y@sub.example.co.uk'],
    phone: ['+49 30 1234567', '030 12345678', '(555) 234-5678', '+44 20 7946 0958', '06-12345678'],
    iban: ['DE89 3704 0044 0532 0130 00', 'GB82WEST12345698765432', 'NL91 ABNA 0417 1643 00'],
    card: ['4111 1111 1111 1111', '5555-5555-5555-4444', '378282246310005'],
  };
  const kinds = Object.keys(samples);
  // True negatives mixed in: the invariants must hold next to numbers that look a little like PII.
  const filler = [
    'the', 'report', 'shows', 'revenue', 'in', '2024', 'on', '2024-01-15', 'page', '42', 'pp.', '101-115', 'price',
    '12.50', 'EUR', '1.234,56', 'version', '2.3.1', 'and', 'a', 'list:', '\n', '\n\n', 'Überblick', 'café', '(see', 'note)',
  ];

  function randomDoc(next: () => number): { doc: ParsedDocument; inserted: string[] } {
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
    const words: string[] = [];
    const inserted: string[] = [];
    const count = 20 + Math.floor(next() * 200);
    for (let i = 0; i < count; i++) {
      if (next() < 0.12) {
        const sample = pick(samples[pick(kinds)]);
        inserted.push(sample);
        words.push(sample);
      } else words.push(pick(filler));
    }
    const text = words.join(' ');
    // Page cuts anywhere, including inside a sample.
    const cuts = new Set<number>();
    const pageCount = 1 + Math.floor(next() * 5);
    for (let i = 1; i < pageCount; i++) cuts.add(Math.floor(next() * text.length));
    const bounds = [0, ...[...cuts].filter((c) => c > 0 && c < text.length).sort((a, b) => a - b), text.length];
    const pages: PageSpan[] = [];
    for (let i = 0; i + 1 < bounds.length; i++) pages.push({ page: i + 1, start: bounds[i], end: bounds[i + 1] });
    // Heading spans anywhere, their labels derived as the parsers derive them.
    const headings: HeadingSpan[] = [];
    let at = 0;
    while (at < text.length && headings.length < 6) {
      const start = at + Math.floor(next() * 60);
      const end = Math.min(text.length, start + 1 + Math.floor(next() * 40));
      if (start >= text.length) break;
      headings.push({ start, end, level: 1 + Math.floor(next() * 3), text: collapse(text.slice(start, end)) });
      at = end;
    }
    const titleSample = next() < 0.5 ? pick(samples[pick(kinds)]) : undefined;
    if (titleSample) inserted.push(titleSample);
    const title = titleSample ? `About ${titleSample}` : 'About nothing';
    return { doc: { type: 'pdf', text, title, pages, headings }, inserted };
  }

  /** Expected new page text, built independently: boundaries inside a match move to its end. */
  function expectedPage(text: string, matches: PiiMatch[], page: PageSpan): string {
    const snap = (pos: number) => matches.find((m) => m.start < pos && pos < m.end)?.end ?? pos;
    const start = snap(page.start);
    const end = snap(page.end);
    let out = '';
    let cursor = start;
    for (const m of matches) {
      if (m.start < start || m.start >= end) continue;
      out += text.slice(cursor, m.start) + `[REDACTED:${m.type.toUpperCase()}]`;
      cursor = m.end;
    }
    return out + text.slice(cursor, Math.max(cursor, end));
  }

  it('holds for 300 seeded documents', () => {
    let straddledPages = 0;
    let straddledHeadings = 0;
    const inside = (matches: PiiMatch[], pos: number) => matches.some((m) => m.start < pos && pos < m.end);
    for (let seed = 1; seed <= 300; seed++) {
      const next = rng(seed);
      const { doc, inserted } = randomDoc(next);
      const matches = detectPii(doc.text, BUILTIN_PII_DETECTORS);
      const { doc: out, counts } = applyPiiPolicy(doc, 'redact', BUILTIN_PII_DETECTORS);
      const context = `seed ${seed}`;
      straddledPages += doc.pages.filter((p) => inside(matches, p.start)).length;
      straddledHeadings += doc.headings.filter((h) => inside(matches, h.start) || inside(matches, h.end)).length;

      expect(Object.values(counts).reduce((a, b) => a + b, 0), context).toBe(matches.length);
      // No PII survives anywhere, and nothing detectable is left.
      for (const s of inserted) {
        expect(out.text.includes(s), `${context}: text`).toBe(false);
        expect(out.title?.includes(s), `${context}: title`).toBe(false);
        for (const h of out.headings) expect(h.text.includes(s), `${context}: heading`).toBe(false);
      }
      expect(detectPii(out.text, BUILTIN_PII_DETECTORS), context).toEqual([]);

      // Pages: the old page text with its matches replaced; contiguous, covering, within bounds.
      expect(out.pages.length, context).toBe(doc.pages.length);
      out.pages.forEach((p, i) => {
        expect(p.page, context).toBe(doc.pages[i].page);
        expect(out.text.slice(p.start, p.end), `${context} page ${p.page}`).toBe(expectedPage(doc.text, matches, doc.pages[i]));
        expect(p.start, context).toBeLessThanOrEqual(p.end);
        if (i > 0) expect(p.start, context).toBe(out.pages[i - 1].end);
      });
      expect(out.pages[0].start, context).toBe(0);
      expect(out.pages[out.pages.length - 1].end, context).toBe(out.text.length);

      // Headings: sorted, within bounds, labels derived from the new text.
      out.headings.forEach((h, i) => {
        expect(h.start, context).toBeGreaterThanOrEqual(0);
        expect(h.end, context).toBeLessThanOrEqual(out.text.length);
        expect(h.start, context).toBeLessThanOrEqual(h.end);
        if (i > 0) expect(h.start, context).toBeGreaterThanOrEqual(out.headings[i - 1].start);
        expect(h.text, context).toBe(collapse(out.text.slice(h.start, h.end)));
        expect(h.level, context).toBe(doc.headings[i].level);
      });
    }
    // The generator must exercise the hard cases: boundaries that fall inside a match.
    expect(straddledPages).toBeGreaterThan(20);
    expect(straddledHeadings).toBeGreaterThan(20);
  });
});

describe('performance on adversarial input', () => {
  /** Long runs that each scanner must walk: digits, spaced digits, @, dots, spaces, plus signs, IBAN-like heads. */
  function adversarial(size: number): string {
    const pieces = [
      '1'.repeat(5000),
      '1 '.repeat(3000),
      '0 '.repeat(2000),
      '1-'.repeat(2000),
      '@'.repeat(3000),
      'a@'.repeat(2000),
      `${'a.'.repeat(3000)}@${'b.'.repeat(3000)}`,
      '.'.repeat(3000),
      ' '.repeat(3000),
      '+1 '.repeat(2000),
      '(0)'.repeat(2000),
      'DE89 '.repeat(1000),
      `x@${'a-'.repeat(1000)}`,
      '00 00 '.repeat(1000),
      'EMP-'.repeat(1000),
    ];
    let out = '';
    for (let i = 0; out.length < size; i++) out += pieces[i % pieces.length];
    return out.slice(0, size);
  }

  it('stays linear: 4x the input takes well under 16x the time', () => {
    const detectors = [...BUILTIN_PII_DETECTORS, ...parsePiiPatterns('{"employee_id":"EMP-\\\\d{6}"}')];
    const small = adversarial(512 * 1024);
    const large = adversarial(2 * 1024 * 1024);
    const best = (text: string): number => {
      let min = Infinity;
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        detectPii(text, detectors);
        min = Math.min(min, performance.now() - t0);
      }
      return min;
    };
    best(small); // warm up the JIT
    const tSmall = best(small);
    const tLarge = best(large);
    console.log(`pii: 2 MB adversarial in ${tLarge.toFixed(0)} ms (512 KB in ${tSmall.toFixed(0)} ms, ratio ${(tLarge / tSmall).toFixed(1)})`);
    expect(tLarge / tSmall).toBeLessThan(8);
    expect(tLarge).toBeLessThan(10_000);
  });
});
