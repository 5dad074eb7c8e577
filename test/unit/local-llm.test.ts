import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { verifyAnswer } from '../../src/domain/citations.js';
import { isAppError } from '../../src/errors.js';
import { createAnswerer } from '../../src/generate/answer.js';
import { createExtractiveGenerator, NOT_FOUND_ANSWER } from '../../src/generate/extractive.js';
import { createConfiguredAnswerer } from '../../src/generate/factory.js';
import { assertLocalModelInstalled } from '../../src/generate/llama-cpp.js';
import { createLocalGenerator, type LocalChatModel, type LocalCompletionRequest } from '../../src/generate/local.js';
import { MAX_PICKS, quotableSentences, quoteAnswerSchema } from '../../src/generate/quote-schema.js';
import { createLogger } from '../../src/obs/logger.js';
import { retrieved } from '../fixtures/generate/chunks.js';

const chunks = retrieved();
const question = 'How many vacation days do employees get per year?';
const VACATION = 'Employees accrue 25 days of paid vacation per year.';
const FIRE = 'Fire extinguishers are inspected every 12 months by an external contractor.';

let logs: string[];
const logger = () => createLogger('debug', {}, (line) => logs.push(line));
beforeEach(() => {
  logs = [];
});

/** A model that replies with fixed text and records what it was asked: the real adapter's port. */
function fakeModel(reply: string | Error) {
  const requests: LocalCompletionRequest[] = [];
  const model: LocalChatModel = {
    name: 'fake-135m',
    async complete(request) {
      requests.push(request);
      if (reply instanceof Error) throw reply;
      return { text: reply, tokens: 7, ms: 3, firstTokenMs: 1 };
    },
    async close() {},
  };
  return { model, requests };
}

function answererWith(reply: string | Error) {
  const fake = fakeModel(reply);
  const generator = createLocalGenerator({ model: fake.model, logger: logger() });
  return { ...fake, answerer: createAnswerer({ generator, extractive: createExtractiveGenerator(), logger: logger() }) };
}

const picks = (...items: [number, string][]) => JSON.stringify({ answer: items.map(([source, quote]) => ({ source, quote })) });

describe('quote schema', () => {
  it('pairs source n only with the sentences of chunk n, at most MAX_PICKS picks', () => {
    const schema = quoteAnswerSchema(chunks) as {
      properties: { answer: { maxItems: number; items: { oneOf: { properties: { source: { const: number }; quote: { enum: string[] } } }[] } } };
    };
    const branches = schema.properties.answer.items.oneOf;
    expect(schema.properties.answer.maxItems).toBe(MAX_PICKS);
    expect(branches.map((b) => b.properties.source.const)).toEqual([1, 2, 3]);
    expect(branches[0].properties.quote.enum).toEqual([VACATION, 'Unused vacation days expire on March 31 of the following year.', expect.stringMatching(/^Vacation requests/)]);
    expect(branches[1].properties.quote.enum).toContain(FIRE);
    expect(branches[0].properties.quote.enum).not.toContain(FIRE);
  });

  it('has nothing to offer without chunks, and cuts long sentences to a verbatim prefix', () => {
    expect(quoteAnswerSchema([])).toBeUndefined();
    const long = `${'word '.repeat(100)}end.`;
    const [cut] = quotableSentences(long);
    expect(cut.length).toBeLessThanOrEqual(300);
    expect(long.startsWith(cut)).toBe(true);
    expect(quotableSentences('  ...  ')).toEqual([]);
  });
});

describe('local generator through the verifying answerer', () => {
  it('renders picks as quotes with [n] markers that pass verification', async () => {
    const { answerer, requests } = answererWith(picks([1, VACATION]));
    const result = await answerer.answer({ question, chunks });
    expect(result.mode).toBe('llm');
    expect(result.fallbackReason).toBeUndefined();
    expect(result.answer).toBe(`${VACATION} [1]`);
    expect(result.citations).toHaveLength(1);
    expect(result.citations[0].quote).toBe(VACATION);
    expect(verifyAnswer(result.answer, result.citations, chunks).ok).toBe(true);
    // The model was asked with the schema of these chunks, the question and the sources.
    expect(requests[0].schema).toEqual(quoteAnswerSchema(chunks));
    expect(requests[0].user).toContain(`Question: ${question}`);
    expect(requests[0].user).toContain('[2] (Safety rules)');
    expect(requests[0].maxTokens).toBeGreaterThanOrEqual(256);
    expect(logs.join('\n')).not.toMatch(/vacation|Employees|Sources:/i);
  });

  it('cites two sources in the order picked', async () => {
    const { answerer } = answererWith(picks([1, VACATION], [2, FIRE]));
    const result = await answerer.answer({ question, chunks });
    expect(result.mode).toBe('llm');
    expect(result.answer).toBe(`${VACATION} [1] ${FIRE} [2]`);
    expect(result.citations.map((c) => [c.n, c.quote])).toEqual([
      [1, VACATION],
      [2, FIRE],
    ]);
  });

  it("neutralizes a source's own bracketed numbers so they cannot pose as markers", async () => {
    const quote = "Sick leave requires a doctor's note from the third day of absence [4].";
    const { answerer } = answererWith(picks([3, quote]));
    const result = await answerer.answer({ question: 'When is a note needed for sick leave?', chunks });
    expect(result.mode).toBe('llm');
    expect(result.answer).toBe("Sick leave requires a doctor's note from the third day of absence (4). [3]");
    expect(result.citations.map((c) => c.n)).toEqual([3]);
  });

  it('falls back when a quote is credited to a source that does not say it', async () => {
    const { answerer } = answererWith(picks([2, VACATION]));
    const result = await answerer.answer({ question, chunks });
    expect(result.mode).toBe('extractive');
    expect(result.fallbackReason).toBe('verification_failed');
    expect(result.answer).toContain('25 days');
  });

  it('falls back when a pick names a source past the retrieved chunks', async () => {
    const { answerer } = answererWith(picks([9, VACATION]));
    const result = await answerer.answer({ question, chunks });
    expect(result.fallbackReason).toBe('verification_failed');
  });

  it("leaves 'not found' to the extractive answerer when the model picks nothing", async () => {
    const { answerer } = answererWith(picks());
    const result = await answerer.answer({ question, chunks });
    expect(result.mode).toBe('extractive');
    expect(result.fallbackReason).toBe('no_citations');
    expect(result.answer).not.toBe(NOT_FOUND_ANSWER);
  });

  it.each([
    ['cut off at the token limit', '{"answer": [{"source": 1, "quote": "Employees acc'],
    ['off schema', '{"answer": [{"source": "one"}]}'],
  ])('falls back as an upstream error on a reply %s', async (_, reply) => {
    const { answerer } = answererWith(reply);
    const result = await answerer.answer({ question, chunks });
    expect(result.mode).toBe('extractive');
    expect(result.fallbackReason).toBe('upstream_error');
  });

  it('falls back when the model throws, and does not ask it about nothing', async () => {
    const failing = answererWith(new Error('native crash'));
    expect((await failing.answerer.answer({ question, chunks })).fallbackReason).toBe('upstream_error');
    const empty = answererWith(picks([1, VACATION]));
    const result = await empty.answerer.answer({ question, chunks: [] });
    expect(empty.requests).toHaveLength(0);
    expect(result.answer).toBe(NOT_FOUND_ANSWER);
  });
});

describe('local model configuration', () => {
  const cache = mkdtempSync(join(tmpdir(), 'srag-llm-'));

  it('SRAG_LLM=local points at the GGUF and runtime setup installs under the cache dir', () => {
    const config = loadConfig({ SRAG_LLM: 'local', SRAG_CACHE_DIR: cache }, '/');
    expect(config.llm.local).toEqual({
      modelPath: join(cache, 'models', 'llm', 'SmolLM2-135M-Instruct.Q4_1.gguf'),
      runtimeDir: join(cache, 'llm-runtime'),
      threads: 0,
    });
    expect(loadConfig({ SRAG_LLM_MODEL_PATH: '/m.gguf' }).llm.local).toBeUndefined();
    expect(loadConfig({ SRAG_LLM: 'local', SRAG_LLM_MODEL_PATH: '/m.gguf', SRAG_LLM_THREADS: '3' }).llm.local).toMatchObject({ modelPath: '/m.gguf', threads: 3 });
  });

  it('refuses an unknown SRAG_LLM and a local model alongside LLM_URL', () => {
    expect(() => loadConfig({ SRAG_LLM: 'gpt' })).toThrow(/SRAG_LLM/);
    expect(() => loadConfig({ SRAG_LLM: 'local', LLM_URL: 'http://127.0.0.1:8000' })).toThrow(/SRAG_LLM=local and LLM_URL/);
  });

  it('says how to install a missing model file or runtime', () => {
    const local = loadConfig({ SRAG_LLM: 'local', SRAG_CACHE_DIR: cache }).llm.local;
    if (!local) throw new Error('expected a local model config');
    const missing = (fn: () => void) => {
      try {
        fn();
      } catch (err) {
        return isAppError(err) ? `${err.code}: ${err.message}` : String(err);
      }
      return 'no error';
    };
    expect(missing(() => assertLocalModelInstalled(local))).toMatch(/^MODEL_NOT_FOUND: the local model file .* run npm run setup -- --llm/);
    mkdirSync(join(cache, 'models', 'llm'), { recursive: true });
    writeFileSync(local.modelPath, 'not a model');
    expect(missing(() => assertLocalModelInstalled(local))).toMatch(/^MODEL_NOT_FOUND: node-llama-cpp is not installed .* run npm run setup -- --llm/);
  });

  it('the configured answerer with a missing local model still answers, extractively', async () => {
    const local = loadConfig({ SRAG_LLM: 'local', SRAG_CACHE_DIR: mkdtempSync(join(tmpdir(), 'srag-llm-none-')) }).llm;
    const { answerer, generator } = createConfiguredAnswerer(local, logger());
    expect(generator).toBe('local:SmolLM2-135M-Instruct.Q4_1');
    const result = await answerer.answer({ question, chunks });
    expect(result.mode).toBe('extractive');
    expect(result.fallbackReason).toBe('upstream_error');
  });
});
