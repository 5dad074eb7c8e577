import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, exportPKCS8, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, ConfigError } from '../../src/errors.js';
import { createJwtVerifier, scopesFromClaim, type JwtVerifierOptions } from '../../src/http/gateway/jwt.js';

const ISSUER = 'https://idp.example.test/realms/srag';
const AUDIENCE = 'srag-api';
const CLAIMS = { userClaim: 'sub', groupsClaim: 'groups', scopesClaim: 'scope' };

type Keys = Awaited<ReturnType<typeof generateKeyPair>>;
let es: Keys;
let other: Keys;
let rsa: Keys;
let pem: string;

async function sign(key: CryptoKey, payload: JWTPayload, opts: { alg?: string; kid?: string; exp?: string | number | null; iss?: string; aud?: string } = {}): Promise<string> {
  const jwt = new SignJWT(payload).setProtectedHeader({ alg: opts.alg ?? 'ES256', ...(opts.kid ? { kid: opts.kid } : {}) }).setIssuedAt();
  if (opts.exp !== null) jwt.setExpirationTime(opts.exp ?? '10m');
  if (opts.iss !== '') jwt.setIssuer(opts.iss ?? ISSUER);
  if (opts.aud !== '') jwt.setAudience(opts.aud ?? AUDIENCE);
  return jwt.sign(key);
}

beforeAll(async () => {
  es = await generateKeyPair('ES256', { extractable: true });
  other = await generateKeyPair('ES256', { extractable: true });
  rsa = await generateKeyPair('RS256', { extractable: true });
  pem = await exportSPKI(es.publicKey);
});

describe('JWT verifier with a local public key', () => {
  const opts = (): JwtVerifierOptions => ({ publicKey: pem, issuer: ISSUER, audience: AUDIENCE, ...CLAIMS });

  it('accepts a valid token and maps user, groups and scopes', async () => {
    const token = await sign(es.privateKey, { sub: 'alice', groups: ['hr', 'finance'], scope: 'openid srag:query srag:ingest', jti: 'abc-123' });
    expect(await createJwtVerifier(opts()).verify(token)).toEqual({
      user: 'alice',
      groups: ['hr', 'finance'],
      scopes: ['query', 'ingest'],
      unrestricted: false,
      via: 'jwt',
      credentialId: 'jwt:abc-123',
    });
  });

  const rejected: Array<{ name: string; token: () => Promise<string> }> = [
    { name: 'expired (beyond the clock tolerance)', token: () => sign(es.privateKey, { sub: 'alice' }, { exp: Math.floor(Date.now() / 1000) - 3600 }) },
    { name: 'without an expiry', token: () => sign(es.privateKey, { sub: 'alice' }, { exp: null }) },
    { name: 'from another issuer', token: () => sign(es.privateKey, { sub: 'alice' }, { iss: 'https://evil.example.test' }) },
    { name: 'without an issuer', token: () => sign(es.privateKey, { sub: 'alice' }, { iss: '' }) },
    { name: 'for another audience', token: () => sign(es.privateKey, { sub: 'alice' }, { aud: 'another-api' }) },
    { name: 'signed with another key', token: () => sign(other.privateKey, { sub: 'alice' }) },
    { name: 'signed with an RSA key (alg not for this key)', token: () => sign(rsa.privateKey, { sub: 'alice' }, { alg: 'RS256' }) },
    {
      name: 'alg none',
      token: async () =>
        new UnsecuredJWT({ sub: 'alice' }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('10m').encode(),
    },
    {
      name: 'HS256 keyed with the public key PEM (algorithm confusion)',
      token: async () =>
        new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('10m').sign(new TextEncoder().encode(pem)),
    },
    { name: 'with a tampered payload', token: async () => {
      const [h, , s] = (await sign(es.privateKey, { sub: 'alice' })).split('.');
      const forged = Buffer.from(JSON.stringify({ sub: 'root', iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 600 })).toString('base64url');
      return `${h}.${forged}.${s}`;
    } },
    { name: 'without a user claim', token: () => sign(es.privateKey, { groups: ['hr'] }) },
    { name: 'with a non-string user claim', token: () => sign(es.privateKey, { sub: 42 as unknown as string }) },
    { name: 'that is not a JWT', token: async () => 'a.b.c' },
  ];
  it.each(rejected)('rejects a token $name', async ({ token }) => {
    expect(await createJwtVerifier(opts()).verify(await token())).toBeUndefined();
  });

  it('tolerates a little clock skew on exp', async () => {
    const token = await sign(es.privateKey, { sub: 'alice' }, { exp: Math.floor(Date.now() / 1000) - 5 });
    expect((await createJwtVerifier(opts()).verify(token))?.user).toBe('alice');
    expect(await createJwtVerifier({ ...opts(), clockToleranceSec: 0 }).verify(token)).toBeUndefined();
  });

  it('checks issuer and audience only when configured', async () => {
    const token = await sign(es.privateKey, { sub: 'alice' }, { iss: 'https://any.example.test', aud: 'any' });
    expect((await createJwtVerifier({ publicKey: pem, ...CLAIMS }).verify(token))?.user).toBe('alice');
  });

  it('reads the key from a PEM file path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'srag-jwt-'));
    try {
      const file = join(dir, 'idp.pem');
      writeFileSync(file, pem);
      const token = await sign(es.privateKey, { sub: 'alice' });
      expect((await createJwtVerifier({ ...opts(), publicKey: file }).verify(token))?.user).toBe('alice');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('verifies RSA (RS256 and PS256) with an RSA public key', async () => {
    const rsaPem = await exportSPKI(rsa.publicKey);
    const v = createJwtVerifier({ ...opts(), publicKey: rsaPem });
    expect((await v.verify(await sign(rsa.privateKey, { sub: 'r' }, { alg: 'RS256' })))?.user).toBe('r');
    const ps = await generateKeyPair('PS256', { extractable: true });
    const psVerifier = createJwtVerifier({ ...opts(), publicKey: await exportSPKI(ps.publicKey) });
    expect((await psVerifier.verify(await sign(ps.privateKey, { sub: 'p' }, { alg: 'PS256' })))?.user).toBe('p');
  });

  it('refuses bad key configuration at construction', async () => {
    const bad: JwtVerifierOptions[] = [
      { ...opts(), publicKey: '/nonexistent/key.pem' },
      { ...opts(), publicKey: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----' },
      { ...opts(), publicKey: await exportPKCS8(es.privateKey) },
      { ...opts(), jwksUrl: 'https://idp.example.test/jwks' },
      { ...opts(), publicKey: undefined },
      { ...opts(), algorithms: ['RS256'] },
      { ...opts(), publicKey: undefined, jwksUrl: 'http://idp.example.test/jwks' },
      { ...opts(), publicKey: undefined, jwksUrl: 'not a url' },
    ];
    for (const o of bad) expect(() => createJwtVerifier(o), JSON.stringify(o)).toThrow(ConfigError);
  });

  const shapes: Array<{ name: string; claims: JWTPayload; groups: string[]; scopes: string[]; o?: Partial<JwtVerifierOptions> }> = [
    { name: 'groups as an array', claims: { groups: ['a', 'b', 'a'] }, groups: ['a', 'b'], scopes: ['query'] },
    { name: 'groups as a comma/space string', claims: { groups: 'a, b c' }, groups: ['a', 'b', 'c'], scopes: ['query'] },
    { name: 'no groups claim', claims: {}, groups: [], scopes: ['query'] },
    { name: 'groups with non-strings dropped', claims: { groups: ['a', 7, null, ''] }, groups: ['a'], scopes: ['query'] },
    { name: 'scope string without srag scopes', claims: { scope: 'openid profile email' }, groups: [], scopes: ['query'] },
    { name: 'scope string, plain names', claims: { scope: 'ingest query' }, groups: [], scopes: ['ingest', 'query'] },
    { name: 'scope array with prefixes', claims: { scope: ['srag:admin', 'other:thing'] }, groups: [], scopes: ['admin'] },
    { name: 'unknown scopes only', claims: { scope: 'srag:root superuser' }, groups: [], scopes: ['query'] },
    {
      name: 'custom claims (namespaced, nested)',
      claims: { 'https://srag.example/groups': ['legal'], realm_access: { roles: ['srag:ingest'] } },
      groups: ['legal'],
      scopes: ['ingest'],
      o: { groupsClaim: 'https://srag.example/groups', scopesClaim: 'realm_access.roles' },
    },
  ];
  it.each(shapes)('maps claims: $name', async ({ claims, groups, scopes, o }) => {
    const token = await sign(es.privateKey, { sub: 'u', ...claims });
    const p = await createJwtVerifier({ ...opts(), ...o }).verify(token);
    expect(p?.groups).toEqual(groups);
    expect(p?.scopes).toEqual(scopes);
  });

  it('takes the user from the configured claim', async () => {
    const token = await sign(es.privateKey, { sub: 'f81d4fae', preferred_username: 'alice' });
    expect((await createJwtVerifier({ ...opts(), userClaim: 'preferred_username' }).verify(token))?.user).toBe('alice');
  });

  it('scopesFromClaim never grants more than it reads', () => {
    expect(scopesFromClaim(undefined)).toEqual(['query']);
    expect(scopesFromClaim('srag:query srag:query')).toEqual(['query']);
    expect(scopesFromClaim({ admin: true })).toEqual(['query']);
  });
});

describe('JWT verifier with a JWKS URL', () => {
  let server: Server;
  let base: string;
  let jwksHits = 0;
  let failJwks = false;

  beforeAll(async () => {
    const jwk = { ...(await exportJWK(es.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    const jwkRsa = { ...(await exportJWK(rsa.publicKey)), kid: 'k2', alg: 'RS256', use: 'sig' };
    server = createServer((req, res) => {
      if (req.url === '/realms/srag/protocol/openid-connect/certs') {
        jwksHits++;
        if (failJwks) {
          res.writeHead(500).end('down');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk, jwkRsa] }));
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const opts = (): JwtVerifierOptions => ({ jwksUrl: `${base}/realms/srag/protocol/openid-connect/certs`, issuer: ISSUER, audience: AUDIENCE, ...CLAIMS });

  it('verifies tokens against the keys the URL serves, by kid, and caches them', async () => {
    const v = createJwtVerifier(opts());
    const before = jwksHits;
    expect(await v.verify(await sign(es.privateKey, { sub: 'alice', groups: ['hr'] }, { kid: 'k1' }))).toMatchObject({ user: 'alice', groups: ['hr'], via: 'jwt' });
    expect((await v.verify(await sign(rsa.privateKey, { sub: 'bob' }, { kid: 'k2', alg: 'RS256' })))?.user).toBe('bob');
    expect(jwksHits - before).toBe(1);
  });

  it('rejects tokens from keys it does not serve, expired ones and alg none', async () => {
    const v = createJwtVerifier(opts());
    expect(await v.verify(await sign(other.privateKey, { sub: 'x' }, { kid: 'k1' }))).toBeUndefined();
    expect(await v.verify(await sign(es.privateKey, { sub: 'x' }, { kid: 'k1', exp: Math.floor(Date.now() / 1000) - 3600 }))).toBeUndefined();
    expect(await v.verify(await sign(es.privateKey, { sub: 'x' }, { kid: 'k1', aud: 'other' }))).toBeUndefined();
    expect(await v.verify(new UnsecuredJWT({ sub: 'x' }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('10m').encode())).toBeUndefined();
  });

  it('reports an unreachable identity provider as UPSTREAM_ERROR, not as a bad token', async () => {
    failJwks = true;
    try {
      const v = createJwtVerifier(opts());
      const err = await v.verify(await sign(es.privateKey, { sub: 'alice' }, { kid: 'k1' })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('UPSTREAM_ERROR');
    } finally {
      failJwks = false;
    }
  });
});
