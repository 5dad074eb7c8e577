import { createHash, createHmac, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAuditVerify } from '../../src/cli/audit.js';
import { AppError } from '../../src/errors.js';
import { openAuditLog, verifyAuditLog, type AuditLog, type AuditRecord } from '../../src/obs/audit.js';
import { canonicalJson } from '../../src/obs/audit-crypto.js';

const CUR = 'queries.jsonl';
const TOTAL = 10_000;
const QUESTION = 'what is the travel reimbursement policy for economy flights?';
const isRoot = process.getuid?.() === 0;

function rec(i: number, log?: AuditLog): AuditRecord {
  return {
    requestId: `req-${i}`,
    user: `user${i % 7}`,
    via: 'api_key',
    ip: '127.0.0.1',
    method: 'POST',
    route: '/v1/query',
    status: 200,
    documentIds: [`doc_${i % 97}`, `doc_${i % 89}`],
    ...(log ? { questionHmac: log.hashQuestion(QUESTION) } : {}),
    k: 8,
    ms: i % 50,
    outcome: 'ok',
    detail: { hits: i % 10, cached: i % 2 === 0 },
  };
}

/** `clients` concurrent callers, each awaiting its own appends one after another, as requests would. */
async function appendConcurrently(log: AuditLog, total: number, clients: number, first = 0): Promise<void> {
  let next = first;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < first + total) await log.append(rec(next++, log));
    }),
  );
}

async function lines(dir: string, file = CUR): Promise<string[]> {
  return (await fsp.readFile(path.join(dir, file), 'utf8')).split('\n').slice(0, -1);
}

async function writeLines(dir: string, ls: string[], file = CUR): Promise<void> {
  await fsp.writeFile(path.join(dir, file), ls.map((l) => l + '\n').join(''));
}

const mode = async (p: string) => (await fsp.stat(p)).mode & 0o777;

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe(code);
}

describe('audit log: keyed hash chain', () => {
  let root: string;
  let base: string;
  let copies = 0;
  const copy = async (src = base) => {
    const dst = path.join(root, `copy-${copies++}`);
    await fsp.cp(src, dst, { recursive: true });
    return dst;
  };
  const fresh = async () => path.join(root, `fresh-${copies++}`, 'audit');

  beforeAll(async () => {
    root = await fsp.mkdtemp(path.join(os.tmpdir(), 'srag-audit-'));
    base = path.join(root, 'base', 'audit');
    const log = await openAuditLog({ dir: base, rotateBytes: 256 * 1024 * 1024 });
    const started = performance.now();
    await appendConcurrently(log, TOTAL, 64);
    const ms = performance.now() - started;
    console.log(`audit: 10,000 appends in ${ms.toFixed(0)} ms (64 concurrent callers, each append awaited until durable)`);
    await log.close();
  });
  afterAll(async () => {
    await fsp.rm(root, { recursive: true, force: true });
  });

  it('verifies 10,000 concurrent appends as one unbroken chain without any question text', async () => {
    const report = await verifyAuditLog(base);
    expect(report).toEqual({ ok: true, records: TOTAL, segments: 1 });
    const ls = await lines(base);
    const parsed = ls.map((l) => JSON.parse(l) as { seq: number; requestId: string; questionHmac: string });
    expect(parsed.map((p) => p.seq)).toEqual(Array.from({ length: TOTAL }, (_, i) => i));
    expect(new Set(parsed.map((p) => p.requestId)).size).toBe(TOTAL);
    const text = ls.join('\n');
    expect(text).not.toContain('travel');
    expect(text).not.toContain(createHash('sha256').update(QUESTION).digest('hex'));
    expect(parsed[0].questionHmac).toMatch(/^[0-9a-f]{64}$/);
  });

  it('detects one edited field in a middle record at its line', async () => {
    const dir = await copy();
    const ls = await lines(dir);
    const obj = JSON.parse(ls[5000]) as Record<string, unknown>;
    obj.status = 403;
    ls[5000] = JSON.stringify(obj);
    await writeLines(dir, ls);
    const report = await verifyAuditLog(dir);
    expect(report.ok).toBe(false);
    expect(report.firstBad).toMatchObject({ segment: CUR, line: 5001, seq: 5000 });
    expect(report.firstBad!.reason).toMatch(/mac does not match/);
    expect(report.records).toBe(5000);
  });

  it('detects a deleted record', async () => {
    const dir = await copy();
    const ls = await lines(dir);
    ls.splice(5000, 1);
    await writeLines(dir, ls);
    const report = await verifyAuditLog(dir);
    expect(report.firstBad).toMatchObject({ segment: CUR, line: 5001, seq: 5001 });
    expect(report.firstBad!.reason).toMatch(/missing/);
  });

  it('detects two swapped records', async () => {
    const dir = await copy();
    const ls = await lines(dir);
    [ls[3000], ls[3001]] = [ls[3001], ls[3000]];
    await writeLines(dir, ls);
    const report = await verifyAuditLog(dir);
    expect(report.firstBad).toMatchObject({ segment: CUR, line: 3001, seq: 3001 });
  });

  it('detects records cut from the end through the checkpoint, and refuses to append after them', async () => {
    const dir = await copy();
    const ls = await lines(dir);
    await writeLines(dir, ls.slice(0, -3));
    const report = await verifyAuditLog(dir);
    expect(report.ok).toBe(false);
    expect(report.records).toBe(TOTAL - 3);
    expect(report.firstBad).toMatchObject({ segment: CUR, line: TOTAL - 2, seq: TOTAL - 3 });
    expect(report.firstBad!.reason).toMatch(/checkpoint records seq 9999: records were cut from the end/);
    // Continuing the chain would move the checkpoint over the gap: opening must refuse instead.
    await rejectsWith(openAuditLog({ dir, rotateBytes: 1 << 30 }), 'AUDIT_UNAVAILABLE');
  });

  it('detects a record inserted without the key', async () => {
    const dir = await copy();
    const ls = await lines(dir);
    const before = JSON.parse(ls[4000]) as Record<string, unknown>;
    const forged: Record<string, unknown> = { ...before, seq: 4001, requestId: 'req-forged', prev: before.mac };
    delete forged.mac;
    forged.mac = createHmac('sha256', randomBytes(32)).update(canonicalJson(forged)).digest('hex');
    ls.splice(4001, 0, JSON.stringify(forged));
    await writeLines(dir, ls);
    const report = await verifyAuditLog(dir);
    expect(report.firstBad).toMatchObject({ segment: CUR, line: 4002, seq: 4001 });
    expect(report.firstBad!.reason).toMatch(/mac does not match/);
  });

  it('detects a missing key, a missing checkpoint and an edited checkpoint', async () => {
    const noKey = await copy();
    await fsp.rm(path.join(noKey, 'audit.key'));
    expect((await verifyAuditLog(noKey)).firstBad?.reason).toMatch(/key is missing/);
    await rejectsWith(openAuditLog({ dir: noKey, rotateBytes: 1 << 30 }), 'AUDIT_UNAVAILABLE');

    const noHead = await copy();
    await fsp.rm(path.join(noHead, 'audit.head'));
    expect((await verifyAuditLog(noHead)).firstBad?.reason).toMatch(/checkpoint is missing/);

    const editedHead = await copy();
    const head = JSON.parse(await fsp.readFile(path.join(editedHead, 'audit.head'), 'utf8')) as Record<string, unknown>;
    await fsp.writeFile(path.join(editedHead, 'audit.head'), JSON.stringify({ ...head, seq: 9000 }));
    expect((await verifyAuditLog(editedHead)).firstBad).toMatchObject({ segment: 'audit.head' });
  });

  it('accepts a log ahead of a lagging checkpoint (a crash before the checkpoint write) and continues it', async () => {
    const dir = await fresh();
    let log = await openAuditLog({ dir, rotateBytes: 1 << 30 });
    for (let i = 0; i < 10; i++) {
      await log.append(rec(i));
      // Resolved means on disk.
      expect(await fsp.readFile(path.join(dir, CUR), 'utf8')).toContain(`"req-${i}"`);
    }
    await log.close();
    const oldHead = await fsp.readFile(path.join(dir, 'audit.head'));
    log = await openAuditLog({ dir, rotateBytes: 1 << 30 });
    await appendConcurrently(log, 5, 3, 10);
    await log.close();
    await fsp.writeFile(path.join(dir, 'audit.head'), oldHead);
    expect(await verifyAuditLog(dir)).toEqual({ ok: true, records: 15, segments: 1 });

    log = await openAuditLog({ dir, rotateBytes: 1 << 30 });
    await log.append(rec(15));
    await log.close();
    expect(await verifyAuditLog(dir)).toEqual({ ok: true, records: 16, segments: 1 });
    expect((JSON.parse(await fsp.readFile(path.join(dir, 'audit.head'), 'utf8')) as { seq: number }).seq).toBe(15);

    // A torn last line (a write cut short) is a warning, not tampering, and is cleared on reopen.
    await fsp.appendFile(path.join(dir, CUR), '{"seq":16,"ti');
    const torn = await verifyAuditLog(dir);
    expect(torn.ok).toBe(true);
    expect(torn.warnings?.[0]).toMatch(/incomplete last line/);
    log = await openAuditLog({ dir, rotateBytes: 1 << 30 });
    await log.append(rec(16));
    await log.close();
    expect(await verifyAuditLog(dir)).toEqual({ ok: true, records: 17, segments: 1 });
  });

  it('rotates into segments that keep one chain, and detects a deleted segment', async () => {
    const dir = await fresh();
    let log = await openAuditLog({ dir, rotateBytes: 4096 });
    await appendConcurrently(log, 300, 8);
    await log.close();
    log = await openAuditLog({ dir, rotateBytes: 4096 });
    await appendConcurrently(log, 20, 4, 300);
    await log.close();

    const report = await verifyAuditLog(dir);
    expect(report.ok).toBe(true);
    expect(report.records).toBe(320);
    expect(report.segments).toBeGreaterThan(5);
    const names = (await fsp.readdir(dir)).filter((n) => /^queries-\d+\.jsonl$/.test(n)).sort();
    expect(names.length).toBe(report.segments - ((await fsp.readdir(dir)).includes(CUR) ? 1 : 0));
    expect(names[0]).toBe('queries-000000000000.jsonl');
    let prevMac: string | undefined;
    for (const name of names) {
      const ls = (await lines(dir, name)).map((l) => JSON.parse(l) as { seq: number; prev: string; mac: string });
      expect(ls[0].seq).toBe(Number(name.slice(8, 20)));
      if (prevMac) expect(ls[0].prev).toBe(prevMac);
      prevMac = ls.at(-1)!.mac;
      expect(await mode(path.join(dir, name))).toBe(0o600);
    }

    const middle = await copy(dir);
    await fsp.rm(path.join(middle, names[2]));
    const bad = await verifyAuditLog(middle);
    expect(bad.firstBad).toMatchObject({ segment: names[3], line: 1 });
    expect(bad.firstBad!.reason).toMatch(/missing/);

    const first = await copy(dir);
    await fsp.rm(path.join(first, names[0]));
    expect((await verifyAuditLog(first)).firstBad).toMatchObject({ segment: names[1], line: 1 });
  });

  it('keeps the key and every file private', async () => {
    const dir = await fresh();
    const log = await openAuditLog({ dir, rotateBytes: 1 << 30 });
    await log.append(rec(0));
    await log.close();
    expect(await mode(dir)).toBe(0o700);
    expect(await mode(path.join(dir, 'audit.key'))).toBe(0o600);
    expect((await fsp.stat(path.join(dir, 'audit.key'))).size).toBe(32);
    expect(await mode(path.join(dir, CUR))).toBe(0o600);
    expect(await mode(path.join(dir, 'audit.head'))).toBe(0o600);
  });

  it('hashes questions with the log key: same key same hash, other key other hash', async () => {
    const a = await fresh();
    const b = await fresh();
    const logA = await openAuditLog({ dir: a, rotateBytes: 1 << 30 });
    const logB = await openAuditLog({ dir: b, rotateBytes: 1 << 30 });
    const h = logA.hashQuestion(QUESTION);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(logB.hashQuestion(QUESTION)).not.toBe(h);
    expect(h).not.toBe(createHash('sha256').update(QUESTION).digest('hex'));
    await logA.close();
    await logB.close();
    const again = await openAuditLog({ dir: a, rotateBytes: 1 << 30 });
    expect(again.hashQuestion(QUESTION)).toBe(h);
    expect(again.hashQuestion(QUESTION + ' ')).not.toBe(h);
    await again.close();
  });

  it('rejects appends when the disk cannot take them (fail closed)', async () => {
    const dir = await fresh();
    const log = await openAuditLog({ dir, rotateBytes: 1 << 30 });
    await log.append(rec(0));
    await fsp.rm(path.join(dir, CUR));
    await fsp.mkdir(path.join(dir, CUR));
    await rejectsWith(log.append(rec(1)), 'AUDIT_UNAVAILABLE');
    // Still refused once the directory is gone: the file the chain continues from is not there.
    await fsp.rmdir(path.join(dir, CUR));
    await rejectsWith(log.append(rec(2)), 'AUDIT_UNAVAILABLE');
    await log.close();

    const shrunk = await fresh();
    const log2 = await openAuditLog({ dir: shrunk, rotateBytes: 1 << 30 });
    await appendConcurrently(log2, 5, 2);
    await fsp.truncate(path.join(shrunk, CUR), 10);
    await rejectsWith(log2.append(rec(5)), 'AUDIT_UNAVAILABLE');
    await log2.close();
  });

  it.skipIf(isRoot)('rejects appends when the directory is read-only', async () => {
    const dir = await fresh();
    const log = await openAuditLog({ dir, rotateBytes: 1 << 30 });
    await fsp.chmod(dir, 0o500);
    try {
      await rejectsWith(log.append(rec(0)), 'AUDIT_UNAVAILABLE');
    } finally {
      await fsp.chmod(dir, 0o700);
      await log.close().catch(() => undefined);
    }
  });

  it('refuses free text, unknown fields and query strings, and appends after close', async () => {
    const dir = await fresh();
    const log = await openAuditLog({ dir, rotateBytes: 1 << 30 });
    await rejectsWith(log.append({ ...rec(0), outcome: 'the user asked about flights' }), 'INVALID_INPUT');
    await rejectsWith(log.append({ ...rec(0), question: QUESTION } as AuditRecord), 'INVALID_INPUT');
    await rejectsWith(log.append({ ...rec(0), route: '/v1/search?q=travel' }), 'INVALID_INPUT');
    await rejectsWith(log.append({ ...rec(0), detail: { note: 'free text here' } }), 'INVALID_INPUT');
    await rejectsWith(log.append({ ...rec(0), detail: { token: 'x'.repeat(200) } }), 'INVALID_INPUT');
    await rejectsWith(log.append({ ...rec(0), questionHmac: QUESTION }), 'INVALID_INPUT');
    await log.close();
    await rejectsWith(log.append(rec(1)), 'AUDIT_UNAVAILABLE');
    expect(await verifyAuditLog(dir)).toEqual({ ok: true, records: 0, segments: 0 });
  });

  it('moves a plain log from before the chain aside and starts a fresh chain', async () => {
    const dir = await fresh();
    await fsp.mkdir(dir, { recursive: true });
    await fsp.writeFile(path.join(dir, CUR), JSON.stringify({ time: 't', route: 'query', user: 'local', questionSha256: 'x', k: 1, documentIds: [], status: 200, ms: 1 }) + '\n');
    const log = await openAuditLog({ dir, rotateBytes: 1 << 30, now: () => new Date(1_700_000_000_000) });
    await log.append(rec(0));
    await log.close();
    expect(await fsp.readdir(dir)).toContain('queries.legacy-1700000000000.jsonl');
    expect(await verifyAuditLog(dir)).toEqual({ ok: true, records: 1, segments: 1 });
  });
});

describe('srag audit verify', () => {
  let root: string;
  beforeAll(async () => {
    root = await fsp.mkdtemp(path.join(os.tmpdir(), 'srag-audit-cli-'));
  });
  afterAll(async () => {
    await fsp.rm(root, { recursive: true, force: true });
  });

  it('exits 0 on an intact log and 1 with segment, line and seq of the first bad record', async () => {
    const dir = path.join(root, 'audit');
    const log = await openAuditLog({ dir, rotateBytes: 1 << 30 });
    await appendConcurrently(log, 20, 4);
    await log.close();

    const out: string[] = [];
    expect(await runAuditVerify(dir, false, (s) => out.push(s))).toBe(0);
    expect(out.join('\n')).toMatch(/intact: 20 records in 1 segment/);
    out.length = 0;
    expect(await runAuditVerify(dir, true, (s) => out.push(s))).toBe(0);
    expect(JSON.parse(out[0])).toEqual({ ok: true, records: 20, segments: 1 });

    const ls = await lines(dir);
    ls[7] = ls[7].replace('"status":200', '"status":201');
    await writeLines(dir, ls);
    out.length = 0;
    expect(await runAuditVerify(dir, false, (s) => out.push(s))).toBe(1);
    expect(out[0]).toMatch(/FAILED verification: queries\.jsonl line 8, seq 7: mac does not match/);
    out.length = 0;
    expect(await runAuditVerify(dir, true, (s) => out.push(s))).toBe(1);
    expect(JSON.parse(out[0])).toMatchObject({ ok: false, records: 7, firstBad: { segment: CUR, line: 8, seq: 7 } });
  });

  it('exits 0 for a data dir that never audited anything', async () => {
    expect(await runAuditVerify(path.join(root, 'nothing-here'), false, () => undefined)).toBe(0);
  });
});
