import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { verifyAnswer } from '../../src/domain/citations.js';
import { AppError } from '../../src/errors.js';
import { createAnswerer } from '../../src/generate/answer.js';
import { createExtractiveGenerator, NOT_FOUND_ANSWER } from '../../src/generate/extractive.js';
import { chatCompletionsUrl, createOpenAiChatGenerator } from '../../src/generate/openai.js';
import type { AnswerEvent, GenerateEvent, Generator } from '../../src/generate/port.js';
import { createLogger } from '../../src/obs/logger.js';
import { HANDBOOK, retrieved } from '../fixtures/generate/chunks.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fixtures/generate/fake-openai.js';

const chunks = retrieved();
const question = 'How many vacation days do employees get per year?';
const goodAnswer = 'Employees get 25 days of paid vacation per year [1]. Unused days expire on March 31 [1].';

let server: FakeOpenAi;
let logs: string[];
const logger = () => createLogger('debug', {}, (line) => logs.push(line));

beforeAll(async () => {
  server = await startFakeOpenAi();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  logs = [];
  server.requests.length = 0;
});

function llm(extra: Partial<Parameters<typeof createOpenAiChatGenerator>[0]> = {}) {
  return createOpenAiChatGenerator({ url: server.url, model: 'tiny-chat', logger: logger(), ...extra });
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const e of it) out.push(e);
  return out;
}

/** No log line may carry the question, the prompt or any document text. */
function expectCleanLogs() {
  const all = logs.join('\n');
  expect(all).not.toContain('vacation');
  expect(all).not.toContain('Employees');
  expect(all).not.toContain('Sources:');
}

describe('chatCompletionsUrl', () => {
  it.each([
    ['http://h:8000', 'http://h:8000/v1/chat/completions'],
    ['http://h:8000/', 'http://h:8000/v1/chat/completions'],
    ['http://h:8000/v1', 'http://h:8000/v1/chat/completions'],
    ['http://h:8000/v1/', 'http://h:8000/v1/chat/completions'],
    ['http://h/proxy/v1/chat/completions', 'http://h/proxy/v1/chat/completions'],
  ])('%s', (url, expected) => {
    expect(chatCompletionsUrl(url)).toBe(expected);
  });
});

describe('OpenAI-compatible chat generator', () => {
  it('sends numbered sources and the question, and turns markers into verbatim citations', async () => {
    server.reply({ content: goodAnswer });
    const result = await llm({ url: `${server.url}/v1`, apiKey: 'sk-test', maxTokens: 256, temperature: 0 }).generate({ question, chunks });

    const req = server.requests[0];
    expect(req.url).toBe('/v1/chat/completions');
    expect(req.headers.authorization).toBe('Bearer sk-test');
    expect(req.body).toMatchObject({ model: 'tiny-chat', stream: false, max_tokens: 256, temperature: 0 });
    const [system, user] = req.body.messages;
    expect(system.role).toBe('system');
    expect(system.content).toMatch(/only the numbered sources/);
    expect(system.content).toMatch(/\[1\]/);
    expect(system.content).toContain(NOT_FOUND_ANSWER);
    expect(user.content).toContain('[1] (Employee handbook, p. 2) Employees accrue 25 days');
    expect(user.content).toContain('[2] (Safety rules) Fire extinguishers');
    expect(user.content).toContain(`Question: ${question}`);

    expect(result.mode).toBe('llm');
    expect(result.verified).toBe(true);
    expect(result.answer).toBe(goodAnswer);
    expect(result.citations).toHaveLength(1);
    const [c] = result.citations;
    expect(c).toMatchObject({ n: 1, documentId: 'doc_handbook', page: 2, score: 0.82 });
    expect(HANDBOOK.slice(c.start, c.end)).toBe(c.quote);
    expectCleanLogs();
    expect(logs.some((l) => l.includes('"completionTokens":20'))).toBe(true);
  });

  it('strips a reasoning model\'s <think> block', async () => {
    server.reply({ content: '<think>The user asks about leave.</think>\nEmployees get 25 days of paid vacation per year [1].' });
    const result = await llm().generate({ question, chunks });
    expect(result.answer).toBe('Employees get 25 days of paid vacation per year [1].');
    expect(result.verified).toBe(true);
  });

  it('does not call an answer without citations verified', async () => {
    server.reply({ content: 'Employees get 25 vacation days.' });
    const result = await llm().generate({ question, chunks });
    expect(result).toMatchObject({ verified: false, citations: [], problems: ['answer has no citations'] });
  });

  it('streams SSE deltas, then a done with the verified answer', async () => {
    const deltas = ['Employees get ', '25 days of paid', ' vacation per year', ' [1', '].'];
    server.reply({ deltas });
    const events = await collect(llm().stream!({ question, chunks }));
    expect(server.requests[0].body.stream).toBe(true);
    const tokens = events.filter((e): e is Extract<GenerateEvent, { type: 'token' }> => e.type === 'token').map((e) => e.text);
    expect(tokens).toEqual(deltas);
    const done = events.at(-1);
    expect(done?.type).toBe('done');
    if (done?.type !== 'done') throw new Error('no done');
    expect(done.answer.answer).toBe(deltas.join(''));
    expect(done.answer.verified).toBe(true);
    expect(done.answer.citations.map((c) => c.n)).toEqual([1]);
  });

  it.each<[string, Parameters<FakeOpenAi['reply']>[0], number | undefined]>([
    ['HTTP 500', { status: 500 }, undefined],
    ['HTTP 404 (unknown model)', { status: 404 }, undefined],
    ['a timeout', { content: goodAnswer, delayMs: 2_000 }, 100],
  ])('maps %s to UPSTREAM_ERROR', async (_name, reply, timeoutMs) => {
    server.reply(reply);
    const err = await llm({ timeoutMs }).generate({ question, chunks }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('UPSTREAM_ERROR');
  });

  it('maps a connection refused to UPSTREAM_ERROR', async () => {
    const err = await llm({ url: 'http://127.0.0.1:1' }).generate({ question, chunks }).catch((e: unknown) => e);
    expect((err as AppError).code).toBe('UPSTREAM_ERROR');
  });

  it('maps a stream cut before [DONE] to UPSTREAM_ERROR', async () => {
    server.reply({ deltas: ['Employees get'], truncate: true });
    await expect(collect(llm().stream!({ question, chunks }))).rejects.toMatchObject({ code: 'UPSTREAM_ERROR' });
  });

  it('lets the caller\'s abort propagate as an abort, not an upstream error', async () => {
    server.reply({ content: goodAnswer, delayMs: 2_000 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const err = await llm().generate({ question, chunks }, ac.signal).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(AppError);
    expect((err as Error).name).toBe('AbortError');
  });
});

describe('answerer', () => {
  const extractive = createExtractiveGenerator();

  it('returns a verified model answer', async () => {
    server.reply({ content: goodAnswer });
    const result = await createAnswerer({ generator: llm(), extractive, logger: logger() }).answer({ question, chunks });
    expect(result).toMatchObject({ mode: 'llm', verified: true, answer: goodAnswer });
    expect(result.fallbackReason).toBeUndefined();
  });

  it('falls back to extractive when the model cites a source that does not exist ([7] of 3)', async () => {
    server.reply({ content: 'Employees get 25 days of paid vacation per year [1]. Managers get 40 days [7].' });
    const result = await createAnswerer({ generator: llm(), extractive, logger: logger() }).answer({ question, chunks });
    expect(result.mode).toBe('extractive');
    expect(result.fallbackReason).toBe('verification_failed');
    expect(result.verified).toBe(true);
    expect(result.answer).not.toContain('[7]');
    expect(verifyAnswer(result.answer, result.citations, chunks).ok).toBe(true);
    expect(result.citations[0].quote).toBe('Employees accrue 25 days of paid vacation per year.');
    const warn = logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.level === 'warn');
    expect(warn).toMatchObject({ reason: 'verification_failed', generator: 'openai:tiny-chat' });
    expect(String(warn?.problems)).toMatch(/marker \[7\]/);
    expectCleanLogs();
  });

  it.each<[string, Parameters<FakeOpenAi['reply']>[0], string]>([
    ['the server fails', { status: 503 }, 'upstream_error'],
    ['the model cites nothing', { content: 'Employees get 25 vacation days.' }, 'no_citations'],
    ['the model says it does not know', { content: NOT_FOUND_ANSWER }, 'no_citations'],
    ['a claim does not match its source', { content: 'The CEO flies business class [2].' }, 'verification_failed'],
  ])('falls back when %s', async (_name, reply, reason) => {
    server.reply(reply);
    const result = await createAnswerer({ generator: llm(), extractive, logger: logger() }).answer({ question, chunks });
    expect(result).toMatchObject({ mode: 'extractive', verified: true, fallbackReason: reason });
    expectCleanLogs();
  });

  it('answers extractively without a model', async () => {
    const result = await createAnswerer({ extractive, logger: logger() }).answer({ question, chunks });
    expect(result).toMatchObject({ mode: 'extractive', verified: true });
    expect(result.fallbackReason).toBeUndefined();
    expect(result.citations.length).toBeGreaterThan(0);
  });

  it('never returns an extractive answer that fails verification', async () => {
    const broken: Generator = {
      name: 'broken',
      generate: async () => ({ answer: 'Made up [1].', citations: [], mode: 'extractive', verified: true }),
    };
    const result = await createAnswerer({ extractive: broken, logger: logger() }).answer({ question, chunks });
    expect(result).toEqual({ answer: NOT_FOUND_ANSWER, citations: [], mode: 'extractive', verified: true, fallbackReason: 'extractive_failed' });
    expect(logs.some((l) => l.includes('"level":"error"'))).toBe(true);
  });

  it('does not trust a generator\'s own verified flag', async () => {
    const liar: Generator = {
      name: 'liar',
      generate: async () => ({ answer: 'Vacation is unlimited [1].', citations: [{ n: 1, documentId: 'doc_handbook', title: 'Employee handbook', source: 'handbook.pdf', start: 0, end: 5, quote: 'Vacat', score: 1 }], mode: 'llm', verified: true }),
    };
    const result = await createAnswerer({ generator: liar, extractive, logger: logger() }).answer({ question, chunks });
    expect(result.fallbackReason).toBe('verification_failed');
  });

  describe('stream', () => {
    function tokensAndFinal(events: AnswerEvent[]) {
      const types = events.map((e) => e.type);
      const final = events.at(-1);
      if (final?.type !== 'done') throw new Error('stream must end with done');
      return { types, final: final.answer };
    }

    it('streams model tokens and ends with the verified answer', async () => {
      const deltas = ['Employees get 25 days', ' of paid vacation per year [1].'];
      server.reply({ deltas });
      const events = await collect(createAnswerer({ generator: llm(), extractive, logger: logger() }).stream({ question, chunks }));
      const { types, final } = tokensAndFinal(events);
      expect(types).toEqual(['token', 'token', 'done']);
      expect(final).toMatchObject({ mode: 'llm', verified: true, answer: deltas.join('') });
    });

    it('emits replace with the extractive answer when the streamed answer fails verification', async () => {
      server.reply({ deltas: ['Employees get 25 days of paid vacation per year [1].', ' Managers get 40 days [7].'] });
      const events = await collect(createAnswerer({ generator: llm(), extractive, logger: logger() }).stream({ question, chunks }));
      const { types, final } = tokensAndFinal(events);
      expect(types).toEqual(['token', 'token', 'replace', 'done']);
      expect(final).toMatchObject({ mode: 'extractive', verified: true, fallbackReason: 'verification_failed' });
      expect(events[2]).toEqual({ type: 'replace', answer: final });
    });

    it('replaces a stream cut short by the server', async () => {
      server.reply({ deltas: ['Employees get'], truncate: true });
      const events = await collect(createAnswerer({ generator: llm(), extractive, logger: logger() }).stream({ question, chunks }));
      const { types, final } = tokensAndFinal(events);
      expect(types).toEqual(['token', 'replace', 'done']);
      expect(final.fallbackReason).toBe('upstream_error');
    });

    it('sends the fallback as a token when nothing was streamed yet', async () => {
      server.reply({ status: 500 });
      const events = await collect(createAnswerer({ generator: llm(), extractive, logger: logger() }).stream({ question, chunks }));
      const { types, final } = tokensAndFinal(events);
      expect(types).toEqual(['token', 'done']);
      expect(events[0]).toEqual({ type: 'token', text: final.answer });
      expect(final.fallbackReason).toBe('upstream_error');
    });

    it('streams the extractive answer without a model', async () => {
      const events = await collect(createAnswerer({ extractive, logger: logger() }).stream({ question, chunks }));
      expect(tokensAndFinal(events).types).toEqual(['token', 'done']);
    });
  });
});
