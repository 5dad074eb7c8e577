// Security findings reproduced on the real stack (Temporal dev server, worker processes, the ONNX
// model), with bearer tokens configured and the API on 127.0.0.1. Each `it` names the finding it
// guards; every one of them failed before the gateway existed.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, PROJECT_ROOT } from '../../src/config.js';
import type { JobProgress } from '../../src/domain/ingest.js';
import { verifyAuditLog } from '../../src/obs/audit.js';
import { makePdfBomb } from '../support/pdf-bomb.js';
import { postJson, startStackApi, waitForJob } from '../support/http.js';
import { freePort, startStack, type Stack } from '../support/stack.js';

const T = {
  alice: 'alice-token-0123456789',
  bob: 'bob-token-0123456789abc',
  carol: 'carol-token-0123456789',
  root: 'root-token-0123456789ab',
};
const TOKENS = [`${T.alice}=alice:hr`, `${T.bob}=bob:eng`, `${T.carol}=carol:hr:query`, `${T.root}=root:ops:admin`].join(',');
const auth = (token: string) => ({ authorization: `Bearer ${token}` });

interface Hit {
  documentId: string;
  text: string;
  source: string;
  score: number;
}

describe('security on the real stack', () => {
  let stack: Stack;
  let api: { url: string; close: () => Promise<void> };
  let root: string;
  const others: Array<{ close: () => Promise<void> }> = [];

  const ingest = async (token: string, body: unknown): Promise<{ status: number; jobId?: string; body: unknown }> => {
    const res = await postJson<{ jobId?: string }>(`${api.url}/v1/ingest`, body, auth(token));
    return { status: res.status, jobId: res.body.jobId, body: res.body };
  };
  const ingestDone = async (token: string, body: unknown): Promise<JobProgress> => {
    const res = await ingest(token, body);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return waitForJob(api.url, res.jobId!, undefined, 600_000, auth(token));
  };
  const search = async (token: string, query: string, k = 10): Promise<Hit[]> => {
    const res = await postJson<{ hits: Hit[] }>(`${api.url}/v1/search`, { query, k }, auth(token));
    expect(res.status).toBe(200);
    return res.body.hits;
  };
  const upload = async (token: string, files: Array<{ name: string; data: Buffer | string }>, fields: Record<string, string> = {}) => {
    const form = new FormData();
    for (const f of files) form.append('files', new Blob([f.data]), f.name);
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    const res = await fetch(`${api.url}/v1/ingest`, { method: 'POST', headers: auth(token), body: form });
    return { status: res.status, body: (await res.json()) as { jobId?: string; error?: { code: string } } };
  };

  beforeAll(async () => {
    stack = await startStack({ SRAG_API_TOKENS: TOKENS, SRAG_PARSE_MAX_MB: '256' });
    await stack.startWorkers();
    root = mkdtempSync(join(tmpdir(), 'srag-roots-'));
    api = await startStackApi(stack, loadConfig({ ...stack.env, SRAG_INGEST_ROOTS: root, SRAG_MAX_UPLOAD_MB: '8' }));
  }, 300_000);

  afterAll(async () => {
    for (const o of others) await o.close();
    await api?.close();
    await stack?.stop();
  });

  it('finding 1: another user cannot take over a restricted document by re-ingesting its source', async () => {
    const file = join(root, 'payroll.txt');
    writeFileSync(file, 'Payroll bands for 2026. The senior engineer band tops out at 142,000 euros per year.');
    const first = await ingestDone(T.alice, { sources: [{ path: file }, { text: 'The HR retreat is in Lisbon in May.', title: 'Retreat' }], acl: ['hr'] });
    expect(first.documents.done).toBe(2);
    const uploaded = await upload(T.alice, [{ name: 'bonus.txt', data: 'Bonus pool is eleven percent of the payroll budget.' }], { acl: 'hr' });
    expect(uploaded.status).toBe(202);
    await waitForJob(api.url, uploaded.body.jobId!, undefined, 600_000, auth(T.alice));

    // Same path, no ACL: refused before a job exists.
    const samePath = await ingest(T.bob, { sources: [{ path: file }] });
    expect(samePath.status).toBe(403);
    // Same text title and same upload name: separate documents in bob's namespace, not alice's.
    await ingestDone(T.bob, { sources: [{ text: 'Retreat notes from the eng offsite.', title: 'Retreat' }] });
    const bobUpload = await upload(T.bob, [{ name: 'bonus.txt', data: 'Eng bonus notes, nothing about payroll.' }]);
    expect(bobUpload.status).toBe(202);
    await waitForJob(api.url, bobUpload.body.jobId!, undefined, 600_000, auth(T.bob));

    // Alice's documents still carry their ACL: bob sees none of them, alice sees all three.
    const bobHits = await search(T.bob, 'payroll band senior engineer bonus pool retreat Lisbon', 20);
    expect(bobHits.some((h) => /142,000|eleven percent|Lisbon/.test(h.text))).toBe(false);
    const aliceHits = await search(T.alice, 'payroll band senior engineer bonus pool retreat Lisbon', 20);
    for (const needle of ['142,000', 'eleven percent', 'Lisbon']) expect(aliceHits.some((h) => h.text.includes(needle)), needle).toBe(true);

    // The owner herself may not silently make it public: an ACL change is an admin action.
    expect((await ingest(T.alice, { sources: [{ path: file }] })).status).toBe(403);
    expect((await ingest(T.alice, { sources: [{ path: file }], acl: ['hr'], replaceAcl: true })).status).toBe(403);
    // Nor grant groups she does not hold.
    expect((await ingest(T.alice, { sources: [{ text: 'x y z', title: 'Granted' }], acl: ['eng'] })).status).toBe(403);
    // An admin can, explicitly.
    const changed = await ingestDone(T.root, { sources: [{ path: file }], acl: ['hr', 'ops'], replaceAcl: true });
    expect(changed.documents.failed).toBe(0);
  });

  it('finding 2: with credentials and no SRAG_INGEST_ROOTS, server paths are refused', async () => {
    const plain = await startStackApi(stack, stack.withDataDir(mkdtempSync(join(tmpdir(), 'srag-noroots-'))).config);
    others.push(plain);
    const res = await postJson<{ error: { code: string; message: string } }>(`${plain.url}/v1/ingest`, { sources: [{ path: '/etc/passwd' }] }, auth(T.root));
    expect(res.status).toBe(403);
    expect(res.body.error.message).not.toContain('/etc/passwd');
    // And on the API with roots, a path outside them is refused too, for admins as well.
    expect((await ingest(T.root, { sources: [{ path: '/etc/passwd' }] })).status).toBe(403);
    expect((await search(T.root, 'root:x:0:0 /bin/bash nologin')).some((h) => h.text.includes('root:x:0'))).toBe(false);
  });

  it('finding 3: symlinks inside a root cannot reach outside it', async () => {
    symlinkSync('/etc/passwd', join(root, 'passwd-link.txt'));
    mkdirSync(join(root, 'linked'));
    symlinkSync('/etc', join(root, 'linked', 'etc'));
    expect((await ingest(T.alice, { sources: [{ path: join(root, 'passwd-link.txt') }] })).status).toBe(403);
    expect((await ingest(T.alice, { sources: [{ path: join(root, 'linked', 'etc', 'passwd') }] })).status).toBe(403);
    // A directory containing a link to outside ingests only what is really inside.
    writeFileSync(join(root, 'linked', 'inside.txt'), 'The inside file is about office plants.');
    const job = await ingestDone(T.alice, { sources: [{ path: join(root, 'linked') }] });
    expect(job.documents.total).toBe(1);
    expect((await search(T.alice, 'root:x:0:0 /bin/bash nologin')).some((h) => h.text.includes('root:x:0'))).toBe(false);
  });

  it('finding 4: identical bytes from several sources in one job are all indexed', async () => {
    const bytes = 'Identical bytes: the fire drill is on the first Monday of each quarter.';
    const res = await upload(T.bob, [
      { name: 'drill-a.txt', data: bytes },
      { name: 'drill-b.txt', data: bytes },
      { name: 'drill-c.txt', data: bytes },
    ]);
    expect(res.status).toBe(202);
    const job = await waitForJob(api.url, res.body.jobId!, undefined, 600_000, auth(T.bob));
    expect(job.errors).toEqual([]);
    expect(job.documents).toMatchObject({ total: 3, done: 3, failed: 0 });
    const docs = (await (await fetch(`${api.url}/v1/documents`, { headers: auth(T.bob) })).json()) as { documents: Array<{ title: string }> };
    for (const n of ['drill-a.txt', 'drill-b.txt', 'drill-c.txt']) expect(docs.documents.some((d) => d.title === n), n).toBe(true);

    // A path and a text source with the same bytes in one job: both indexed.
    const file = join(root, 'same-bytes.txt');
    writeFileSync(file, 'Shared bytes: parking permits renew every January.');
    const mixed = await ingestDone(T.bob, { sources: [{ path: file }, { text: 'Shared bytes: parking permits renew every January.', title: 'permits' }] });
    expect(mixed.documents).toMatchObject({ total: 2, done: 2, failed: 0 });
  });

  it('finding 5: scopes per route, jobs belong to their submitter, deleting others\' documents needs admin', async () => {
    // carol has only the query scope.
    expect((await ingest(T.carol, { sources: [{ text: 'carol tries', title: 'c' }] })).status).toBe(403);
    expect((await search(T.carol, 'payroll')).length).toBeGreaterThan(0);

    const mine = await ingestDone(T.alice, { sources: [{ text: 'Public cafeteria menu: soup on Fridays.', title: 'Menu' }] });
    const jobId = mine.jobId;
    expect((await fetch(`${api.url}/v1/jobs/${jobId}`, { headers: auth(T.bob) })).status).toBe(404);
    expect((await fetch(`${api.url}/v1/jobs/${jobId}`, { method: 'DELETE', headers: auth(T.bob) })).status).toBe(404);
    const bobJobs = (await (await fetch(`${api.url}/v1/jobs`, { headers: auth(T.bob) })).json()) as { jobs: Array<{ jobId: string }> };
    expect(bobJobs.jobs.some((j) => j.jobId === jobId)).toBe(false);
    expect((await fetch(`${api.url}/v1/jobs/${jobId}`, { headers: auth(T.alice) })).status).toBe(200);
    expect((await fetch(`${api.url}/v1/jobs/${jobId}`, { headers: auth(T.root) })).status).toBe(200);

    // The menu is public: bob sees it but may not delete it.
    const docs = (await (await fetch(`${api.url}/v1/documents`, { headers: auth(T.bob) })).json()) as { documents: Array<{ documentId: string; title: string }> };
    const menu = docs.documents.find((d) => d.title === 'Menu')!;
    expect(menu).toBeDefined();
    expect((await fetch(`${api.url}/v1/documents/${menu.documentId}`, { method: 'DELETE', headers: auth(T.bob) })).status).toBe(403);
    expect((await fetch(`${api.url}/v1/documents/${menu.documentId}`, { method: 'DELETE', headers: auth(T.root) })).status).toBe(200);
  });

  it('finding 6: a PDF decompression bomb fails alone as RESOURCE_LIMIT; an oversized upload is refused', async () => {
    const bomb = await makePdfBomb(1536 * 1024 * 1024);
    console.log(`security: PDF bomb of ${(bomb.length / 1e6).toFixed(2)} MB inflating to 1.5 GB`);
    const res = await upload(T.alice, [
      { name: 'bomb.pdf', data: bomb },
      { name: 'fine.txt', data: 'A fine document next to the bomb: the library opens at nine.' },
    ]);
    expect(res.status).toBe(202);
    const job = await waitForJob(api.url, res.body.jobId!, undefined, 600_000, auth(T.alice));
    expect(job.status).toBe('completed');
    expect(job.documents).toMatchObject({ total: 2, done: 1, failed: 1 });
    expect(job.errors.map((e) => e.code)).toEqual(['RESOURCE_LIMIT']);

    // Uploads stream to disk under a per-request cap (8 MB here): three 3 MB files are refused whole.
    const big = Buffer.alloc(3 << 20, 'a');
    const over = await upload(T.alice, [
      { name: 'a.txt', data: big },
      { name: 'b.txt', data: big },
      { name: 'c.txt', data: big },
    ]);
    expect(over.status).toBe(413);
    expect(over.body.error?.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('finding 7: a pathological Markdown heading does not stall ingestion', async () => {
    const md = '# a' + ' '.repeat(120_000) + 'b\n\nBody text about the quarterly report.\n';
    const started = performance.now();
    const res = await upload(T.alice, [{ name: 'spaces.md', data: md }]);
    expect(res.status).toBe(202);
    const job = await waitForJob(api.url, res.body.jobId!, undefined, 600_000, auth(T.alice));
    console.log(`security: 120 KB heading of spaces ingested in ${Math.round(performance.now() - started)} ms (real stack, end to end)`);
    expect(job.documents.failed).toBe(0);
  });

  it('finding 8: without credentials, only loopback Host names and same-origin browsers get in', async () => {
    const open = await startStackApi(stack, loadConfig({ ...stack.env, SRAG_API_TOKENS: '', SRAG_DATA_DIR: mkdtempSync(join(tmpdir(), 'srag-open-')) }));
    others.push(open);
    const port = new URL(open.url).port;
    const ok = await fetch(`${open.url}/v1/models`);
    expect(ok.status).toBe(200);
    // DNS rebinding: the attacker's name resolves to 127.0.0.1, the Host header gives it away.
    const rebound = await rawRequest(Number(port), 'GET /v1/models HTTP/1.1\r\nHost: evil.example:' + port + '\r\nConnection: close\r\n\r\n');
    expect(rebound).toMatch(/^HTTP\/1\.1 403/);
    // A cross-origin form post (CSRF) carries the attacker's Origin.
    const csrf = await fetch(`${open.url}/v1/ingest`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: 'https://evil.example' },
      body: '{"sources":[{"path":"/etc/passwd"}]}',
    });
    expect(csrf.status).toBe(403);
    const sameOrigin = await fetch(`${open.url}/v1/models`, { headers: { origin: `http://127.0.0.1:${port}` } });
    expect(sameOrigin.status).toBe(200);
  });

  it('finding 9: an exposed start without credentials is refused before anything starts', async () => {
    const temporalPort = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'srag-exposed-'));
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('SRAG_') && !k.startsWith('TEMPORAL_')) env[k] = v;
    Object.assign(env, { SRAG_HOST: '0.0.0.0', SRAG_DATA_DIR: dataDir, SRAG_TEMPORAL_PORT: String(temporalPort), SRAG_PORT: String(await freePort()), SRAG_METRICS_PORT: '0' });
    const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/cli/main.ts'), 'up'], { env, cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).not.toBe(0);
    expect(output).toMatch(/exposes the API/);
    expect(output).not.toMatch(/srag is up/);
    // Nothing was started: the Temporal port is free.
    expect(await portOpen(temporalPort)).toBe(false);
  });

  it('PII policy: redacted text is what gets indexed and quoted; the job counts detections by type', async () => {
    const text =
      'Refunds go to the finance desk. Write to jane.doe+refunds@example.org or wire to DE89 3704 0044 0532 0130 00. ' +
      'The corporate card 4111 1111 1111 1111 is for travel only.';
    const job = await ingestDone(T.alice, { sources: [{ text, title: 'Refund desk' }], pii: 'redact' });
    expect(job.documents.failed).toBe(0);
    expect(job.pii).toEqual({ email: 1, iban: 1, card: 1 });
    const hits = await search(T.alice, 'refunds finance desk corporate card travel');
    const hit = hits.find((h) => h.text.includes('finance desk'))!;
    expect(hit.text).toContain('[REDACTED:EMAIL]');
    expect(hit.text).toContain('[REDACTED:IBAN]');
    expect(hit.text).not.toMatch(/jane\.doe|DE89|4111/);
    const answer = await postJson<{ citations: Array<{ quote: string }> }>(`${api.url}/v1/query`, { question: 'Where do refunds go?' }, auth(T.alice));
    for (const c of answer.body.citations) expect(c.quote).not.toMatch(/jane\.doe|DE89|4111/);
    // flag: counted, text kept.
    const flagged = await ingestDone(T.alice, { sources: [{ text: 'Call +49 30 1234567 for parking.', title: 'Parking phone' }], pii: 'flag' });
    expect(flagged.pii).toEqual({ phone: 1 });
  });

  it('finding 10: private files, keyed audit chain, guarded ops endpoints, no raw paths or lexical scores', async () => {
    expect(statSync(stack.config.dataDir).mode & 0o077).toBe(0);
    const auditDir = join(stack.config.dataDir, 'audit');
    expect(statSync(join(auditDir, 'queries.jsonl')).mode & 0o077).toBe(0);
    const report = await verifyAuditLog(auditDir);
    expect(report.ok, JSON.stringify(report.firstBad)).toBe(true);
    expect(report.records).toBeGreaterThan(10);

    // Ops endpoints: metrics and OpenAPI need a credential; readiness shows only up/down to strangers.
    expect((await fetch(`${api.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${api.url}/openapi.json`)).status).toBe(401);
    expect((await fetch(`${api.url}/metrics`, { headers: auth(T.root) })).status).toBe(200);
    const ready = (await (await fetch(`${api.url}/readyz`)).json()) as { checks: Record<string, { ok: boolean; detail?: string }> };
    for (const c of Object.values(ready.checks)) expect(Object.keys(c)).toEqual(['ok']);

    // Malformed multipart is the client's fault.
    const bad = await fetch(`${api.url}/v1/ingest`, {
      method: 'POST',
      headers: { ...auth(T.alice), 'content-type': 'multipart/form-data; boundary=xyz' },
      body: '--xyz\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\n\r\ntruncated',
    });
    expect(bad.status).toBe(400);

    // Non-admins never see absolute server paths.
    const hits = await search(T.alice, 'inside file office plants');
    const inside = hits.find((h) => h.text.includes('office plants'));
    expect(inside?.source).toBe(join('linked', 'inside.txt'));
    const missing = await ingestDone(T.alice, { sources: [{ path: join(root, 'no-such-file.txt') }] });
    expect(missing.errors[0].code).toBe('NOT_FOUND');
    expect(JSON.stringify(missing.errors)).not.toContain(root);

    // Scores shown to a caller do not move when documents they cannot see are added (raw BM25 would:
    // its IDF counts every document).
    await ingestDone(T.bob, { sources: [{ text: 'The zephyrine valve is inspected monthly.', title: 'Valves' }] });
    const ask = async () => (await postJson<{ hits: Hit[] }>(`${api.url}/v1/search`, { query: 'zephyrine', k: 5 }, auth(T.bob))).body.hits;
    const before = await ask();
    expect(before[0].text).toContain('zephyrine');
    await ingestDone(T.alice, { sources: [{ text: 'Zephyrine zephyrine zephyrine: HR notes only.', title: 'HR zephyrine' }], acl: ['hr'] });
    const after = await ask();
    expect(after.map((h) => [h.documentId, h.score])).toEqual(before.map((h) => [h.documentId, h.score]));
  });
});

function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let data = '';
    socket.on('data', (d) => (data += d.toString()));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
