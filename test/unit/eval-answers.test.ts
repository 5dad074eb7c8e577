import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Citation } from '../../src/domain/types.js';
import type { ApiClient } from '../../src/cli/api-client.js';
import { runEvalAnswers } from '../../src/cli/eval-answers.js';
import { parseQaSet, scoreAnswers, type AnswerResult } from '../../src/eval/answers.js';
import { NOT_FOUND_ANSWER } from '../../src/generate/extractive.js';

const cite = (quote: string, title = 'Board agenda'): Citation => ({ n: 1, documentId: 'd1', title, source: `docs/${title}.pdf`, start: 0, end: quote.length, quote, score: 1 });
const answered = (...quotes: string[]): AnswerResult => ({ answer: 'x [1]', citations: quotes.map((q) => cite(q)), notFound: false, ms: 10 });
const notFound: AnswerResult = { answer: NOT_FOUND_ANSWER, citations: [], notFound: true, ms: 5 };

describe('parseQaSet', () => {
  it('reads JSONL with answer or answers, and questions without one', () => {
    const items = parseQaSet(
      ['{"question":"How long may a speaker talk?","answer":"three (3) minutes","source":"Board agenda"}', '', '{"question":"Capital of Mongolia?"}', '{"question":"q","answers":["a","b"]}'].join('\n'),
      'qa.jsonl',
    );
    expect(items).toEqual([
      { question: 'How long may a speaker talk?', answers: ['three (3) minutes'], source: 'Board agenda' },
      { question: 'Capital of Mongolia?', answers: [] },
      { question: 'q', answers: ['a', 'b'] },
    ]);
  });

  it('reads SQuAD JSON: every question, its distinct answers, the article as source', () => {
    const squad = { data: [{ title: 'Super_Bowl_50', paragraphs: [{ context: 'c', qas: [{ question: 'Who won?', answers: [{ text: 'Denver' }, { text: 'Denver' }, { text: 'the Broncos' }] }] }] }] };
    expect(parseQaSet(JSON.stringify(squad), 'dev.json')).toEqual([{ question: 'Who won?', answers: ['Denver', 'the Broncos'], source: 'Super Bowl 50' }]);
  });

  it('reads the page that holds the answer', () => {
    expect(parseQaSet('{"question":"q","answer":"a","source":"pdfs/x.pdf","page":3}', 'qa.jsonl')).toEqual([{ question: 'q', answers: ['a'], source: 'pdfs/x.pdf', page: 3 }]);
  });

  it.each([
    ['not JSON', 'qa.jsonl line 1: not JSON'],
    ['{"question":"q","answer":"a","source":"x.pdf","page":0}', 'qa.jsonl line 1: "page" must be a whole number from 1'],
    ['{"question":"q","answer":"a","source":"x.pdf","page":"2"}', 'qa.jsonl line 1: "page" must be a whole number from 1'],
    ['{"question":"q","answer":"a","page":2}', 'given with "source"'],
    ['{"answer":"x"}', 'qa.jsonl line 1: expected'],
    ['{"question":"q","answers":[1]}', 'qa.jsonl line 1: expected'],
  ])('refuses %s with the line number', (line, message) => {
    expect(() => parseQaSet(line, 'qa.jsonl')).toThrow(message);
  });
});

describe('scoreAnswers', () => {
  it('counts containment, the first citation, the source, not-found precision and recall', () => {
    const items = [
      { question: 'a', answers: ['three (3) minutes'], source: 'Board agenda' },
      { question: 'b', answers: ['30 minutes'], source: 'Other' },
      { question: 'c', answers: ['nowhere'] },
      { question: 'd', answers: [] },
      { question: 'e', answers: [] },
    ];
    const report = scoreAnswers(items, [
      answered('each speaker will be allotted THREE (3) MINUTES.'),
      answered('comment cards', 'limit the total time to 30 minutes'),
      notFound,
      notFound,
      answered('something'),
    ]);
    expect(report).toMatchObject({
      questions: 5,
      answerable: 3,
      unanswerable: 2,
      containment: 0.6667,
      firstContainment: 0.3333,
      citationCorrect: 0.5,
      notFound: { answered: 2, precision: 0.5, recall: 0.5 },
    });
  });
});

describe('scoreAnswers with pages', () => {
  const at = (page: number | undefined, quote: string, source = '/data/pdfs/report.pdf'): Citation => ({ ...cite(quote), title: 'Report', source, ...(page === undefined ? {} : { page }) });
  const citing = (...citations: Citation[]): AnswerResult => ({ answer: 'x [1]', citations, notFound: false, ms: 1 });
  const item = { question: 'q', answers: ['42'], source: 'pdfs/report.pdf', page: 4 };

  it('counts the first citation on the gold page apart from any citation on it', () => {
    const report = scoreAnswers(
      [item, item, item, item],
      [
        citing(at(4, 'it is 42')),
        citing(at(2, 'it is 42'), at(4, 'see page 4')),
        citing(at(4, 'it is 42', '/data/pdfs/other.pdf')),
        citing(at(undefined, 'it is 42')),
      ],
    );
    expect(report).toMatchObject({ pageCorrect: 0.25, pageCited: 0.5, citationCorrect: 0.75 });
  });

  it('scores pages only over the items that name one, and leaves them out of reports without', () => {
    const withPages = scoreAnswers([item, { question: 'r', answers: ['7'], source: 'pdfs/report.pdf' }, { question: 's', answers: [] }], [citing(at(4, '42')), citing(at(9, '7')), notFound]);
    expect(withPages).toMatchObject({ pageCorrect: 1, pageCited: 1 });
    const without = scoreAnswers([{ question: 'r', answers: ['7'], source: 'pdfs/report.pdf' }], [citing(at(9, '7'))]);
    expect(without).not.toHaveProperty('pageCorrect');
    expect(without).not.toHaveProperty('pageCited');
  });

  it('finds an answer quoted across a line break of the page', () => {
    const report = scoreAnswers([{ question: 'q', answers: ['the angle at which the wing meets the air'] }], [citing(at(2, 'The angle at\nwhich the  wing meets the air.'))]);
    expect(report).toMatchObject({ containment: 1, firstContainment: 1 });
  });
});

describe('srag eval-answers', () => {
  it('asks every question of the API and prints the report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'srag-qa-'));
    const file = join(dir, 'qa.jsonl');
    writeFileSync(file, '{"question":"How long?","answer":"three (3) minutes"}\n{"question":"Capital of Mongolia?"}\n');
    const asked: unknown[] = [];
    const api = {
      post: async (_path: string, body: { question: string }) => {
        asked.push(body);
        return (body.question === 'How long?' ? { answer: 'x [1]', citations: [cite('three (3) minutes each')] } : { answer: NOT_FOUND_ANSWER, citations: [] }) as never;
      },
      get: async () => ({}) as never,
    } as unknown as ApiClient;
    const lines: string[] = [];
    expect(await runEvalAnswers(api, { file, limit: 0, k: 5, json: true }, (s) => lines.push(s))).toBe(0);
    expect(asked).toEqual([{ question: 'How long?', k: 5 }, { question: 'Capital of Mongolia?', k: 5 }]);
    expect(JSON.parse(lines[0])).toMatchObject({ containment: 1, firstContainment: 1, notFound: { answered: 1, precision: 1, recall: 1 } });
  });

  it('prints the page figures when the set names pages', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'srag-qa-')), 'qa.jsonl');
    writeFileSync(file, '{"question":"How long?","answer":"three (3) minutes","source":"Board agenda","page":2}\n');
    const api = { post: async () => ({ answer: 'x [1]', citations: [{ ...cite('three (3) minutes each'), page: 1 }] }) as never } as unknown as ApiClient;
    const lines: string[] = [];
    await runEvalAnswers(api, { file, limit: 0, k: 5, json: false }, (s) => lines.push(s));
    expect(lines.join('\n')).toMatch(/first citation on gold page +0\.0 % \(any citation: 0\.0 %\)/);
  });

  it('says which file it cannot read', async () => {
    const api = {} as ApiClient;
    await expect(runEvalAnswers(api, { file: '/nonexistent/qa.jsonl', limit: 0, k: 5, json: true }, () => {})).rejects.toThrow('cannot read /nonexistent/qa.jsonl: ENOENT');
  });
});
