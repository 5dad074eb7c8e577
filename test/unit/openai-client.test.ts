import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Citation } from '../../src/domain/types.js';
import { assertCitedVerbatim, startTestApp, type TestApp } from '../support/query-app.js';

// The official OpenAI client, unchanged, against srag's facade: what chat front-ends and SDK users do.

const TOKEN = 'sk-srag-test-0123456789';
const QUESTION = 'How long do lunch breaks last at the cafeteria?';

describe('the official openai client against /v1', () => {
  let app: TestApp;
  let client: OpenAI;
  beforeAll(async () => {
    app = await startTestApp({ tokens: `${TOKEN}=sdk-user:staff` });
    client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: TOKEN, maxRetries: 0, timeout: 10_000 });
  });
  afterAll(async () => {
    await app.close();
  });

  it('gets a completion whose content has [n] markers backed by verbatim citations', async () => {
    const completion = await client.chat.completions.create({ model: 'srag', messages: [{ role: 'user', content: QUESTION }] });
    const content = completion.choices[0].message.content!;
    expect(content).toMatch(/\[\d+\]/);
    expect(content).toContain('thirty minutes');
    const citations = (completion as unknown as { citations: Citation[] }).citations;
    assertCitedVerbatim(content, citations);
    expect(completion.object).toBe('chat.completion');
    expect(app.search.calls.at(-1)?.viewer).toMatchObject({ user: 'sdk-user', groups: ['staff'] });
  });

  it('exposes citations on the raw response too', async () => {
    const response = await client.chat.completions.create({ model: 'srag', messages: [{ role: 'user', content: QUESTION }] }).asResponse();
    expect(response.status).toBe(200);
    const raw = (await response.json()) as { choices: { message: { content: string } }[]; citations: Citation[] };
    assertCitedVerbatim(raw.choices[0].message.content, raw.citations);
  });

  it('streams the answer, with citations in the final chunk', async () => {
    const stream = await client.chat.completions.create({ model: 'srag', stream: true, messages: [{ role: 'user', content: QUESTION }] });
    let content = '';
    let citations: Citation[] | undefined;
    let finish: string | null = null;
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      citations = (chunk as unknown as { citations?: Citation[] }).citations ?? citations;
    }
    expect(finish).toBe('stop');
    expect(content).toContain('thirty minutes');
    assertCitedVerbatim(content, citations!);
  });

  it('lists the srag model', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(['srag']);
  });

  it('surfaces srag errors as OpenAI API errors', async () => {
    const bad = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: 'sk-wrong-token-000000', maxRetries: 0 });
    await expect(bad.chat.completions.create({ model: 'srag', messages: [{ role: 'user', content: QUESTION }] })).rejects.toMatchObject({ status: 401 });
    await expect(client.chat.completions.create({ model: 'srag', messages: [{ role: 'system', content: 'no question here' }] })).rejects.toMatchObject({
      status: 400,
      error: { code: 'INVALID_INPUT' },
    });
  });
});
