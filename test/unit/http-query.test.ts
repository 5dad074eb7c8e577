import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Citation } from '../../src/domain/types.js';
import { AppError } from '../../src/errors.js';
import type { Answerer } from '../../src/generate/answer.js';
import { NOT_FOUND_ANSWER } from '../../src/generate/extractive.js';
import type { AnswerEvent, GeneratedAnswer } from '../../src/generate/port.js';
import { assertCitedVerbatim, FIXED_HITS, parseSse, startTestApp, type TestApp } from '../support/query-app.js';

const QUESTION = 'Which class do employees book for flights under six hours?';

interface QueryBody {
  answer: string;
  citations: Citation[];
  mode: string;
  retrieval: string;
}

interface ChatCompletion {
  id: string;
  object: string;
  model: string;
  choices: { index: number; message: { role: string; content: string }; finish_reason: string }[];
  citations: Citation[];
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

/** Every error leaves as {"error":{code,message}} with the expected status and nothing internal. */
async function expectError(res: Response, status: number, code: string): Promise<void> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = JSON.parse(text) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(text).not.toMatch(/\bat .+\.(ts|js):\d+|"stack"|node_modules/);
}

describe('POST /v1/query', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers with [n] markers that resolve to verbatim quotes, audited without the question', async () => {
    const res = await post(`${app.url}/v1/query`, { question: QUESTION });
    expect(res.status).toBe(200);
    const body = (await res.json()) as QueryBody;
    expect(body.mode).toBe('extractive');
    expect(body.retrieval).toBe('hybrid');
    expect(body.answer).toContain('economy class');
    assertCitedVerbatim(body.answer, body.citations);
    const cited = body.citations.find((c) => c.quote.includes('economy class'))!;
    expect(cited).toMatchObject({ documentId: 'doc_travel', title: 'Travel policy', source: 'doc_travel.md', page: 2, score: FIXED_HITS[0].score });
    expect(cited.start).toBeGreaterThanOrEqual(FIXED_HITS[0].payload.start);

    expect(app.search.calls.at(-1)).toMatchObject({ query: QUESTION, k: 8, viewer: { unrestricted: true } });
    const audit = app.audits.at(-1)!;
    expect(audit).toMatchObject({ route: '/v1/query', user: 'local', k: 8, status: 200 });
    expect(audit.questionHmac).toMatch(/^[0-9a-f]{64}$/);
    expect(audit.documentIds!.sort()).toEqual(['doc_lunch', 'doc_travel']);
    expect(JSON.stringify(audit)).not.toContain('economy');
    expect(JSON.stringify(audit)).not.toContain(QUESTION);
    const metrics = await app.metrics.registry.metrics();
    for (const stage of ['embed', 'retrieve', 'generate']) expect(metrics).toMatch(new RegExp(`srag_query_stage_seconds_count\\{stage="${stage}"\\} [1-9]`));
  });

  it('passes k and mode through to retrieval', async () => {
    const res = await post(`${app.url}/v1/query`, { question: QUESTION, k: 1, mode: 'bm25' });
    expect(res.status).toBe(200);
    expect(app.search.calls.at(-1)).toMatchObject({ k: 1, mode: 'bm25' });
    const body = (await res.json()) as QueryBody;
    assertCitedVerbatim(body.answer, body.citations, FIXED_HITS.slice(0, 1));
  });

  it('says so when nothing relevant was retrieved', async () => {
    const res = await post(`${app.url}/v1/query`, { question: 'What is the airspeed velocity of an unladen swallow?' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as QueryBody;
    expect(body).toMatchObject({ answer: NOT_FOUND_ANSWER, citations: [] });
  });

  it('streams token, citation and done events over SSE', async () => {
    const res = await post(`${app.url}/v1/query`, { question: QUESTION, stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('cache-control')).toContain('no-store');
    const events = parseSse(await res.text());
    const names = events.map((e) => e.event);
    expect(names[0]).toBe('token');
    expect(names.at(-1)).toBe('done');
    // token+, then one citation event per verified citation, then done
    expect(names.join(',')).toMatch(/^(token,)+(citation,)+done$/);
    const done = JSON.parse(events.at(-1)!.data) as QueryBody;
    const tokens = events.filter((e) => e.event === 'token').map((e) => (JSON.parse(e.data) as { text: string }).text).join('');
    expect(tokens.trim()).toBe(done.answer);
    const citations = events.filter((e) => e.event === 'citation').map((e) => JSON.parse(e.data) as Citation);
    expect(citations).toEqual(done.citations);
    expect(done.mode).toBe('extractive');
    assertCitedVerbatim(done.answer, done.citations);
    expect(app.audits.at(-1)).toMatchObject({ route: '/v1/query', status: 200 });
  });

  it('rejects malformed and hostile requests with a JSON error and no internals', async () => {
    const url = `${app.url}/v1/query`;
    await expectError(await post(url, '{"question": "unterminated'), 400, 'INVALID_INPUT');
    await expectError(await post(url, { question: 42 }), 400, 'INVALID_INPUT');
    await expectError(await post(url, { question: ['a'] }), 400, 'INVALID_INPUT');
    await expectError(await post(url, { question: QUESTION, k: '5' }), 400, 'INVALID_INPUT');
    for (const k of [-1, 0, 51, 1e9, 2.5, null]) await expectError(await post(url, { question: QUESTION, k }), 400, 'INVALID_INPUT');
    await expectError(await post(url, { question: QUESTION, stream: 'yes' }), 400, 'INVALID_INPUT');
    await expectError(await post(url, { question: QUESTION, mode: 'magic' }), 400, 'INVALID_INPUT');
    await expectError(await post(url, { question: '' }), 400, 'INVALID_INPUT');
    await expectError(await post(url, { question: ' \n\t ' }), 400, 'INVALID_INPUT');
    await expectError(await post(url, { question: 'x'.repeat(4001) }), 400, 'INVALID_INPUT');
    await expectError(await post(url, {}), 400, 'INVALID_INPUT');
    await expectError(await post(url, 'null'), 400, 'INVALID_INPUT');
    await expectError(await post(url, '[]'), 400, 'INVALID_INPUT');
    await expectError(await post(url, { question: QUESTION, extra: true }), 400, 'INVALID_INPUT');
    await expectError(await post(url, '{"__proto__": {"admin": true}, "question": "hi"}'), 400, 'INVALID_INPUT');
    await expectError(await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: QUESTION }), 400, 'INVALID_INPUT');
    await expectError(await fetch(url, { method: 'GET' }), 404, 'NOT_FOUND');
    // Nothing malformed reached retrieval or the audit log.
    expect(app.search.calls.every((c) => c.query === QUESTION || c.query.startsWith('What is the airspeed'))).toBe(true);
  });

  it('refuses a 30 MB body with 413', async () => {
    const huge = JSON.stringify({ question: 'x'.repeat(30 * 1024 * 1024) });
    await expectError(await post(`${app.url}/v1/query`, huge), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('documents the query routes in /openapi.json', async () => {
    const doc = (await (await fetch(`${app.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    for (const path of ['/v1/query', '/v1/chat/completions', '/v1/models', '/v1/search']) expect(Object.keys(doc.paths)).toContain(path);
    expect(JSON.stringify(doc.paths['/v1/query'])).toContain('text/event-stream');
  });

  it('answers 404 for unknown routes and unknown jobs', async () => {
    await expectError(await fetch(`${app.url}/v1/nope`), 404, 'NOT_FOUND');
    await expectError(await post(`${app.url}/v1/querys`, { question: QUESTION }), 404, 'NOT_FOUND');
    await expectError(await fetch(`${app.url}/v1/jobs/job_0123456789abcdef0123`), 404, 'NOT_FOUND');
    await expectError(await fetch(`${app.url}/v1/jobs/..%2F..%2Fetc%2Fpasswd`), 404, 'NOT_FOUND');
  });
});

describe('POST /v1/query when retrieval finds nothing', () => {
  it('answers that the documents do not say, without calling the generator', async () => {
    let calls = 0;
    const answerer: Answerer = {
      async answer() {
        calls++;
        throw new Error('must not be called');
      },
      stream() {
        calls++;
        throw new Error('must not be called');
      },
    };
    const app = await startTestApp({ hits: [], answerer });
    try {
      const body = (await (await post(`${app.url}/v1/query`, { question: QUESTION })).json()) as QueryBody;
      expect(body).toMatchObject({ answer: NOT_FOUND_ANSWER, citations: [] });
      const events = parseSse(await (await post(`${app.url}/v1/query`, { question: QUESTION, stream: true })).text());
      expect(events.map((e) => e.event)).toEqual(['token', 'done']);
      expect(calls).toBe(0);
    } finally {
      await app.close();
    }
  });
});

function answerOf(text: string): GeneratedAnswer {
  return { answer: text, citations: [], mode: 'llm', verified: true };
}

describe('POST /v1/query streaming failures', () => {
  it('aborts generation when the client disconnects', async () => {
    let aborted: () => void = () => {};
    const sawAbort = new Promise<void>((resolve) => (aborted = resolve));
    const answerer: Answerer = {
      answer: async () => answerOf('unused'),
      async *stream(_input, signal): AsyncIterable<AnswerEvent> {
        yield { type: 'token', text: 'Thinking' };
        await new Promise<void>((_resolve, reject) => {
          signal!.addEventListener('abort', () => {
            aborted();
            reject(signal!.reason);
          });
        });
      },
    };
    const app = await startTestApp({ answerer });
    try {
      const controller = new AbortController();
      const res = await fetch(`${app.url}/v1/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ question: QUESTION, stream: true }),
        signal: controller.signal,
      });
      const reader = res.body!.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      expect(first).toContain('event: token');
      controller.abort();
      await sawAbort;
      await expect.poll(() => app.audits.at(-1)?.detail?.answerStatus).toBe(499);
    } finally {
      await app.close();
    }
  });

  it('ends the stream with an error event when generation fails', async () => {
    const answerer: Answerer = {
      answer: async () => answerOf('unused'),
      async *stream(): AsyncIterable<AnswerEvent> {
        yield { type: 'token', text: 'Partial' };
        throw new AppError('UPSTREAM_ERROR', 'LLM server answered HTTP 500');
      },
    };
    const app = await startTestApp({ answerer });
    try {
      const res = await post(`${app.url}/v1/query`, { question: QUESTION, stream: true });
      const events = parseSse(await res.text());
      expect(events.map((e) => e.event)).toEqual(['token', 'error']);
      expect(JSON.parse(events[1].data)).toEqual({ error: { code: 'UPSTREAM_ERROR', message: 'LLM server answered HTTP 500' } });
      expect(app.audits.at(-1)).toMatchObject({ route: '/v1/query', detail: { answerStatus: 500 } });

      const plain = await post(`${app.url}/v1/chat/completions`, { model: 'srag', messages: [{ role: 'user', content: QUESTION }] });
      expect(plain.status).toBe(200); // answer() works; only the stream fails here
    } finally {
      await app.close();
    }
  });

  it('hides unexpected errors behind INTERNAL', async () => {
    const answerer: Answerer = {
      answer: async () => {
        throw new TypeError('secret internal detail');
      },
      async *stream(): AsyncIterable<AnswerEvent> {
        throw new TypeError('secret internal detail');
      },
    };
    const app = await startTestApp({ answerer });
    try {
      const res = await post(`${app.url}/v1/query`, { question: QUESTION });
      const text = await res.text();
      expect(res.status).toBe(500);
      expect(JSON.parse(text)).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
      const stream = await (await post(`${app.url}/v1/query`, { question: QUESTION, stream: true })).text();
      expect(stream).not.toContain('secret');
      expect(parseSse(stream).at(-1)).toEqual({ event: 'error', data: JSON.stringify({ error: { code: 'INTERNAL', message: 'internal error' } }) });
      const chat = await (await post(`${app.url}/v1/chat/completions`, { model: 'srag', stream: true, messages: [{ role: 'user', content: QUESTION }] })).text();
      expect(chat).not.toContain('secret');
      expect(chat).not.toContain('[DONE]');
      expect(app.audits.map((a) => a.detail?.answerStatus)).toEqual([500, 500, 500]);
    } finally {
      await app.close();
    }
  });
});

describe('OpenAI-compatible facade', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  const messages = [
    { role: 'system', content: 'You are helpful.' },
    { role: 'user', content: 'What does the cafeteria serve?' },
    { role: 'assistant', content: 'A vegetarian lunch [1].' },
    { role: 'user', content: [{ type: 'text', text: QUESTION }] },
  ];

  it('answers the last user message as a chat.completion with citations', async () => {
    const res = await post(`${app.url}/v1/chat/completions`, { model: 'srag', messages, temperature: 0.2, max_tokens: 100 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as ChatCompletion;
    expect(body).toMatchObject({ object: 'chat.completion', model: 'srag', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant' } }] });
    expect(body.id).toMatch(/^chatcmpl-/);
    const content = body.choices[0].message.content;
    expect(content).toContain('economy class');
    assertCitedVerbatim(content, body.citations);
    expect(app.search.calls.at(-1)?.query).toBe(QUESTION);
    expect(app.audits.at(-1)).toMatchObject({ route: '/v1/chat/completions', status: 200 });
  });

  it('streams chat.completion.chunk events, citations in the last chunk, then [DONE]', async () => {
    const res = await post(`${app.url}/v1/chat/completions`, { model: 'srag', messages, stream: true, k: 2 });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const events = parseSse(await res.text());
    expect(events.at(-1)!.data).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data) as { object: string; id: string; choices: { delta: { role?: string; content?: string }; finish_reason: string | null }[]; citations?: Citation[] });
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id)).toBe(true);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    const last = chunks.at(-1)!;
    expect(last.choices[0].finish_reason).toBe('stop');
    const content = chunks.map((c) => c.choices[0].delta.content ?? '').join('');
    assertCitedVerbatim(content, last.citations!);
    expect(app.search.calls.at(-1)?.k).toBe(2);
  });

  it('lists the srag model', async () => {
    const res = await fetch(`${app.url}/v1/models`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { object: string; data: { id: string; object: string; generator: string }[] };
    expect(body.object).toBe('list');
    expect(body.data.map((m) => m.id)).toEqual(['srag']);
    expect(body.data[0]).toMatchObject({ object: 'model', generator: 'extractive' });
    expect(((await (await fetch(`${app.url}/v1/models/srag`)).json()) as { id: string }).id).toBe('srag');
    await expectError(await fetch(`${app.url}/v1/models/gpt-4`), 404, 'NOT_FOUND');
  });

  it('rejects chat requests without a usable question', async () => {
    const url = `${app.url}/v1/chat/completions`;
    await expectError(await post(url, { model: 'srag' }), 400, 'INVALID_INPUT');
    await expectError(await post(url, { model: 'srag', messages: [] }), 400, 'INVALID_INPUT');
    await expectError(await post(url, { model: 'srag', messages: 'hello' }), 400, 'INVALID_INPUT');
    await expectError(await post(url, { model: 'srag', messages: [{ role: 'system', content: 'only a system prompt' }] }), 400, 'INVALID_INPUT');
    await expectError(await post(url, { model: 'srag', messages: [{ role: 'user', content: '   ' }] }), 400, 'INVALID_INPUT');
    await expectError(await post(url, { model: 'srag', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }), 400, 'INVALID_INPUT');
    await expectError(await post(url, { model: 'srag', messages: [{ role: 'hacker', content: 'hi' }] }), 400, 'INVALID_INPUT');
    await expectError(await post(url, { model: 'srag', messages: [{ role: 'user', content: QUESTION }], k: 0 }), 400, 'INVALID_INPUT');
    await expectError(await post(url, { model: 'srag', messages: [{ role: 'user', content: QUESTION }], stream: 1 }), 400, 'INVALID_INPUT');
  });
});

describe('bearer tokens', () => {
  const token = 'tok_0123456789abcdef';
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ tokens: `${token}=alice:hr|finance` });
  });
  afterAll(async () => {
    await app.close();
  });

  it('refuses every query route without a valid token', async () => {
    for (const [path, body] of [
      ['/v1/query', { question: QUESTION }],
      ['/v1/chat/completions', { model: 'srag', messages: [{ role: 'user', content: QUESTION }] }],
    ] as const) {
      const missing = await post(`${app.url}${path}`, body);
      expect(missing.headers.get('www-authenticate')).toBe('Bearer');
      await expectError(missing, 401, 'UNAUTHORIZED');
      await expectError(await post(`${app.url}${path}`, body, { authorization: 'Bearer tok_0123456789abcdeX' }), 401, 'UNAUTHORIZED');
      await expectError(await post(`${app.url}${path}`, body, { authorization: token }), 401, 'UNAUTHORIZED');
    }
    await expectError(await fetch(`${app.url}/v1/models`), 401, 'UNAUTHORIZED');
    expect(app.search.calls).toHaveLength(0);
    // Refused requests are audited too, as auth failures, with no question hash.
    expect(app.audits.length).toBeGreaterThan(0);
    for (const a of app.audits) expect(a).toMatchObject({ status: 401, outcome: 'auth_failed', user: 'anonymous' });
    for (const a of app.audits) expect(a.questionHmac).toBeUndefined();
    app.audits.length = 0;
  });

  it('retrieves as the token holder: ACL groups reach the search filter', async () => {
    const res = await post(`${app.url}/v1/query`, { question: QUESTION }, { authorization: `Bearer ${token}` });
    expect(res.status).toBe(200);
    expect(app.search.calls.at(-1)!.viewer).toMatchObject({ user: 'alice', groups: ['hr', 'finance'], unrestricted: false });
    expect(app.audits.at(-1)).toMatchObject({ user: 'alice', route: '/v1/query', status: 200 });
  });
});

describe('rate limits through the app', () => {
  const alice = 'alice-token-0123456789';
  const bob = 'bob-token-0123456789ab';
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({
      tokens: `${alice}=alice:hr,${bob}=bob:eng`,
      rateLimits: { queryPerMin: 3, ingestPerMin: 3, ipPerMin: 1000, authFailuresPerMin: 100 },
    });
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers a burst over the budget with 429 and Retry-After; another principal is unaffected', async () => {
    const ask = (token: string) => post(`${app.url}/v1/query`, { question: QUESTION }, { authorization: `Bearer ${token}` });
    for (let i = 0; i < 3; i++) {
      const ok = await ask(alice);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('ratelimit-remaining')).toBe(String(2 - i));
    }
    const limited = await ask(alice);
    await expectError(limited, 429, 'RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await ask(bob)).status).toBe(200);
    expect(app.audits.at(-2)).toMatchObject({ user: 'alice', status: 429 });
  });
});
