// `srag doctor` as an operator runs it: the real CLI in a child process, on a real setup (a Temporal
// dev server, workers, the real model, an ingested data dir with a snapshot and schedules), then with
// one thing broken at a time: no model, Temporal down, a data dir this user cannot write.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import { configuredPipeline, prepareServingCollection } from '../../src/runtime.js';
import type { CheckResult } from '../../src/services/doctor/check.js';
import { ensureSchedules, snapshotNow, type LifecycleDeps } from '../../src/services/lifecycle.js';
import { postJson, startStackApi, waitForJob } from '../support/http.js';
import { freePort, startStack, type Stack } from '../support/stack.js';

const OUTPUTS_FILE = process.env.SRAG_DOCTOR_OUTPUTS ?? '/tmp/doctor-outputs.txt';
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runDoctor(env: Record<string, string | undefined>, args: string[], user?: { uid: number; gid: number }): Promise<Run> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join('src', 'cli', 'main.ts'), 'doctor', ...args], {
      cwd: PROJECT_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(user ?? {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}

/** The JSON report (asserted on) and the human text (kept for the record), from two runs. */
async function doctor(env: Record<string, string | undefined>, user?: { uid: number; gid: number }) {
  const json = await runDoctor(env, ['--json'], user);
  let report: { ok: boolean; checks: CheckResult[] };
  try {
    report = JSON.parse(json.stdout) as typeof report;
  } catch {
    throw new Error(`srag doctor --json printed no JSON (exit ${json.code}):\n${json.stdout}\n${json.stderr}`);
  }
  const human = await runDoctor(env, [], user);
  const check = (name: string) => {
    const found = report.checks.find((c) => c.name === name);
    if (!found) throw new Error(`no ${name} check in ${json.stdout}`);
    return found;
  };
  return { code: json.code, report, check, human };
}

/** Whether `nobody` can run the CLI from this checkout (reads the repo, node_modules and the model). */
function nobodyCanRunCli(): boolean {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', `import('./src/cli/doctor.ts').then(() => process.exit(0))`], {
    cwd: PROJECT_ROOT,
    uid: NOBODY,
    gid: NOBODY,
    env: { PATH: process.env.PATH, HOME: tmpdir() },
    timeout: 60_000,
  });
  return r.status === 0;
}

describe('srag doctor, the real CLI', () => {
  let stack: Stack;
  let api: { url: string; close: () => Promise<void> };
  let env: Record<string, string | undefined>;
  const dirs: string[] = [];
  const outputs: string[] = [];
  const record = (title: string, run: { code: number | null; stdout: string }) => outputs.push(`## ${title} (exit ${run.code})\n${run.stdout}`);

  beforeAll(async () => {
    const backupDir = mkdtempSync(join(tmpdir(), 'srag-doctor-backup-'));
    dirs.push(backupDir);
    stack = await startStack({ SRAG_BACKUP_DIR: backupDir });
    const pipeline = configuredPipeline(stack.config, stack.embedder);
    await prepareServingCollection(stack.config, pipeline.ref.collection, pipeline.ref.dimension, stack.logger, pipeline);
    await stack.startWorkers();
    api = await startStackApi(stack);
    const job = await postJson<{ jobId: string }>(`${api.url}/v1/ingest`, {
      sources: [
        { text: 'The north wing archive opens at nine and closes at five.', title: 'Archive hours' },
        { text: 'Expense reports are due on the fifth working day of each month.', title: 'Expenses' },
      ],
    });
    expect((await waitForJob(api.url, job.body.jobId)).documents).toMatchObject({ total: 2, done: 2, failed: 0 });
    const deps: LifecycleDeps = { client: stack.client, taskQueue: stack.config.temporal.taskQueue, alias: stack.config.collectionPrefix };
    await snapshotNow(deps);
    await ensureSchedules(deps, { snapshot: '24h', drill: '168h' }, stack.logger);
    env = {
      ...stack.env,
      // The API of this setup is running: its port is in use by srag, which is fine.
      SRAG_PORT: new URL(api.url).port,
      // Away from 9464, which another suite's workers may hold while this one runs.
      SRAG_METRICS_PORT: String(await freePort()),
    };
  }, 600_000);

  afterAll(async () => {
    if (outputs.length > 0) writeFileSync(OUTPUTS_FILE, outputs.join('\n'));
    await api?.close();
    await stack?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('a healthy setup: every check ok, exit 0', async () => {
    const d = await doctor(env);
    record('healthy setup', d.human);
    expect(d.code, JSON.stringify(d.report, null, 2)).toBe(0);
    expect(d.report.ok).toBe(true);
    // Disk space is the machine's: anything but a failure (the thresholds are unit-tested).
    for (const c of d.report.checks) expect([c.name, c.name.startsWith('disk:') && c.status === 'warn' ? 'ok' : c.status]).toEqual([c.name, 'ok']);
    expect(d.check('port:api').detail).toContain('in use by a running srag API');
    expect(d.check('model').detail).toContain('bge-small-en-v1.5-q (384 d)');
    expect(d.check('temporal').detail).toContain(`serves namespace ${stack.config.temporal.namespace}`);
    expect(d.check('index').detail).toMatch(new RegExp(`alias ${stack.config.collectionPrefix} serves ${stack.pipeline.collection}: \\d+ points`));
    expect(d.check('snapshots').detail).toMatch(/newest verified snapshot snap-\S+ \(\d+ points/);
    expect(d.check('schedules').detail).toMatch(/-snapshot active, next run \S+; \S+-drill active, next run/);
    expect(d.human.code).toBe(0);
    expect(d.human.stdout).toMatch(/^srag doctor: ready \(/m);
  }, 120_000);

  it('a missing model: the model check fails with the fix, exit 1', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'srag-doctor-model-'));
    dirs.push(empty);
    const d = await doctor({ ...env, SRAG_MODEL_DIR: empty });
    record('missing model (SRAG_MODEL_DIR is an empty directory)', d.human);
    expect(d.code).toBe(1);
    expect(d.check('model')).toMatchObject({ status: 'fail', detail: expect.stringContaining(`no *.onnx file in embedding model directory ${empty}`), fix: expect.stringMatching(/npm run setup.*SRAG_MODEL_DIR/) });
    // Only the model: the rest of the setup still checks out.
    expect(d.report.checks.filter((c) => c.status === 'fail').map((c) => c.name)).toEqual(['model']);
    expect(d.human.stdout).toMatch(/^FAIL {2}model {2,}.*\n {8,}fix: run `npm run setup`/m);
  }, 120_000);

  it('Temporal down: the temporal check fails fast with the fix, the schedules are skipped, exit 1', async () => {
    const closed = await freePort();
    const d = await doctor({ ...env, TEMPORAL_ADDRESS: `127.0.0.1:${closed}` });
    record(`Temporal down (TEMPORAL_ADDRESS=127.0.0.1:${closed}, nothing listening)`, d.human);
    expect(d.code).toBe(1);
    const t = d.check('temporal');
    expect(t).toMatchObject({ status: 'fail', detail: expect.stringContaining(`Temporal at 127.0.0.1:${closed} is not reachable`), fix: expect.stringContaining('TEMPORAL_ADDRESS') });
    // Refused at once: no waiting out a gRPC connect deadline (that bound, 4 s, is unit-tested).
    const ms = Number(/checked in (\d+) ms/.exec(t.detail)?.[1]);
    expect(ms).toBeLessThan(2_000);
    expect(d.check('schedules').status).toBe('skipped');
    expect(d.report.checks.filter((c) => c.status === 'fail').map((c) => c.name)).toEqual(['temporal']);
  }, 120_000);

  it('a data dir this user cannot write: the data-dir check fails, exit 1', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'srag-doctor-perm-'));
    dirs.push(parent);
    let dataDir: string;
    let user: { uid: number; gid: number } | undefined;
    let title: string;
    if (isRoot && nobodyCanRunCli()) {
      // Root ignores mode bits, so the doctor runs as nobody against a directory root owns (0755).
      chmodSync(parent, 0o755);
      dataDir = join(parent, 'data');
      mkdirSync(dataDir, { mode: 0o755 });
      chmodSync(dataDir, 0o755);
      user = { uid: NOBODY, gid: NOBODY };
      title = `unwritable data dir (run as uid ${NOBODY}; ${dataDir} owned by root, mode 0755)`;
    } else if (isRoot) {
      // nobody cannot read this checkout: a path under a regular file cannot be created, even by root.
      writeFileSync(join(parent, 'file'), 'not a directory\n');
      dataDir = join(parent, 'file', 'data');
      title = `unwritable data dir (${dataDir}: under a regular file)`;
    } else {
      dataDir = join(parent, 'data');
      mkdirSync(dataDir, { mode: 0o500 });
      chmodSync(dataDir, 0o500);
      title = `unwritable data dir (${dataDir} mode 0500)`;
    }
    const d = await doctor({ ...env, SRAG_DATA_DIR: dataDir, SRAG_BACKUP_DIR: undefined, HOME: tmpdir() }, user);
    record(title, d.human);
    expect(d.code).toBe(1);
    expect(d.check('data-dir')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(user || !isRoot ? /is not writable by this process \(EACCES/ : /cannot be created: .* is a file, not a directory/),
      fix: expect.stringContaining('SRAG_DATA_DIR'),
    });
  }, 120_000);
});
