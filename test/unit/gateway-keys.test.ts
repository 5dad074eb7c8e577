import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError, ConfigError } from '../../src/errors.js';
import { keyFileIn, openKeyStore } from '../../src/http/gateway/keys.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'srag-keys-'));
  file = keyFileIn(dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('key store', () => {
  it('creates a key whose secret verifies to its principal, and shows the secret only once', async () => {
    const store = await openKeyStore(file, { statIntervalMs: 0 });
    expect(store.size()).toBe(0);
    const { id, secret, record } = await store.create({ user: 'alice', groups: ['hr', 'finance'], scopes: ['query', 'ingest'], name: 'laptop' });
    expect(secret).toMatch(new RegExp(`^srag_${id}_[A-Za-z0-9_-]{43,}$`));
    expect(record).toEqual({ id, user: 'alice', groups: ['hr', 'finance'], scopes: ['query', 'ingest'], name: 'laptop', createdAt: expect.any(String) });
    expect(store.size()).toBe(1);
    expect(await store.verify(secret)).toEqual({ user: 'alice', groups: ['hr', 'finance'], scopes: ['query', 'ingest'], unrestricted: false, via: 'key', credentialId: id });
  });

  it('defaults to the query scope and no groups', async () => {
    const store = await openKeyStore(file);
    const { record } = await store.create({ user: 'bob' });
    expect(record.scopes).toEqual(['query']);
    expect(record.groups).toEqual([]);
  });

  it('refuses wrong, tampered, malformed and unknown secrets', async () => {
    const store = await openKeyStore(file);
    const { id, secret } = await store.create({ user: 'alice' });
    const last = secret.at(-1) === 'A' ? 'B' : 'A';
    for (const bad of [
      secret.slice(0, -1) + last,
      `srag_${id}_${'A'.repeat(43)}`,
      `srag_${'0'.repeat(16)}_${secret.split('_').slice(2).join('_')}`,
      secret + ' ',
      secret.toUpperCase(),
      'srag_',
      '',
    ]) {
      expect(await store.verify(bad)).toBeUndefined();
    }
  });

  it('never stores the secret, salts every hash, and keeps the file private (0600)', async () => {
    const store = await openKeyStore(file);
    const a = await store.create({ user: 'alice' });
    const b = await store.create({ user: 'alice' });
    const text = readFileSync(file, 'utf8');
    for (const { secret } of [a, b]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(secret.slice(`srag_${a.id}_`.length));
    }
    const stored = JSON.parse(text).keys as Array<{ salt: string; hash: string }>;
    expect(stored).toHaveLength(2);
    expect(stored[0].salt).not.toBe(stored[1].salt);
    expect(Buffer.from(stored[0].salt, 'base64url').length).toBeGreaterThanOrEqual(16);
    expect(stored[0].hash).not.toBe(stored[1].hash);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('lists records without salts or hashes, with last use seen by this process', async () => {
    const store = await openKeyStore(file);
    const { id, secret } = await store.create({ user: 'alice', name: 'ci' });
    expect((await store.list())[0].lastUsed).toBeUndefined();
    await store.verify(secret);
    const [listed] = await store.list();
    expect(Object.keys(listed).sort()).toEqual(['createdAt', 'groups', 'id', 'lastUsed', 'name', 'scopes', 'user']);
    expect(listed.id).toBe(id);
    expect(JSON.stringify(await store.list())).not.toMatch(/salt|hash/);
  });

  it('revokes: the secret stops working, revoke is idempotent, unknown ids are NOT_FOUND', async () => {
    const store = await openKeyStore(file);
    const keep = await store.create({ user: 'alice' });
    const gone = await store.create({ user: 'bob' });
    const revoked = await store.revoke(gone.id);
    expect(revoked.revokedAt).toEqual(expect.any(String));
    expect(await store.verify(gone.secret)).toBeUndefined();
    expect(await store.verify(keep.secret)).toBeDefined();
    expect((await store.revoke(gone.id)).revokedAt).toBe(revoked.revokedAt);
    // Revoked records stay on file, so the API keeps requiring credentials.
    expect(store.size()).toBe(2);
    await expect(store.revoke('0123456789abcdef')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // A reopened store sees the same state.
    const again = await openKeyStore(file);
    expect(await again.verify(gone.secret)).toBeUndefined();
    expect((await again.verify(keep.secret))?.user).toBe('alice');
  });

  it('validates what it stores', async () => {
    const store = await openKeyStore(file);
    const bad = [
      { user: '' },
      { user: 'al ice' },
      { user: 'alice', groups: ['a|b'] },
      { user: 'alice', scopes: [] },
      { user: 'alice', scopes: ['root' as 'admin'] },
      { user: 'alice', name: 'x\u0007' },
    ];
    for (const input of bad) await expect(store.create(input)).rejects.toBeInstanceOf(AppError);
    expect(store.size()).toBe(0);
  });

  it('refuses to open a corrupt key file rather than overwriting it', async () => {
    writeFileSync(file, '{ not json');
    await expect(openKeyStore(file)).rejects.toBeInstanceOf(ConfigError);
    writeFileSync(file, JSON.stringify({ version: 2, keys: [] }));
    await expect(openKeyStore(file)).rejects.toBeInstanceOf(ConfigError);
  });

  it('notices keys created and revoked through another handle on the same file', async () => {
    const api = await openKeyStore(file, { statIntervalMs: 0 });
    const cli = await openKeyStore(file);
    const { id, secret } = await cli.create({ user: 'carol', groups: ['ops'] });
    expect((await api.verify(secret))?.user).toBe('carol');
    await cli.revoke(id);
    expect(await api.verify(secret)).toBeUndefined();
  });

  it('loses no key when two handles create at the same time', async () => {
    const a = await openKeyStore(file);
    const b = await openKeyStore(file);
    const made = await Promise.all([...Array(5)].flatMap((_, i) => [a.create({ user: `a${i}` }), b.create({ user: `b${i}` })]));
    const check = await openKeyStore(file);
    expect(check.size()).toBe(10);
    for (const { secret } of made) expect(await check.verify(secret)).toBeDefined();
  });

  it('notices a key the CLI creates from another process, and the CLI lists and revokes it', async () => {
    const api = await openKeyStore(file, { statIntervalMs: 0 });
    expect(api.size()).toBe(0);
    const env = { ...process.env, SRAG_DATA_DIR: dir };
    const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'keys', ...args], { cwd: ROOT, env });

    const created = await cli('create', '--user', 'dave', '--groups', 'hr,legal', '--scopes', 'query,ingest', '--name', 'reporting', '--json');
    const out = JSON.parse(created.stdout) as { id: string; secret: string; user: string; scopes: string[] };
    expect(out).toMatchObject({ user: 'dave', scopes: ['query', 'ingest'] });
    expect(await api.verify(out.secret)).toMatchObject({ user: 'dave', groups: ['hr', 'legal'], via: 'key', credentialId: out.id });
    expect(api.size()).toBe(1);

    const human = await cli('create', '--user', 'erin');
    expect(human.stdout).toMatch(/will not be shown again/);
    const listed = JSON.parse((await cli('list', '--json')).stdout) as { keys: Array<{ id: string; user: string }> };
    expect(listed.keys.map((k) => k.user)).toEqual(['dave', 'erin']);

    await cli('revoke', out.id);
    expect(await api.verify(out.secret)).toBeUndefined();
    await expect(cli('create', '--user', 'frank', '--scopes', 'root')).rejects.toMatchObject({ stderr: expect.stringMatching(/unknown scope/) });
  }, 60_000);
});
