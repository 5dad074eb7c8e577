import { spawn, spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { hostname } from 'node:os';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uuidV5 } from '../../src/domain/ids.js';
import type { ChunkPayload } from '../../src/domain/types.js';
import { createEmbeddedIndex, type EmbeddedIndex, type EmbeddedIndexOptions } from '../../src/index/embedded.js';
import type { IndexPoint } from '../../src/index/port.js';
import { createLogger } from '../../src/obs/logger.js';
import { describeVectorIndexContract } from '../contract/vector-index.contract.js';
import { rng, randomUnit } from '../support/random.js';

async function tempDir(): Promise<string> {
  return fsp.mkdtemp(path.join(os.tmpdir(), 'srag-index-'));
}

describeVectorIndexContract('embedded', async () => {
  const dir = await tempDir();
  const index = await createEmbeddedIndex(dir);
  return {
    index,
    cleanup: async () => {
      await index.close();
      await fsp.rm(dir, { recursive: true, force: true });
    },
  };
});

const pid = (n: number) => uuidV5(`embedded-test-${n}`);

function payload(n: number, over: Partial<ChunkPayload> = {}): ChunkPayload {
  return {
    documentId: `doc_${n % 10}`,
    contentHash: `hash_${n % 10}`,
    chunkIndex: n,
    chunkCount: 1000,
    text: `chunk number ${n}`,
    start: n,
    end: n + 10,
    title: 'T',
    source: 's',
    type: 'text',
    acl: n % 3 === 0 ? [] : [`g${n % 3}`],
    ...over,
  };
}

function points(from: number, to: number, dim: number, seed: number): IndexPoint[] {
  const next = rng(seed);
  const out: IndexPoint[] = [];
  for (let n = from; n < to; n++) out.push({ id: pid(n), vector: randomUnit(dim, next), payload: payload(n) });
  return out;
}

describe('embedded index (persistence, recovery, processes)', () => {
  let dir: string;
  const open: EmbeddedIndex[] = [];
  const logLines: string[] = [];
  const logger = createLogger('debug', {}, (line) => logLines.push(line));

  async function openIndex(opts: EmbeddedIndexOptions = {}): Promise<EmbeddedIndex> {
    const index = await createEmbeddedIndex(dir, { logger, ...opts });
    open.push(index);
    return index;
  }
  async function closeIndex(index: EmbeddedIndex): Promise<void> {
    await index.close();
    open.splice(open.indexOf(index), 1);
  }
  const logFile = (collection: string) => path.join(dir, 'collections', collection, 'log.bin');

  beforeEach(async () => {
    dir = await tempDir();
    logLines.length = 0;
  });
  afterEach(async () => {
    for (const index of open.splice(0)) await index.close();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('reopening after close gives identical search results', async () => {
    const dim = 16;
    let index = await openIndex();
    await index.ensureCollection('c', dim);
    await index.upsert('c', points(0, 200, dim, 1));
    await index.upsert('c', points(0, 50, dim, 2)); // replace 50
    await index.deleteWhere('c', { documentId: 'doc_3' });
    await index.setAlias('live', 'c');
    const queries = points(1000, 1010, dim, 3).map((p) => p.vector);
    const before = await Promise.all(queries.map((q) => index.search('c', q, 10, { aclAny: ['g1'] })));
    const countBefore = await index.count('c');
    await closeIndex(index);

    index = await openIndex();
    expect(await index.count('c')).toBe(countBefore);
    expect(await index.getAlias('live')).toBe('c');
    const after = await Promise.all(queries.map((q) => index.search('c', q, 10, { aclAny: ['g1'] })));
    expect(after).toEqual(before);
  });

  it('returns frozen payload copies: callers cannot change stored state', async () => {
    const index = await openIndex();
    await index.ensureCollection('c', 4);
    const input = payload(1, { acl: ['a'] });
    await index.upsert('c', [{ id: pid(1), vector: new Float32Array([1, 0, 0, 0]), payload: input }]);
    input.acl.push('mutated');
    const [got] = await index.retrieve('c', [pid(1)]);
    expect(got.payload.acl).toEqual(['a']);
    expect(() => (got.payload.acl as string[]).push('x')).toThrow(TypeError);
  });

  it('truncates a torn tail on open, keeps earlier records, and appends cleanly after it', async () => {
    const dim = 8;
    let index = await openIndex();
    await index.ensureCollection('c', dim);
    await index.upsert('c', points(0, 30, dim, 4));
    await closeIndex(index);
    const goodSize = (await fsp.stat(logFile('c'))).size;
    await fsp.appendFile(logFile('c'), Buffer.from([0x40, 0x00, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3]));

    index = await openIndex();
    expect(await index.count('c')).toBe(30);
    expect((await fsp.stat(logFile('c'))).size).toBe(goodSize);
    const warn = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.level === 'warn');
    expect(warn).toMatchObject({ msg: expect.stringContaining('torn'), collection: 'c', droppedBytes: 11 });
    await index.upsert('c', points(30, 40, dim, 5));
    await closeIndex(index);

    index = await openIndex();
    expect(await index.count('c')).toBe(40);
  });

  it('recovers from a kill at any byte of the last record (truncation at every offset)', async () => {
    const dim = 4;
    let index = await openIndex();
    await index.ensureCollection('c', dim);
    await index.upsert('c', points(0, 5, dim, 6));
    const sizeBefore = (await fsp.stat(logFile('c'))).size;
    await index.upsert('c', points(5, 6, dim, 7));
    const q = new Float32Array([0.5, 0.5, 0.5, 0.5]);
    await closeIndex(index);
    const full = await fsp.readFile(logFile('c'));
    expect(full.length).toBeGreaterThan(sizeBefore);

    index = await openIndex();
    const expected = (await index.search('c', q, 10)).filter((h) => h.id !== pid(5));
    await closeIndex(index);

    for (let cut = sizeBefore; cut < full.length; cut++) {
      await fsp.writeFile(logFile('c'), full.subarray(0, cut));
      index = await openIndex();
      expect(await index.count('c')).toBe(5);
      expect(await index.search('c', q, 10)).toEqual(expected);
      await closeIndex(index);
      expect((await fsp.stat(logFile('c'))).size).toBe(sizeBefore);
    }
    // A bit flip inside the last record is caught by its CRC the same way.
    const flipped = Buffer.from(full);
    flipped[full.length - 3] ^= 0x10;
    await fsp.writeFile(logFile('c'), flipped);
    index = await openIndex();
    expect(await index.count('c')).toBe(5);
  });

  it('survives a real SIGKILL while a child process is writing', async () => {
    const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'index-embedded.kill-child.ts');
    const proc = spawn(process.execPath, ['--import', 'tsx', child, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let acked = 0;
    let buffered = '';
    await new Promise<void>((resolve, reject) => {
      proc.on('error', reject);
      proc.on('exit', () => resolve());
      proc.stdout.on('data', (data: Buffer) => {
        buffered += data.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) if (line.startsWith('acked ')) acked = Number(line.slice(6));
        if (acked >= 40 && proc.exitCode === null && !proc.killed) proc.kill('SIGKILL');
      });
    });
    expect(acked).toBeGreaterThanOrEqual(40);
    // The killed writer left its lock behind: a new writer takes it over as stale.
    const index = await openIndex();
    const count = await index.count('killed');
    expect(count).toBeGreaterThanOrEqual(acked * 10);
    const seen = new Set<string>();
    await index.scroll('killed', undefined, (id) => seen.add(id));
    expect(seen.size).toBe(count);
  }, 30_000);

  it('compacts a log that outgrows its live points, and survives reopen', async () => {
    const dim = 8;
    let index = await openIndex({ compactMinEntries: 50 });
    await index.ensureCollection('c', dim);
    for (let round = 0; round < 6; round++) await index.upsert('c', points(0, 40, dim, 10 + round));
    const size = (await fsp.stat(logFile('c'))).size;
    const q = points(500, 501, dim, 99)[0].vector;
    const before = await index.search('c', q, 5);
    // 240 upserts of 40 ids crossed 2x live at least once: the log holds far fewer than 240 records.
    expect(size).toBeLessThan(4 * 40 * 200);
    expect(logLines.some((l) => l.includes('compacted collection log'))).toBe(true);
    await closeIndex(index);
    index = await openIndex({ compactMinEntries: 50 });
    expect(await index.count('c')).toBe(40);
    expect(await index.search('c', q, 5)).toEqual(before);
    const names = await fsp.readdir(path.join(dir, 'collections', 'c'));
    expect(names.sort()).toEqual(['log.bin', 'manifest.json']);
  });

  it('refuses a second writer while the first is alive, and takes over a dead one', async () => {
    const index = await openIndex();
    await expect(createEmbeddedIndex(dir, { logger })).rejects.toMatchObject({
      code: 'INDEX_ERROR',
      message: expect.stringContaining('another srag process'),
    });
    await closeIndex(index);
    await fsp.access(path.join(dir, 'LOCK')).then(
      () => expect.fail('lock file should be gone after close'),
      () => undefined,
    );

    // A lock left by a process that has exited is stale.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    await fsp.writeFile(path.join(dir, 'LOCK'), JSON.stringify({ pid: dead, hostname: hostname(), nonce: 'x', startedAt: '' }));
    const taken = await openIndex();
    expect(logLines.some((l) => l.includes('stale index lock'))).toBe(true);
    await closeIndex(taken);

    // A lock held by another live process is not.
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: 'ignore' });
    try {
      await fsp.writeFile(
        path.join(dir, 'LOCK'),
        JSON.stringify({ pid: sleeper.pid, hostname: hostname(), nonce: 'y', startedAt: '' }),
      );
      await expect(createEmbeddedIndex(dir, { logger })).rejects.toMatchObject({ code: 'INDEX_ERROR' });
      // Read-only instances take no lock.
      const reader = await openIndex({ readOnly: true });
      expect(await reader.listCollections()).toEqual([]);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('a read-only instance follows the writer through refresh()', async () => {
    const dim = 8;
    const writer = await openIndex({ compactMinEntries: 20 });
    await writer.ensureCollection('c', dim);
    await writer.upsert('c', points(0, 10, dim, 20));
    const reader = await openIndex({ readOnly: true });
    expect(await reader.count('c')).toBe(10);

    await writer.upsert('c', points(10, 15, dim, 21));
    await writer.deleteWhere('c', { documentId: 'doc_1' });
    expect(await reader.count('c')).toBe(10); // not until refresh
    await reader.refresh();
    expect(await reader.count('c')).toBe(await writer.count('c'));
    const q = points(100, 101, dim, 22)[0].vector;
    expect(await reader.search('c', q, 5)).toEqual(await writer.search('c', q, 5));

    // A half-written frame (writer mid-append) is neither applied nor truncated by the reader.
    const sizeBefore = (await fsp.stat(logFile('c'))).size;
    await fsp.appendFile(logFile('c'), Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 1]));
    await reader.refresh();
    expect(await reader.count('c')).toBe(await writer.count('c'));
    expect((await fsp.stat(logFile('c'))).size).toBe(sizeBefore + 9);
    await fsp.truncate(logFile('c'), sizeBefore);

    // Compaction replaces the file: the reader notices and reloads.
    for (let round = 0; round < 4; round++) await writer.upsert('c', points(0, 15, dim, 30 + round));
    expect(logLines.some((l) => l.includes('compacted collection log'))).toBe(true);
    await reader.refresh();
    expect(await reader.search('c', q, 5)).toEqual(await writer.search('c', q, 5));

    // New collections, aliases, drops and restores show up too.
    await writer.ensureCollection('d', 4);
    await writer.upsert('d', [{ id: pid(1), vector: new Float32Array([0, 1, 0, 0]), payload: payload(1) }]);
    await writer.setAlias('live', 'd');
    await reader.refresh();
    expect(await reader.getAlias('live')).toBe('d');
    expect(await reader.count('live')).toBe(1);
    const snapDir = path.join(dir, 'snaps');
    const snap = await writer.createSnapshot('c', snapDir);
    await writer.restoreSnapshot(snap.path, 'd');
    await reader.refresh();
    expect((await reader.listCollections()).find((c) => c.name === 'd')).toEqual({ name: 'd', dimension: dim, points: 15 });
    await writer.dropCollection('d');
    await reader.refresh();
    expect(await reader.getAlias('live')).toBeUndefined();
    await expect(reader.count('d')).rejects.toMatchObject({ code: 'NOT_FOUND' });

    await expect(reader.upsert('c', points(0, 1, dim, 1))).rejects.toMatchObject({ code: 'INDEX_ERROR' });
    await expect(reader.deleteWhere('c', {})).rejects.toMatchObject({ code: 'INDEX_ERROR' });
    await expect(reader.ensureCollection('e', 4)).rejects.toMatchObject({ code: 'INDEX_ERROR' });
    await reader.ensureCollection('c', dim); // already there: fine
  });

  it('a bit flip inside a snapshot is INDEX_ERROR', async () => {
    const index = await openIndex();
    await index.ensureCollection('c', 8);
    await index.upsert('c', points(0, 20, 8, 40));
    const snap = await index.createSnapshot('c', path.join(dir, 'snaps'));
    const bytes = await fsp.readFile(snap.path);
    for (const at of [3, 40, Math.floor(bytes.length / 2), bytes.length - 2]) {
      const bad = Buffer.from(bytes);
      bad[at] ^= 0x01;
      const file = path.join(dir, `bad-${at}.snapshot`);
      await fsp.writeFile(file, bad);
      await expect(index.restoreSnapshot(file, 'c')).rejects.toMatchObject({ code: 'INDEX_ERROR' });
    }
    await expect(index.restoreSnapshot(path.join(dir, 'missing.snapshot'), 'c')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await index.count('c')).toBe(20);
  });

  it('finishes a restore interrupted between its two renames and clears temp leftovers', async () => {
    let index = await openIndex();
    await index.ensureCollection('c', 4);
    await index.upsert('c', points(0, 3, 4, 50));
    await closeIndex(index);
    const collections = path.join(dir, 'collections');
    await fsp.rename(path.join(collections, 'c'), path.join(collections, '.replaced.abcdef.c'));
    await fsp.mkdir(path.join(collections, '.tmp-restore-1-2'));
    await fsp.writeFile(path.join(collections, '.replaced.abcdef.c', '.tmp-compact-1-2'), 'half a compaction');
    index = await openIndex();
    expect(await index.count('c')).toBe(3);
    expect((await fsp.readdir(collections)).sort()).toEqual(['c']);
    expect((await fsp.readdir(path.join(collections, 'c'))).sort()).toEqual(['log.bin', 'manifest.json']);
  });

  it('quarantines a damaged collection instead of failing the whole index', async () => {
    let index = await openIndex();
    await index.ensureCollection('good', 4);
    await index.ensureCollection('bad', 4);
    await index.upsert('good', points(0, 3, 4, 60));
    await closeIndex(index);
    await fsp.writeFile(logFile('bad'), Buffer.from('not a log at all, no header'));

    index = await openIndex();
    expect((await index.listCollections()).map((c) => c.name)).toEqual(['good']);
    expect(await index.count('good')).toBe(3);
    expect(logLines.some((l) => l.includes('"level":"error"') && l.includes('"collection":"bad"'))).toBe(true);
    await expect(index.ensureCollection('bad', 4)).rejects.toMatchObject({ code: 'INDEX_ERROR' });
    await index.dropCollection('bad');
    await index.ensureCollection('bad', 4);
    expect(await index.count('bad')).toBe(0);
  });

  it('rejects invalid names, ids and vectors with typed errors', async () => {
    const index = await openIndex();
    await expect(index.ensureCollection('../evil', 4)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(index.ensureCollection('ok', 0)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await index.ensureCollection('ok', 2);
    await expect(index.upsert('ok', [{ id: '', vector: new Float32Array([1, 0]), payload: payload(1) }])).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(
      index.upsert('ok', [{ id: pid(1), vector: new Float32Array([NaN, 0]), payload: payload(1) }]),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(index.setAlias('ok', 'ok')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await index.close();
    await expect(index.count('ok')).rejects.toMatchObject({ code: 'INDEX_ERROR' });
  });

  it('search over 10k random 384-d unit vectors matches a naive sort', async () => {
    const dim = 384;
    const n = 10_000;
    const index = await openIndex();
    await index.ensureCollection('big', dim);
    const all = points(0, n, dim, 123);
    for (let i = 0; i < n; i += 2000) await index.upsert('big', all.slice(i, i + 2000));
    const queries = points(n, n + 5, dim, 321).map((p) => p.vector);
    for (const q of queries) {
      const naive = all
        .map((p) => {
          let s = 0;
          for (let j = 0; j < dim; j++) s += p.vector[j] * q[j];
          return { id: p.id, score: s };
        })
        .sort((a, b) => b.score - a.score)
        .slice(0, 10);
      const hits = await index.search('big', q, 10);
      expect(hits.map((h) => h.id)).toEqual(naive.map((x) => x.id));
      hits.forEach((h, i) => expect(h.score).toBeCloseTo(naive[i].score, 5));
      const filtered = await index.search('big', q, 10, { aclAny: ['g1'] });
      const naiveFiltered = all
        .map((p) => ({ p, score: p.vector.reduce((s, x, j) => s + x * q[j], 0) }))
        .filter(({ p }) => p.payload.acl.length === 0 || p.payload.acl.includes('g1'))
        .sort((a, b) => b.score - a.score)
        .slice(0, 10);
      expect(filtered.map((h) => h.id)).toEqual(naiveFiltered.map((x) => x.p.id));
    }
    // Microbenchmark (informative, not asserted: CI machines vary). Reproduce with `npx tsx bench/index.ts`.
    for (let i = 0; i < 20; i++) await index.search('big', queries[i % 5], 10);
    const runs = 100;
    const started = performance.now();
    for (let i = 0; i < runs; i++) await index.search('big', queries[i % 5], 10);
    console.log(`embedded index: ${((performance.now() - started) / runs).toFixed(2)} ms/search over ${n} x ${dim}`);
  }, 60_000);
});
