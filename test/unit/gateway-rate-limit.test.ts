import express, { type RequestHandler } from 'express';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { errorHandler } from '../../src/http/errors.js';
import { authenticate } from '../../src/http/gateway/authenticate.js';
import { LOCAL_OPERATOR, type Principal } from '../../src/http/gateway/principal.js';
import { createRateLimits } from '../../src/http/gateway/rate-limit.js';
import { parseApiTokens } from '../../src/http/gateway/tokens.js';
import { silentLogger } from '../../src/obs/logger.js';

// Budgets are per minute and every test stays far below a minute's worth of time, so no test depends
// on when a window happens to start.

const ALICE = 'tok_alice_0123456789abcd';
const BOB = 'tok_bob_0123456789abcdef';
const TOKENS = `${ALICE}=alice:staff,${BOB}=bob:staff`;

const limits = (o: Partial<Config['rateLimits']> = {}): Config['rateLimits'] => ({ queryPerMin: 1000, ingestPerMin: 1000, ipPerMin: 1000, authFailuresPerMin: 1000, ...o });

async function serve(chain: RequestHandler[], routes: Record<string, RequestHandler[]> = {}) {
  const app = express();
  app.use(...chain);
  const ok: RequestHandler = (_req, res) => {
    res.json({ user: (res.locals.principal as Principal | undefined)?.user ?? null });
  };
  for (const [path, handlers] of Object.entries(routes)) app.post(path, ...handlers, ok);
  app.get('/ping', ok);
  app.use(errorHandler(silentLogger));
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    async hit(path: string, headers: Record<string, string> = {}) {
      const res = await fetch(`${url}${path}`, { method: path === '/ping' ? 'GET' : 'POST', headers });
      return { status: res.status, headers: res.headers, body: (await res.json()) as { error?: { code: string; message: string } } };
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Stands in for authenticate: the principal named by test headers. */
const fakeAuth: RequestHandler = (req, res, next) => {
  const user = req.get('x-user');
  res.locals.principal = user
    ? ({ user, groups: [], scopes: ['query', 'ingest'], unrestricted: false, via: (req.get('x-via') ?? 'token') as Principal['via'] } satisfies Principal)
    : LOCAL_OPERATOR;
  next();
};

function expectHeaders(h: Headers, limit: number, remaining: number): void {
  expect(h.get('ratelimit-limit')).toBe(String(limit));
  expect(h.get('ratelimit-remaining')).toBe(String(remaining));
  const reset = Number(h.get('ratelimit-reset'));
  expect(reset).toBeGreaterThanOrEqual(1);
  expect(reset).toBeLessThanOrEqual(60);
}

describe('per-IP limit', () => {
  it('counts down in RateLimit headers, then answers 429 with Retry-After', async () => {
    const rl = createRateLimits(limits({ ipPerMin: 3 }));
    const app = await serve([rl.perIp]);
    try {
      for (const remaining of [2, 1, 0]) {
        const res = await app.hit('/ping');
        expect(res.status).toBe(200);
        expectHeaders(res.headers, 3, remaining);
      }
      const res = await app.hit('/ping');
      expect(res.status).toBe(429);
      expect(res.body).toEqual({ error: { code: 'RATE_LIMITED', message: expect.stringMatching(/too many requests from this address/) } });
      const retry = Number(res.headers.get('retry-after'));
      expect(retry).toBeGreaterThanOrEqual(1);
      expect(retry).toBeLessThanOrEqual(60);
      expectHeaders(res.headers, 3, 0);
    } finally {
      await app.close();
    }
  });
});

describe('per-principal limits', () => {
  it('limits a bursting principal while another is unaffected', async () => {
    const rl = createRateLimits(limits({ queryPerMin: 2 }));
    const app = await serve([fakeAuth], { '/v1/query': [rl.perPrincipal('query')] });
    try {
      const alice = { 'x-user': 'alice' };
      expect((await app.hit('/v1/query', alice)).status).toBe(200);
      expect((await app.hit('/v1/query', alice)).status).toBe(200);
      const limited = await app.hit('/v1/query', alice);
      expect(limited.status).toBe(429);
      expect(limited.body.error?.code).toBe('RATE_LIMITED');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expectHeaders(limited.headers, 2, 0);

      const bob = await app.hit('/v1/query', { 'x-user': 'bob' });
      expect(bob.status).toBe(200);
      expectHeaders(bob.headers, 2, 1);
      // The same name signed in another way is another principal.
      expect((await app.hit('/v1/query', { 'x-user': 'alice', 'x-via': 'jwt' })).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('keeps separate budgets for query and ingest', async () => {
    const rl = createRateLimits(limits({ queryPerMin: 1, ingestPerMin: 2 }));
    const app = await serve([fakeAuth], { '/v1/query': [rl.perPrincipal('query')], '/v1/ingest': [rl.perPrincipal('ingest')] });
    try {
      const alice = { 'x-user': 'alice' };
      expect((await app.hit('/v1/query', alice)).status).toBe(200);
      expect((await app.hit('/v1/query', alice)).status).toBe(429);
      const ingest = await app.hit('/v1/ingest', alice);
      expect(ingest.status).toBe(200);
      expectHeaders(ingest.headers, 2, 1);
      expect((await app.hit('/v1/ingest', alice)).status).toBe(200);
      expect((await app.hit('/v1/ingest', alice)).status).toBe(429);
    } finally {
      await app.close();
    }
  });

  it('does not limit the local operator', async () => {
    const rl = createRateLimits(limits({ queryPerMin: 1 }));
    const app = await serve([fakeAuth], { '/v1/query': [rl.perPrincipal('query')] });
    try {
      for (let i = 0; i < 5; i++) {
        const res = await app.hit('/v1/query');
        expect(res.status).toBe(200);
        expect(res.headers.get('ratelimit-limit')).toBeNull();
      }
    } finally {
      await app.close();
    }
  });

  it('shows the tighter of the address and principal budgets', async () => {
    const rl = createRateLimits(limits({ ipPerMin: 50, queryPerMin: 5 }));
    const app = await serve([rl.perIp, fakeAuth], { '/v1/query': [rl.perPrincipal('query')] });
    try {
      expectHeaders((await app.hit('/v1/query', { 'x-user': 'alice' })).headers, 5, 4);
      expectHeaders((await app.hit('/ping')).headers, 50, 48);
    } finally {
      await app.close();
    }
  });
});

describe('authentication failure throttle', () => {
  it('answers 429 to an address after N bad tokens, even for a good one, without touching other addresses', async () => {
    const rl = createRateLimits(limits({ authFailuresPerMin: 3 }));
    const reasons: string[] = [];
    const app = await serve([
      rl.perIp,
      authenticate({ tokens: parseApiTokens(TOKENS), guardFailures: rl, onFailure: (_req, why) => void reasons.push(why) }),
    ], { '/v1/query': [rl.perPrincipal('query')] });
    try {
      // Requests without a credential are not guesses and do not count.
      expect((await app.hit('/v1/query')).status).toBe(401);
      expect((await app.hit('/v1/query', { authorization: `Bearer ${ALICE}` })).status).toBe(200);
      for (let i = 0; i < 3; i++) {
        expect((await app.hit('/v1/query', { authorization: `Bearer tok_guess_${i}_0123456789ab` })).status).toBe(401);
      }
      for (const bearer of ['tok_guess_9_0123456789ab', ALICE, BOB]) {
        const res = await app.hit('/v1/query', { authorization: `Bearer ${bearer}` });
        expect(res.status).toBe(429);
        expect(res.body.error?.code).toBe('RATE_LIMITED');
        const retry = Number(res.headers.get('retry-after'));
        expect(retry).toBeGreaterThanOrEqual(1);
        expect(retry).toBeLessThanOrEqual(60);
      }
      expect(reasons).toEqual(['missing credentials', 'unknown token', 'unknown token', 'unknown token']);
      expect(await rl.authBlocked('127.0.0.1')).toBeGreaterThan(0);
      expect(await rl.authBlocked('10.0.0.9')).toBeUndefined();
    } finally {
      await app.close();
    }
  });

  it('blocks only at the configured count', async () => {
    const rl = createRateLimits(limits({ authFailuresPerMin: 2 }));
    expect(await rl.authBlocked('10.0.0.1')).toBeUndefined();
    await rl.authFailure('10.0.0.1');
    expect(await rl.authBlocked('10.0.0.1')).toBeUndefined();
    await rl.authFailure('10.0.0.1');
    const wait = await rl.authBlocked('10.0.0.1');
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(60_000);
    // Further failures while blocked do not throw.
    await rl.authFailure('10.0.0.1');
    expect(await rl.authBlocked('10.0.0.2')).toBeUndefined();
  });
});
