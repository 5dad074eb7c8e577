import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { parseApiTokens, tokenFingerprint } from '../../src/http/gateway/tokens.js';

const T1 = 'tok_0123456789abcdef';
const T2 = 'Zm9vYmFyYmF6cXV4Cg+/.~-_';

describe('parseApiTokens', () => {
  it('returns an empty map when nothing is configured', () => {
    expect(parseApiTokens(undefined).size).toBe(0);
    expect(parseApiTokens('').size).toBe(0);
  });

  const valid: Array<{ name: string; spec: string; token: string; user: string; groups: string[]; scopes: string[] }> = [
    { name: 'user only, default scopes', spec: `${T1}=alice`, token: T1, user: 'alice', groups: [], scopes: ['query', 'ingest'] },
    { name: 'groups, default scopes', spec: `${T1}=alice:hr|finance`, token: T1, user: 'alice', groups: ['hr', 'finance'], scopes: ['query', 'ingest'] },
    { name: 'groups and scopes', spec: `${T1}=bob:staff:query`, token: T1, user: 'bob', groups: ['staff'], scopes: ['query'] },
    { name: 'no groups, scopes', spec: `${T1}=ops::admin`, token: T1, user: 'ops', groups: [], scopes: ['admin'] },
    { name: 'two scopes, duplicate collapsed', spec: `${T1}=bot:ci:ingest+query+ingest`, token: T1, user: 'bot', groups: ['ci'], scopes: ['ingest', 'query'] },
    { name: 'full token alphabet', spec: `${T2}=carol@example.com:a.b`, token: T2, user: 'carol@example.com', groups: ['a.b'], scopes: ['query', 'ingest'] },
    { name: 'spaces around entries, trailing comma', spec: `  ${T1}=alice ,`, token: T1, user: 'alice', groups: [], scopes: ['query', 'ingest'] },
  ];
  it.each(valid)('parses $name', ({ spec, token, user, groups, scopes }) => {
    const map = parseApiTokens(spec);
    expect(map.size).toBe(1);
    expect(map.get(token)).toEqual({ user, groups, scopes, unrestricted: false, via: 'token', credentialId: tokenFingerprint(token) });
  });

  it('parses several entries and fingerprints each token without revealing it', () => {
    const map = parseApiTokens(`${T1}=alice:hr,${T2}=bob::query+admin`);
    expect([...map.values()].map((p) => p.user)).toEqual(['alice', 'bob']);
    const ids = [...map.values()].map((p) => p.credentialId!);
    expect(ids[0]).not.toBe(ids[1]);
    for (const id of ids) {
      expect(id).toMatch(/^tok-[0-9a-f]{12}$/);
      expect(T1.includes(id.slice(4)) || T2.includes(id.slice(4))).toBe(false);
    }
  });

  const invalid: Array<{ name: string; spec: string; message: RegExp }> = [
    { name: '= inside a token (base64 padding)', spec: `${T1}==alice`, message: /entry 1: .*must not contain '='/ },
    { name: '= inside the second entry', spec: `${T1}=alice,abc=def0123456789abcd=bob`, message: /entry 2: .*'='/ },
    { name: 'short token', spec: 'short-token=alice', message: /entry 1: the token must be 16/ },
    { name: 'token with a space', spec: 'tok 0123456789abcdef=alice', message: /entry 1: the token/ },
    { name: 'token with a non-ASCII letter', spec: 'tok_0123456789abcdé=alice', message: /entry 1: the token/ },
    { name: 'no =', spec: T1, message: /entry 1: must be <token>=<user>/ },
    { name: 'empty user', spec: `${T1}=`, message: /entry 1: the user name/ },
    { name: 'user with a space', spec: `${T1}=al ice`, message: /entry 1: the user name/ },
    { name: 'empty group', spec: `${T1}=alice:hr||finance`, message: /entry 1: a group name/ },
    { name: 'group with a slash', spec: `${T1}=alice:hr/x`, message: /entry 1: a group name/ },
    { name: 'unknown scope', spec: `${T1}=alice:hr:read`, message: /entry 1: unknown scope/ },
    { name: 'scopes separated by commas would split entries', spec: `${T1}=alice:hr:query,ingest`, message: /entry 2: must be/ },
    { name: 'empty scope list', spec: `${T1}=alice:hr:`, message: /entry 1: the scope list .* is empty/ },
    { name: 'too many parts', spec: `${T1}=alice:hr:query:extra`, message: /entry 1: has more than three/ },
    { name: 'duplicate token', spec: `${T1}=alice,${T2}=bob,${T1}=carol`, message: /entry 3: repeats the token of entry 1/ },
    { name: 'empty entry in the middle', spec: `${T1}=alice,,${T2}=bob`, message: /entry 2: is empty/ },
  ];
  it.each(invalid)('rejects $name with a ConfigError naming the entry', ({ spec, message }) => {
    let caught: unknown;
    try {
      parseApiTokens(spec);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const msg = (caught as Error).message;
    expect(msg).toMatch(message);
    // The message never repeats a token (or what might be one).
    for (const secret of [T1, T2, 'short-token', 'def0123456789abcd']) expect(msg).not.toContain(secret);
  });
});
