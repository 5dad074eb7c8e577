import { describe, expect, it } from 'vitest';
import { citationFor, citationsFromMarkers, neutralizeMarkers, parseMarkers, verifyAnswer } from '../../src/domain/citations.js';
import type { Citation } from '../../src/domain/types.js';
import { HANDBOOK, handbookChunks, retrieved } from '../fixtures/generate/chunks.js';

const chunks = retrieved();
const sick = HANDBOOK.indexOf('Sick leave');
const sickEnd = HANDBOOK.indexOf('[4].') + 4;

/** Citation 1: the vacation sentence (chunk 1); citation 2: the sick-leave sentence (chunk 3, not at offset 0). */
function good(): Citation[] {
  const vac = 'Employees accrue 25 days of paid vacation per year.';
  return [
    citationFor(1, chunks[0], { start: 0, end: vac.length }),
    citationFor(2, chunks[2], { start: sick - handbookChunks[1].start, end: sickEnd - handbookChunks[1].start }),
  ];
}
const answer = 'Employees accrue 25 days of paid vacation per year. [1] Sick leave needs a doctor\'s note from day three. [2]';

describe('parseMarkers', () => {
  it.each<[string, number[][]]>([
    ['a [1] b [2]', [[1], [2]]],
    ['a [1, 2] b', [[1, 2]]],
    ['a [1][3]', [[1], [3]]],
    ['a [2-4] b [5\u20136]', [[2, 3, 4], [5, 6]]],
    ['no markers (1) or [x] or [a1]', []],
    ['[ 3 ,4 ]', [[3, 4]]],
  ])('%j', (text, numbers) => {
    expect(parseMarkers(text).map((m) => m.numbers)).toEqual(numbers);
  });

  it('neutralizes source reference marks', () => {
    expect(neutralizeMarkers('as shown [4], [5, 6] and [x]')).toBe('as shown (4), (5, 6) and [x]');
    expect(parseMarkers(neutralizeMarkers('from day three [4].'))).toEqual([]);
  });
});

describe('verifyAnswer', () => {
  it('accepts verbatim quotes at absolute offsets', () => {
    const c = good();
    expect(c[1].start).toBe(sick);
    expect(c[1].page).toBe(2);
    expect(verifyAnswer(answer, c, chunks)).toEqual({ ok: true, problems: [] });
  });

  it('accepts an answer with neither markers nor citations', () => {
    expect(verifyAnswer('I could not find this in the indexed documents.', [], chunks).ok).toBe(true);
  });

  it.each<[string, (c: Citation[]) => { answer?: string; citations: Citation[] }, RegExp]>([
    ['a marker without citation', (c) => ({ answer: answer + ' Also [3].', citations: c }), /marker \[3\] has no citation/],
    ['a marker past the retrieved chunks', (c) => ({ answer: answer.replace('[2]', '[7]'), citations: c }), /\[7\].*past the 3 retrieved/],
    ['a wrong n', (c) => ({ citations: [c[0], { ...c[1], n: 3 }] }), /marker \[2\] has no citation/],
    ['an altered quote', (c) => ({ citations: [c[0], { ...c[1], quote: c[1].quote.replace('third', 'fourth') }] }), /citation 2: (quote|offsets)/],
    ['an altered quote of the same length', (c) => ({ citations: [{ ...c[0], quote: c[0].quote.replace('25', '52') }, c[1]] }), /citation 1: quote is not the chunk text/],
    ['chunk-relative instead of absolute offsets', (c) => ({ citations: [c[0], { ...c[1], start: c[1].start - handbookChunks[1].start, end: c[1].end - handbookChunks[1].start }] }), /citation 2: (offsets fall outside|quote is not the chunk text)/],
    ['offsets shifted by one', (c) => ({ citations: [{ ...c[0], start: 1, end: c[0].end + 1 }, c[1]] }), /citation 1: quote is not the chunk text/],
    ['a wrong page', (c) => ({ citations: [{ ...c[0], page: 3 }, c[1]] }), /citation 1: page 3 differs/],
    ['a document that was not retrieved', (c) => ({ citations: [{ ...c[0], documentId: 'doc_other' }, c[1]] }), /doc_other is not among/],
    ['a duplicated n', (c) => ({ citations: [...c, { ...c[0] }] }), /citation 1 is duplicated/],
    ['an unreferenced citation', (c) => ({ answer: answer.replace(' [2]', ''), citations: c }), /citation 2 is not referenced/],
    ['a claim unrelated to its quote', (c) => ({ answer: 'Parking is free on weekends. [1] Sick leave needs a note. [2]', citations: c }), /marker \[1\].*shares no content word/],
  ])('rejects %s', (_name, mutate, problem) => {
    const m = mutate(good());
    const result = verifyAnswer(m.answer ?? answer, m.citations, chunks);
    expect(result.ok).toBe(false);
    expect(result.problems.join('\n')).toMatch(problem);
  });

  it('lets the overlap check be turned off, and skips claims without content words', () => {
    const c = good();
    expect(verifyAnswer('Parking is free. [1] Sick leave needs a note. [2]', c, chunks, { requireOverlap: false }).ok).toBe(true);
    expect(verifyAnswer('Yes [1]. Sick leave needs a note [2].', c, chunks).ok).toBe(true);
  });

  it('keeps problems free of document text', () => {
    const c = good();
    const { problems } = verifyAnswer('Parking [9]', [{ ...c[0], quote: 'secret text' }], chunks);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join(' ')).not.toMatch(/secret|Parking|vacation/);
  });
});

describe('citationsFromMarkers', () => {
  it('quotes the sentence of chunk n most similar to the claim, verbatim', () => {
    const llm = 'You get 25 paid vacation days a year [1]. Vacation must be approved by your manager two weeks ahead [1]. ' +
      'Use the nearest marked exit if there is a fire [2].';
    const citations = citationsFromMarkers(llm, chunks);
    expect(citations.map((c) => [c.n, c.documentId])).toEqual([[1, 'doc_handbook'], [2, 'doc_safety']]);
    const [vac, fire] = citations;
    expect(fire.quote).toBe('In case of fire, leave the building by the nearest marked exit and gather at the assembly point in the car park.');
    expect(fire.page).toBeUndefined();
    expect(HANDBOOK.slice(vac.start, vac.end)).toBe(vac.quote);
    expect(vac.score).toBe(chunks[0].score);
    expect(verifyAnswer(llm, citations, chunks).ok).toBe(true);
  });

  it('uses absolute offsets for chunks that do not start the document', () => {
    const citations = citationsFromMarkers("A doctor's note is needed from the third day of sick leave [3].", chunks);
    expect(citations).toHaveLength(1);
    expect(citations[0].start).toBe(sick);
    expect(HANDBOOK.slice(citations[0].start, citations[0].end)).toBe(citations[0].quote);
  });

  it('resolves [1, 2] and [1][2] forms', () => {
    for (const llm of ['Vacation and fire rules exist [1, 2].', 'Vacation and fire rules exist [1][2].']) {
      expect(citationsFromMarkers(llm, chunks).map((c) => c.n)).toEqual([1, 2]);
    }
  });

  it('gives no citation to a marker past the retrieved chunks, so verification fails', () => {
    const llm = 'Employees accrue 25 days of paid vacation [1]. The CEO earns a bonus [7].';
    const citations = citationsFromMarkers(llm, chunks);
    expect(citations.map((c) => c.n)).toEqual([1]);
    const v = verifyAnswer(llm, citations, chunks);
    expect(v.ok).toBe(false);
    expect(v.problems).toEqual(['marker [7] has no citation and points past the 3 retrieved chunks']);
  });
});
