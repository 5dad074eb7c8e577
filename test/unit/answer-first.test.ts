import { describe, expect, it } from 'vitest';
import { answerKind, holdsAnswerKind, type AnswerKind } from '../../src/domain/question-type.js';
import { createExtractiveGenerator, NOT_FOUND_ANSWER } from '../../src/generate/extractive.js';
import { chunksOf, scored } from '../fixtures/generate/chunks.js';

describe('answerKind', () => {
  it.each<[string, AnswerKind]>([
    ['How long may each speaker address the board?', 'duration'],
    ['For how many minutes can a speaker talk?', 'duration'],
    ['When was the treaty signed?', 'date'],
    ['In what year did the plant close?', 'date'],
    ['How many employees were laid off in Irvine?', 'number'],
    ['What percentage of students attend private schools?', 'number'],
    ['Who chairs the board?', 'person'],
    ['Where is the assembly point?', 'place'],
    ['What organization offers awards for large primes?', 'person'],
    ['What is the name of the student theater troupe?', 'person'],
    ['What regions does the north-east border?', 'place'],
    ['What did Luther try to avoid?', 'other'],
  ])('%s -> %s', (question, kind) => {
    expect(answerKind(question)).toBe(kind);
  });
});

describe('holdsAnswerKind', () => {
  it.each<[AnswerKind, string, boolean]>([
    ['duration', 'Each speaker will be allotted three (3) minutes.', true],
    ['duration', 'The Board shall limit the total time to 30 minutes.', true],
    ['duration', 'Please fill out a comment card.', false],
    ['number', 'The plant employed 204 people.', true],
    ['number', 'No figures were given.', false],
    ['date', 'The treaty was signed in 1648.', true],
    ['date', 'It happened on March 3.', true],
    ['person', 'The meeting was chaired by Anna Lee.', true],
    ['place', 'Staff gather in the car park.', false],
    ['place', 'Staff gather at the front of Building B near Main Street.', true],
    ['other', 'Anything at all 2020.', false],
  ])('%s in %s: %s', (kind, sentence, holds) => {
    expect(holdsAnswerKind(kind, sentence)).toBe(holds);
  });

  // What the question already names is not an answer to it.
  it.each<[AnswerKind, string, string, boolean]>([
    ['person', 'Who besides Woodrow Wilson had the idea?', 'He joined the inquiry of President Woodrow Wilson.', true],
    ['person', 'Who besides Woodrow Wilson had the idea?', 'He joined the inquiry of Woodrow Wilson.', false],
    ['person', 'Who besides Woodrow Wilson had the idea?', 'It was the idea of the American delegation.', true],
    ['date', 'What happened in 1917 after the war?', 'The inquiry began in 1917.', false],
    ['date', 'What happened in 1917 after the war?', 'The inquiry began in 1917 and ended in 1919.', true],
    ['number', 'How many tackles did he make in 2015?', 'He played well in 2015.', false],
    ['number', 'How many tackles did he make in 2015?', 'He made 118 tackles in 2015.', true],
    ['place', 'Where in Paris did they meet?', 'They met in Paris.', false],
    ['place', 'Where in Paris did they meet?', 'They met at Versailles near Paris.', true],
  ])('%s asked by %j in %j: %s', (kind, question, sentence, holds) => {
    expect(holdsAnswerKind(kind, sentence, question)).toBe(holds);
  });
});

describe('answer-first extraction', () => {
  const generator = createExtractiveGenerator();
  const ask = (question: string, text: string) =>
    generator.generate({ question, chunks: scored(chunksOf({ documentId: 'd', title: 'Doc', source: 'doc.pdf', text }, [text.length])) });

  it('leads with the sentence that states the duration asked for', async () => {
    const text =
      'To ensure that all speakers are provided an equal opportunity to address the Board, individual speakers may not yield their time to other speakers. ' +
      'Board president will only call on those who have filled out comment cards, and each speaker will be allotted three (3) minutes. ' +
      'If you would like to address the Board, please fill out a comment card.';
    const result = await ask('How long may each speaker address the board?', text);
    expect(result.citations[0].quote).toContain('three (3) minutes');
    expect(text.slice(result.citations[0].start, result.citations[0].end)).toBe(result.citations[0].quote);
  });

  it('quotes the matching row of a long table, not the whole table', async () => {
    const rows = Array.from({ length: 30 }, (_, i) => `0${(i % 9) + 1}/1${i % 10}/2015 Company ${i} Los Angeles ${10 + i} Layoff Permanent`);
    rows[17] = '01/08/2016 11/10/2015 Hyundai Capital America Irvine 25 Layoff Permanent';
    const text = rows.join('\n');
    const result = await ask('How many people did Hyundai Capital America lay off in Irvine?', text);
    expect(result.citations[0].quote).toBe(rows[17]);
  });

  it('leaves a heading glued to the front of a sentence out of the quote', async () => {
    const text = 'Public Comments\nSpeakers must fill out a comment card before the meeting starts.';
    const result = await ask('What must speakers fill out before the meeting?', text);
    expect(result.citations[0].quote).toBe('Speakers must fill out a comment card before the meeting starts.');
  });

  it('says "not found" when the question names something no retrieved text mentions', async () => {
    // "capital" matches well enough on its own (the coverage floor would let it through): only the
    // name decides.
    const text = [
      'Hyundai Capital America laid off 16 people in Newport Beach.',
      'Plexus Corp. closed its plant in Fremont.',
      'Wells Fargo laid off 122 people in San Bernardino.',
      'Boeing Company laid off 76 people in Huntington Beach.',
      'Corning Incorporated closed its site in Union City.',
      'Pacific Bell Telephone Company laid off 3 people in Tustin.',
    ].join(' ');
    expect((await ask('What is the capital of Mongolia?', text)).answer).toBe(NOT_FOUND_ANSWER);
    // The same words about something the text does name are answered.
    expect((await ask('Where is Hyundai Capital America?', text)).answer).not.toBe(NOT_FOUND_ANSWER);
  });
});
