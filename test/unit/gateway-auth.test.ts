import express, { type RequestHandler } from 'express';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { authenticate as legacyAuthenticate, parseApiTokens as legacyParse } from '../../src/http/auth.js';
import { errorHandler } from '../../src/http/errors.js';
import { authenticate, requireScope, type AuthenticateDeps, type AuthFailureReason } from '../../src/http/gateway/authenticate.js';
import { createJwtVerifier, type JwtVerifier } from '../../src/http/gateway/jwt.js';
import { openKeyStore, type KeyStore } from '../../src/http/gateway/keys.js';
import type { Principal } from '../../src/http/gateway/principal.js';
import { parseApiTokens } from '../../src/http/gateway/tokens.js';
import { silentLogger } from '../../src/obs/logger.js';

const QUERY_TOKEN = 'tok_query_only_0123456789';
const ADMIN_TOKEN = 'tok_admin_0123456789abcd';
// A static token that looks like an API key, and one shaped like a JWT: static tokens are checked first.
const KEYISH_TOKEN = 'srag_0123456789abcdef_static-token-not-a-key-0000000000000000000';
const JWTISH_TOKEN = 'looks.like.a-jwt-but-is-static';
const TOKENS = `${QUERY_TOKEN}=quinn:staff:query,${ADMIN_TOKEN}=ada::admin,${KEYISH_TOKEN}=kim,${JWTISH_TOKEN}=jay`;

async function serve(handlers: RequestHandler[]): Promise<{ url: string; close: () => Promise<void> }> {
  const app = express();
  app.use(...handlers);
  const whoami: RequestHandler = (_req, res) => {
    res.json(res.locals.principal as Principal);
  };
  app.get('/v1/whoami', whoami);
  app.post('/v1/query', requireScope('query'), whoami);
  app.post('/v1/ingest', requireScope('ingest'), whoami);
  app.get('/v1/admin', requireScope('admin'), whoami);
  app.use(errorHandler(silentLogger));
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function call(url: string, opts: { method?: string; bearer?: string; authorization?: string } = {}) {
  const headers: Record<string, string> = {};
  if (opts.bearer !== undefined) headers.authorization = `Bearer ${opts.bearer}`;
  if (opts.authorization !== undefined) headers.authorization = opts.authorization;
  const res = await fetch(url, { method: opts.method ?? 'GET', headers });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> & { error?: { code: string; message: string } } };
}

let dir: string;
let keys: KeyStore;
let jwt: JwtVerifier;
let signer: CryptoKey;
const sign = (claims: Record<string, unknown>, exp: string | number = '10m') =>
  new SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).setIssuer('idp').setAudience('srag').setExpirationTime(exp).sign(signer);

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  signer = pair.privateKey;
  jwt = createJwtVerifier({ publicKey: await exportSPKI(pair.publicKey), issuer: 'idp', audience: 'srag', userClaim: 'sub', groupsClaim: 'groups', scopesClaim: 'scope' });
});
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'srag-auth-'));
  keys = await openKeyStore(join(dir, 'keys.json'), { statIntervalMs: 0 });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('authenticate without any credential configured', () => {
  it('serves the local operator', async () => {
    const app = await serve([authenticate({ tokens: new Map(), keys })]);
    try {
      const res = await call(`${app.url}/v1/admin`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ user: 'local', unrestricted: true, via: 'local' });
    } finally {
      await app.close();
    }
  });

  it('starts requiring credentials once a key exists, and keeps requiring them after it is revoked', async () => {
    const app = await serve([authenticate({ tokens: new Map(), keys })]);
    try {
      expect((await call(`${app.url}/v1/whoami`)).status).toBe(200);
      const other = await openKeyStore(join(dir, 'keys.json'));
      const { id, secret } = await other.create({ user: 'alice' });
      expect((await call(`${app.url}/v1/whoami`)).status).toBe(401);
      expect((await call(`${app.url}/v1/whoami`, { bearer: secret })).body).toMatchObject({ user: 'alice', via: 'key' });
      await other.revoke(id);
      expect((await call(`${app.url}/v1/whoami`)).status).toBe(401);
      expect((await call(`${app.url}/v1/whoami`, { bearer: secret })).status).toBe(401);
    } finally {
      await app.close();
    }
  });
});

describe('authenticate with tokens, keys and JWTs', () => {
  let app: Awaited<ReturnType<typeof serve>>;
  const failures: AuthFailureReason[] = [];
  let keySecret: string;
  let keyId: string;
  let ownDir: string;
  let ownKeys: KeyStore;

  beforeAll(async () => {
    ownDir = mkdtempSync(join(tmpdir(), 'srag-auth-'));
    ownKeys = await openKeyStore(join(ownDir, 'keys.json'));
    const deps: AuthenticateDeps = {
      tokens: parseApiTokens(TOKENS),
      keys: ownKeys,
      jwt,
      onFailure: (_req, reason) => {
        failures.push(reason);
      },
    };
    app = await serve([authenticate(deps)]);
  });
  afterAll(async () => {
    await app.close();
    rmSync(ownDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    failures.length = 0;
    ({ secret: keySecret, id: keyId } = await ownKeys.create({ user: 'kate', groups: ['hr'], scopes: ['ingest'] }));
  });

  const unauthorized: Array<{ name: string; opts: Parameters<typeof call>[1]; reason: AuthFailureReason; challenge: string }> = [
    { name: 'no Authorization header', opts: {}, reason: 'missing credentials', challenge: 'Bearer' },
    { name: 'a Basic header', opts: { authorization: 'Basic YWxpY2U6cHc=' }, reason: 'malformed authorization header', challenge: 'Bearer error="invalid_token"' },
    { name: 'Bearer with nothing', opts: { authorization: 'Bearer ' }, reason: 'malformed authorization header', challenge: 'Bearer error="invalid_token"' },
    { name: 'two credentials', opts: { authorization: `Bearer ${QUERY_TOKEN} ${ADMIN_TOKEN}` }, reason: 'malformed authorization header', challenge: 'Bearer error="invalid_token"' },
    { name: 'an unknown token', opts: { bearer: 'tok_nobody_0123456789abc' }, reason: 'unknown token', challenge: 'Bearer error="invalid_token"' },
    { name: 'a token prefix', opts: { bearer: QUERY_TOKEN.slice(0, -1) }, reason: 'unknown token', challenge: 'Bearer error="invalid_token"' },
    { name: 'an unknown API key', opts: { bearer: `srag_${'f'.repeat(16)}_${'A'.repeat(43)}` }, reason: 'invalid api key', challenge: 'Bearer error="invalid_token"' },
    { name: 'a JWT with a bad signature', opts: { bearer: 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.AAAA' }, reason: 'invalid jwt', challenge: 'Bearer error="invalid_token"' },
  ];
  it.each(unauthorized)('answers 401 UNAUTHORIZED for $name and reports it', async ({ opts, reason, challenge }) => {
    const res = await call(`${app.url}/v1/whoami`, opts);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(challenge);
    expect(res.body).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
    expect(failures).toEqual([reason]);
  });

  it('accepts a static token', async () => {
    const res = await call(`${app.url}/v1/whoami`, { bearer: QUERY_TOKEN });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ user: 'quinn', groups: ['staff'], scopes: ['query'], via: 'token', credentialId: expect.stringMatching(/^tok-/) });
    expect(failures).toEqual([]);
  });

  it('accepts an API key, and refuses it once revoked', async () => {
    expect((await call(`${app.url}/v1/whoami`, { bearer: keySecret })).body).toMatchObject({ user: 'kate', groups: ['hr'], via: 'key', credentialId: keyId });
    await ownKeys.revoke(keyId);
    expect((await call(`${app.url}/v1/whoami`, { bearer: keySecret })).status).toBe(401);
    expect(failures).toEqual(['invalid api key']);
  });

  it('accepts a JWT and refuses an expired one', async () => {
    const ok = await call(`${app.url}/v1/whoami`, { bearer: await sign({ sub: 'jo', groups: 'legal', scope: 'srag:ingest' }) });
    expect(ok.body).toMatchObject({ user: 'jo', groups: ['legal'], scopes: ['ingest'], via: 'jwt' });
    const expired = await call(`${app.url}/v1/whoami`, { bearer: await sign({ sub: 'jo' }, Math.floor(Date.now() / 1000) - 3600) });
    expect(expired.status).toBe(401);
    expect(failures).toEqual(['invalid jwt']);
  });

  it('checks static tokens first, whatever they look like', async () => {
    expect((await call(`${app.url}/v1/whoami`, { bearer: KEYISH_TOKEN })).body).toMatchObject({ user: 'kim', via: 'token' });
    expect((await call(`${app.url}/v1/whoami`, { bearer: JWTISH_TOKEN })).body).toMatchObject({ user: 'jay', via: 'token' });
  });

  it('accepts the scheme name in any case', async () => {
    expect((await call(`${app.url}/v1/whoami`, { authorization: `bearer ${QUERY_TOKEN}` })).status).toBe(200);
  });

  const scoped: Array<{ who: string; bearer: () => string; path: string; method: string; status: number }> = [
    { who: 'query token', bearer: () => QUERY_TOKEN, path: '/v1/query', method: 'POST', status: 200 },
    { who: 'query token', bearer: () => QUERY_TOKEN, path: '/v1/ingest', method: 'POST', status: 403 },
    { who: 'query token', bearer: () => QUERY_TOKEN, path: '/v1/admin', method: 'GET', status: 403 },
    { who: 'ingest key', bearer: () => keySecret, path: '/v1/ingest', method: 'POST', status: 200 },
    { who: 'ingest key', bearer: () => keySecret, path: '/v1/query', method: 'POST', status: 403 },
    { who: 'admin token', bearer: () => ADMIN_TOKEN, path: '/v1/query', method: 'POST', status: 200 },
    { who: 'admin token', bearer: () => ADMIN_TOKEN, path: '/v1/ingest', method: 'POST', status: 200 },
    { who: 'admin token', bearer: () => ADMIN_TOKEN, path: '/v1/admin', method: 'GET', status: 200 },
    { who: 'default-scope token', bearer: () => KEYISH_TOKEN, path: '/v1/ingest', method: 'POST', status: 200 },
    { who: 'default-scope token', bearer: () => KEYISH_TOKEN, path: '/v1/admin', method: 'GET', status: 403 },
  ];
  it.each(scoped)('requireScope: $who on $method $path -> $status', async ({ bearer, path, method, status }) => {
    const res = await call(`${app.url}${path}`, { bearer: bearer(), method });
    expect(res.status).toBe(status);
    if (status === 403) {
      const scope = path.split('/').pop();
      expect(res.body).toEqual({ error: { code: 'FORBIDDEN', message: `this credential lacks the ${scope} scope` } });
    }
  });
});

describe('authenticate around its dependencies', () => {
  it('turns a throttled address away with 429 before checking any credential', async () => {
    let verified = 0;
    const countingKeys: KeyStore = { ...keys, verify: async (s) => (verified++, keys.verify(s)) };
    const { secret } = await keys.create({ user: 'alice' });
    const app = await serve([
      authenticate({ tokens: new Map(), keys: countingKeys, guardFailures: { authFailure: async () => undefined, authBlocked: async () => 12_300 } }),
    ]);
    try {
      const res = await call(`${app.url}/v1/whoami`, { bearer: secret });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('13');
      expect(res.body.error?.code).toBe('RATE_LIMITED');
      expect(verified).toBe(0);
    } finally {
      await app.close();
    }
  });

  it('counts presented bad credentials against the address, not missing ones', async () => {
    const counted: string[] = [];
    const app = await serve([
      authenticate({ tokens: parseApiTokens(TOKENS), guardFailures: { authFailure: async (ip) => void counted.push(ip), authBlocked: async () => undefined } }),
    ]);
    try {
      await call(`${app.url}/v1/whoami`);
      await call(`${app.url}/v1/whoami`, { bearer: 'tok_wrong_0123456789abcd' });
      await call(`${app.url}/v1/whoami`, { bearer: QUERY_TOKEN });
      expect(counted).toHaveLength(1);
      expect(counted[0]).toMatch(/127\.0\.0\.1/);
    } finally {
      await app.close();
    }
  });

  it('fails the request when the failure cannot be recorded', async () => {
    const app = await serve([
      authenticate({
        tokens: parseApiTokens(TOKENS),
        onFailure: async () => {
          throw new AppError('AUDIT_UNAVAILABLE', 'audit log unavailable');
        },
      }),
    ]);
    try {
      const res = await call(`${app.url}/v1/whoami`, { bearer: 'tok_wrong_0123456789abcd' });
      expect(res.status).toBe(503);
      expect(res.body.error?.code).toBe('AUDIT_UNAVAILABLE');
    } finally {
      await app.close();
    }
  });

  it('answers 502 when the identity provider cannot be reached, without counting a failure', async () => {
    const failures: string[] = [];
    const down: JwtVerifier = {
      verify: async () => {
        throw new AppError('UPSTREAM_ERROR', "the identity provider's signing keys could not be fetched");
      },
    };
    const app = await serve([authenticate({ tokens: new Map(), jwt: down, onFailure: (_r, why) => void failures.push(why) })]);
    try {
      const res = await call(`${app.url}/v1/whoami`, { bearer: await sign({ sub: 'jo' }) });
      expect(res.status).toBe(502);
      expect(res.body.error?.code).toBe('UPSTREAM_ERROR');
      expect(failures).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('keeps the legacy authenticate(tokens) form working through src/http/auth.ts', async () => {
    const app = await serve([legacyAuthenticate(legacyParse(TOKENS))]);
    try {
      expect((await call(`${app.url}/v1/whoami`)).status).toBe(401);
      expect((await call(`${app.url}/v1/whoami`, { bearer: ADMIN_TOKEN })).body).toMatchObject({ user: 'ada', via: 'token' });
    } finally {
      await app.close();
    }
    const open = await serve([legacyAuthenticate(new Map())]);
    try {
      expect((await call(`${open.url}/v1/whoami`)).body).toMatchObject({ user: 'local', unrestricted: true });
    } finally {
      await open.close();
    }
  });
});
