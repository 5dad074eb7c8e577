// API keys managed over HTTP by an admin: created (secret shown once), listed, revoked, every action in
// the audit trail without the secret; other callers get 403.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openKeyStore, type KeyStore } from '../../src/http/gateway/keys.js';
import { startTestApp, type TestApp } from '../support/query-app.js';

describe('admin key routes', () => {
  let dir: string;
  let keys: KeyStore;
  let app: TestApp;
  let admin: string;
  let reader: string;
  const call = (token: string, method: string, path: string, body?: unknown) =>
    fetch(`${app.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'srag-admin-keys-'));
    keys = await openKeyStore(join(dir, 'keys.json'), { statIntervalMs: 0 });
    admin = (await keys.create({ user: 'root', scopes: ['admin'] })).secret;
    reader = (await keys.create({ user: 'ana', groups: ['hr'], scopes: ['query'] })).secret;
    app = await startTestApp({ keys });
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a key whose secret works once issued, lists it, revokes it, and audits each step without the secret', async () => {
    const created = await call(admin, 'POST', '/v1/admin/keys', { user: 'bo', groups: ['eng'], scopes: ['query', 'ingest'] });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { id: string; secret: string };
    expect(body.secret).toMatch(/^srag_/);
    expect((await call(body.secret, 'POST', '/v1/query', { question: 'How long do receipts take?' })).status).toBe(200);
    const listed = (await (await call(admin, 'GET', '/v1/admin/keys')).json()) as { keys: Array<{ id: string }> };
    expect(listed.keys.map((k) => k.id)).toContain(body.id);
    expect(JSON.stringify(listed)).not.toContain(body.secret);
    expect((await call(admin, 'DELETE', `/v1/admin/keys/${body.id}`)).status).toBe(200);
    expect((await call(body.secret, 'POST', '/v1/query', { question: 'How long do receipts take?' })).status).toBe(401);
    const outcomes = app.audits.map((a) => a.outcome).filter(Boolean);
    expect(outcomes).toEqual(expect.arrayContaining(['key_created', 'key_revoked']));
    expect(JSON.stringify(app.audits)).not.toContain(body.secret.slice(6));
  });

  it('refuses key management to callers without the admin scope', async () => {
    expect((await call(reader, 'POST', '/v1/admin/keys', { user: 'mallory', scopes: ['admin'] })).status).toBe(403);
    expect((await call(reader, 'GET', '/v1/admin/keys')).status).toBe(403);
    expect((await keys.list()).some((k) => k.user === 'mallory')).toBe(false);
  });
});
