import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueryBatcher } from '../../src/embed/batcher.js';
import type { Embedder } from '../../src/embed/port.js';
import { startTestApp, type TestApp } from '../support/query-app.js';

const TOKEN = 'embeddings-test-token-0001';
const INGEST_ONLY = 'embeddings-test-token-0002';
const MODEL = 'fake-bge';

/** Three dimensions that tell the text and how it was embedded apart; words are tokens. */
function fakeModel(): Embedder & { tokenizer: { countTokens(t: string): number }; texts: string[] } {
  const texts: string[] = [];
  const vector = (t: string, query: boolean) => Float32Array.from([t.length, query ? 1 : 0, 0.5]);
  return {
    modelId: MODEL,
    dimension: 3,
    texts,
    tokenizer: { countTokens: (t) => t.split(/\s+/).filter(Boolean).length },
    embedDocuments: async (ts) => {
      texts.push(...ts);
      return ts.map((t) => vector(t, false));
    },
    embedQuery: async (t) => {
      texts.push(t);
      return vector(t, true);
    },
    close: async () => {},
  };
}

interface EmbeddingsBody {
  object: string;
  model: string;
  data: { object: string; index: number; embedding: number[] | string }[];
  usage: { prompt_tokens: number; total_tokens: number };
}

describe('POST /v1/embeddings', () => {
  let app: TestApp;
  let limited: TestApp;
  let model: ReturnType<typeof fakeModel>;
  const post = (body: unknown, token: string | null = TOKEN, on: TestApp = app) =>
    fetch(`${on.url}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
  const expectError = async (res: Response, status: number, code: string): Promise<{ message: string; details?: unknown }> => {
    const body = (await res.json()) as { error: { code: string; message: string; details?: unknown } };
    expect(res.status, JSON.stringify(body)).toBe(status);
    expect(body.error.code).toBe(code);
    return body.error;
  };

  beforeAll(async () => {
    model = fakeModel();
    const batcher = createQueryBatcher(model, { windowMs: 0, maxBatch: 16, cacheSize: 0 });
    const tokens = `${TOKEN}=alice:hr:query,${INGEST_ONLY}=bob:eng:ingest`;
    const embeddings = { embedder: async () => batcher, maxInputs: 3, maxChars: 20 };
    app = await startTestApp({ tokens, embeddings });
    limited = await startTestApp({ tokens, embeddings, rateLimits: { queryPerMin: 3, ingestPerMin: 100, ipPerMin: 1000, authFailuresPerMin: 100 } });
  });
  afterAll(async () => {
    await app?.close();
    await limited?.close();
  });

  it('returns OpenAI-shaped vectors in input order, passages by default, with token usage', async () => {
    const res = await post({ input: ['one two', 'three'], model: MODEL });
    expect(res.status).toBe(200);
    const body = (await res.json()) as EmbeddingsBody;
    expect(body).toEqual({
      object: 'list',
      model: MODEL,
      data: [
        { object: 'embedding', index: 0, embedding: [7, 0, 0.5] },
        { object: 'embedding', index: 1, embedding: [5, 0, 0.5] },
      ],
      usage: { prompt_tokens: 3, total_tokens: 3 },
    });
  });

  it('embeds as queries when asked, and accepts a single string', async () => {
    const body = (await (await post({ input: 'q', input_type: 'query' })).json()) as EmbeddingsBody;
    expect(body.data).toEqual([{ object: 'embedding', index: 0, embedding: [1, 1, 0.5] }]);
  });

  it('encodes base64 as the float32 little-endian bytes', async () => {
    const body = (await (await post({ input: ['abcd'], encoding_format: 'base64' })).json()) as EmbeddingsBody;
    const bytes = Buffer.from(body.data[0].embedding as string, 'base64');
    expect(bytes.length).toBe(12);
    expect([0, 1, 2].map((i) => bytes.readFloatLE(i * 4))).toEqual([4, 0, 0.5]);
  });

  it('audits counts, never the texts', async () => {
    const secret = 'salary of the ceo';
    expect((await post({ input: [secret] })).status).toBe(200);
    const record = app.audits.at(-1)!;
    expect(record).toMatchObject({ user: 'alice', route: '/v1/embeddings', status: 200 });
    expect(JSON.stringify(record)).not.toContain('salary');
  });

  it('needs a credential with the query scope', async () => {
    await expectError(await post({ input: 'x' }, null), 401, 'UNAUTHORIZED');
    await expectError(await post({ input: 'x' }, INGEST_ONLY), 403, 'FORBIDDEN');
  });

  it('refuses bad input with 400 and says what is wrong, before any model call', async () => {
    const before = model.texts.length;
    const cases: [unknown, RegExp][] = [
      [{}, /input/],
      [{ input: '' }, /must not be empty/],
      [{ input: [] }, /empty list/],
      [{ input: ['a', 'b', 'c', 'd'] }, /at most 3 inputs/],
      [{ input: 'x'.repeat(21) }, /at most 20 characters/],
      [{ input: [1, 2] }, /input/],
      [{ input: 'x', encoding_format: 'int8' }, /encoding_format/],
      [{ input: 'x', input_type: 'document' }, /input_type/],
    ];
    for (const [body, why] of cases) {
      const error = await expectError(await post(body), 400, 'INVALID_INPUT');
      expect(JSON.stringify(error), JSON.stringify(body)).toMatch(why);
    }
    const wrongDims = await expectError(await post({ input: 'x', dimensions: 2 }), 400, 'INVALID_INPUT');
    expect(wrongDims.message).toMatch(/3 dimensions/);
    const wrongModel = await expectError(await post({ input: 'x', model: 'text-embedding-3-small' }), 404, 'NOT_FOUND');
    expect(wrongModel.message).toContain(MODEL);
    expect(model.texts.length).toBe(before);
  });

  it('counts against the caller’s query budget', async () => {
    for (let i = 0; i < 3; i++) expect((await post({ input: 'x' }, TOKEN, limited)).status).toBe(200);
    await expectError(await post({ input: 'x' }, TOKEN, limited), 429, 'RATE_LIMITED');
  });
});
