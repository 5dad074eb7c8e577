import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/obs/logger.js';
import { FIXED_HITS, startTestApp, type TestApp } from '../support/query-app.js';

function capture(level: 'debug' | 'info' = 'debug') {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const logger = createLogger(level, { component: 't' }, (line) => {
    raw.push(line);
    lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  return { logger, lines, raw };
}

describe('JSON logs (pino)', () => {
  it('writes one JSON object per line with level name, ISO time, base fields and the message', () => {
    const { logger, lines } = capture();
    logger.child({ jobId: 'job_1' }).info('ingest: started', { sources: 3 });
    expect(lines[0]).toMatchObject({ level: 'info', component: 't', jobId: 'job_1', sources: 3, msg: 'ingest: started' });
    expect(new Date(String(lines[0].time)).toISOString()).toBe(lines[0].time);
  });

  it('honours the level', () => {
    const { logger, lines } = capture('info');
    logger.debug('hidden');
    logger.warn('shown');
    expect(lines.map((l) => l.msg)).toEqual(['shown']);
  });

  it.each([
    ['top level, any case', { Question: 'what is the secret plan?' }],
    ['nested', { req: { headers: { authorization: 'Bearer what-is-the-secret-plan' } } }],
    ['two levels down', { upstream: { body: { prompt: 'what is the secret plan?' } } }],
    ['in a child', { token: 'what-is-the-secret-plan' }],
  ])('redacts sensitive fields (%s)', (_name, fields) => {
    const { logger, raw } = capture();
    logger.child(_name === 'in a child' ? fields : {}).info('x', _name === 'in a child' ? {} : fields);
    expect(raw.join('\n')).not.toMatch(/secret.plan/);
    expect(raw.join('\n')).toContain('[redacted]');
  });

  it('reduces errors to name, message and code (no stack)', () => {
    const { logger, lines } = capture();
    const err = Object.assign(new Error('boom'), { code: 'CORRUPT' });
    logger.error('failed', { err });
    expect(lines[0].err).toEqual({ name: 'Error', message: 'boom', code: 'CORRUPT' });
  });
});

describe('request ids', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('one id per request: in the response header, the access log and the audit record', async () => {
    const { logger, lines } = capture('info');
    app = await startTestApp({ hits: FIXED_HITS, logger });
    const res = await fetch(`${app.url}/v1/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'anything at all' }) });
    expect(res.status).toBe(200);
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(app.audits.map((a) => a.requestId)).toEqual([id]);
    const access = lines.find((l) => l.msg === 'http: request');
    expect(access).toMatchObject({ requestId: id, method: 'POST', status: 200 });
    // The query text never reaches the log.
    expect(JSON.stringify(lines)).not.toContain('anything at all');
  });

  it("keeps a gateway's X-Request-Id when it is a plain token, replaces anything else", async () => {
    app = await startTestApp({ hits: FIXED_HITS });
    const given = 'gw-1234abcd.5678';
    const kept = await fetch(`${app.url}/v1/search`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': given }, body: JSON.stringify({ query: 'q' }) });
    expect(kept.headers.get('x-request-id')).toBe(given);
    const hostile = 'x\u0000"}{injected';
    const replaced = await fetch(`${app.url}/v1/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': encodeURIComponent(hostile) + ' spaced' },
      body: JSON.stringify({ query: 'q' }),
    });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(app.audits.map((a) => a.requestId)).toEqual([given, replaced.headers.get('x-request-id')]);
  });
});
