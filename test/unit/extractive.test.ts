import { describe, expect, it } from 'vitest';
import { parseMarkers, verifyAnswer } from '../../src/domain/citations.js';
import { createExtractiveGenerator, NOT_FOUND_ANSWER } from '../../src/generate/extractive.js';
import type { GenerateEvent } from '../../src/generate/port.js';
import { chunksOf, HANDBOOK, retrieved, scored } from '../fixtures/generate/chunks.js';

const chunks = retrieved();
const extractive = createExtractiveGenerator();

describe('extractive generator', () => {
  it.each<[string, string[]]>([
    ['How many vacation days do employees get per year?', ['Employees accrue 25 days of paid vacation per year.']],
    ['When do I need a doctor\'s note for sick leave?', ["Sick leave requires a doctor's note from the third day of absence [4]."]],
    ['What should I do in case of fire?', ['In case of fire, leave the building by the nearest marked exit and gather at the assembly point in the car park.']],
  ])('%s', async (question, firstQuotes) => {
    const result = await extractive.generate({ question, chunks });
    expect(result.mode).toBe('extractive');
    expect(result.verified).toBe(true);
    expect(result.citations.slice(0, firstQuotes.length).map((c) => c.quote)).toEqual(firstQuotes);
    // Markers number the citations 1..m in order of appearance, and every one resolves.
    expect(parseMarkers(result.answer).flatMap((m) => m.numbers)).toEqual(result.citations.map((_, i) => i + 1));
    expect(verifyAnswer(result.answer, result.citations, chunks)).toEqual({ ok: true, problems: [] });
    expect(result.citations.length).toBeLessThanOrEqual(3);
    for (const c of result.citations) {
      const doc = c.documentId === 'doc_handbook' ? HANDBOOK : undefined;
      if (doc) expect(doc.slice(c.start, c.end)).toBe(c.quote);
    }
  });

  it('quotes verbatim and places each marker after its sentence', async () => {
    const result = await extractive.generate({ question: 'How many vacation days do employees get per year?', chunks });
    expect(result.answer.startsWith('Employees accrue 25 days of paid vacation per year. [1]')).toBe(true);
  });

  it('combines sentences from different chunks, best first', async () => {
    const result = await extractive.generate({
      question: 'When do unused vacation days expire, and when is a doctor\'s note needed for sick leave?',
      chunks,
    });
    const quotes = result.citations.map((c) => c.quote);
    expect(quotes).toContain('Unused vacation days expire on March 31 of the following year.');
    expect(quotes).toContain("Sick leave requires a doctor's note from the third day of absence [4].");
    expect(new Set(result.citations.map((c) => c.start)).size).toBe(result.citations.length);
  });

  it('renders a source\'s own [4] as (4) in the answer, keeping the quote verbatim', async () => {
    const result = await extractive.generate({ question: 'doctor note sick leave third day', chunks, }, undefined);
    expect(result.citations[0].quote).toContain('[4]');
    expect(result.answer).toContain('absence (4). [1]');
    expect(verifyAnswer(result.answer, result.citations, chunks).ok).toBe(true);
  });

  it('collapses line breaks in the answer but not in the quote', async () => {
    const text = 'The backup runs\nevery night at two.\nRestores are tested weekly.';
    const c = scored(chunksOf({ documentId: 'd', title: 'Ops', source: 'ops.txt', text }, [text.length]));
    const result = await extractive.generate({ question: 'When does the backup run?', chunks: c });
    expect(result.citations[0].quote).toBe('The backup runs\nevery night at two.');
    expect(result.answer).toContain('The backup runs every night at two. [1]');
  });

  it('quotes a sentence once when overlapping chunks both contain it', async () => {
    const text = 'Alpha servers run Linux. Beta servers run BSD. Gamma servers run Windows.';
    const doc = { documentId: 'd', title: 'Servers', source: 's.txt', text };
    const second = text.indexOf('Beta');
    const [a] = chunksOf(doc, [text.indexOf('Gamma')]);
    const b = { ...a, chunkIndex: 1, start: second, end: text.length, text: text.slice(second) };
    const result = await extractive.generate({ question: 'What do beta servers run?', chunks: scored([a, b]) });
    expect(result.citations.filter((c) => c.quote === 'Beta servers run BSD.')).toHaveLength(1);
    expect(result.verified).toBe(true);
  });

  it.each<[string, string, Parameters<typeof createExtractiveGenerator>[0]]>([
    ['no chunks', 'How many vacation days?', {}],
    ['no shared content word', 'Who won the football world cup?', {}],
    ['only stopwords', 'What is it that they were?', {}],
    ['chunk scores below the threshold', 'How many vacation days do employees get?', { minChunkScore: 0.9 }],
    ['coverage below the threshold', 'vacation quarterly dividend shareholders board', { minCoverage: 0.5 }],
  ])('says it could not find the answer: %s', async (name, question, options) => {
    const result = await createExtractiveGenerator(options).generate({ question, chunks: name === 'no chunks' ? [] : chunks });
    // Diagnostics (relevance) may ride along; what users see is the plain "not found" answer.
    expect(result).toMatchObject({ answer: NOT_FOUND_ANSWER, citations: [], mode: 'extractive', verified: true });
  });

  it('says "not found" when the best chunk\'s relevance is under the floor, answers when it is over or unknown', async () => {
    const question = 'How many vacation days do employees get?';
    const withRelevance = (r: number) => chunks.map((c, i) => ({ ...c, relevance: i === 0 ? r : r / 2 }));
    const low = await extractive.generate({ question, chunks: withRelevance(0.01) });
    expect(low.answer).toBe(NOT_FOUND_ANSWER);
    expect(low.relevance?.best).toBe(0.01);
    const high = await extractive.generate({ question, chunks: withRelevance(0.4) });
    expect(high.answer).not.toBe(NOT_FOUND_ANSWER);
    expect(high.citations.length).toBeGreaterThan(0);
    // Retrieval without a relevance curve (BM25 only, an unknown model) is not judged by the floor.
    expect((await extractive.generate({ question, chunks })).answer).not.toBe(NOT_FOUND_ANSWER);
    expect((await createExtractiveGenerator({ minRelevance: 0 }).generate({ question, chunks: withRelevance(0.01) })).answer).not.toBe(NOT_FOUND_ANSWER);
  });

  it('respects maxSentences', async () => {
    const result = await createExtractiveGenerator({ maxSentences: 1 }).generate({
      question: 'vacation days expire doctor note sick leave fire exit',
      chunks,
    });
    expect(result.citations).toHaveLength(1);
  });

  it('streams the answer as one token then done', async () => {
    const events: GenerateEvent[] = [];
    for await (const e of extractive.stream!({ question: 'How many vacation days?', chunks })) events.push(e);
    expect(events.map((e) => e.type)).toEqual(['token', 'done']);
    expect(events[0]).toEqual({ type: 'token', text: (events[1] as { answer: { answer: string } }).answer.answer });
  });

  it('honours an aborted signal', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(extractive.generate({ question: 'vacation', chunks }, ac.signal)).rejects.toThrow();
  });
});
