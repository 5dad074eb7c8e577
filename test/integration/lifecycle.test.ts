// The knowledge base protects itself: snapshots (collection + catalog + alias map, checksummed, copied
// to a backup location and verified there), restore drills that prove the backup restores (identical
// top-10 against live, RTO and RPO recorded, metrics exported), and the Temporal Schedules that run
// them. Real dev server, real workers, the real model, real files from the eval folder.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import type { SnapshotManifest } from '../../src/domain/snapshots.js';
import { configuredPipeline, openIndex, openStore, prepareServingCollection } from '../../src/runtime.js';
import { drillNow, ensureSchedules, listSchedules, snapshotNow, steerSchedule, type LifecycleDeps } from '../../src/services/lifecycle.js';
import { listSnapshots, sha256OfFile } from '../../src/services/snapshots.js';
import { listCatalog } from '../../src/store/catalog.js';
import { postJson, startStackApi, waitForJob } from '../support/http.js';
import { recordHistories } from '../support/histories.js';
import { EVAL_DIR, startStack, withReadIndex, type Stack } from '../support/stack.js';

describe('snapshots, restore drills and their schedules', () => {
  let stack: Stack;
  let api: { url: string; close: () => Promise<void> };
  let deps: LifecycleDeps;
  let backupDir: string;

  const metric = async (name: string) => {
    const text = await (await fetch(`${api.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.split(' ')[1]);
  };
  const points = () =>
    withReadIndex(stack, async (index) => ({ count: await index.count(stack.pipeline.collection), collections: (await index.listCollections()).map((c) => c.name) }));

  beforeAll(async () => {
    backupDir = mkdtempSync(join(tmpdir(), 'srag-backup-'));
    stack = await startStack({ SRAG_BACKUP_DIR: backupDir });
    const record = configuredPipeline(stack.config, stack.embedder);
    await prepareServingCollection(stack.config, record.ref.collection, record.ref.dimension, stack.logger, record);
    await stack.startWorkers();
    api = await startStackApi(stack);
    deps = { client: stack.client, taskQueue: stack.config.temporal.taskQueue, alias: stack.config.collectionPrefix };
    const dir = mkdtempSync(join(tmpdir(), 'srag-lifecycle-'));
    const corpus = readFileSync(join(EVAL_DIR, 'scifact', 'corpus.jsonl'), 'utf8').split('\n').slice(0, 60).join('\n') + '\n';
    writeFileSync(join(dir, 'scifact-60.jsonl'), corpus);
    const job = await postJson<{ jobId: string }>(`${api.url}/v1/ingest`, { sources: [{ path: join(dir, 'scifact-60.jsonl') }] });
    expect((await waitForJob(api.url, job.body.jobId)).documents).toMatchObject({ total: 60, done: 60, failed: 0 });
    const restricted = await postJson<{ jobId: string }>(`${api.url}/v1/ingest`, { sources: [{ text: 'Payroll closes on the 25th.', title: 'Payroll' }], acl: ['hr'] });
    await waitForJob(api.url, restricted.body.jobId);
  }, 600_000);

  afterAll(async () => {
    await recordHistories(stack, stack.client, {
      snapshotIndex: `WorkflowType = 'snapshotIndex'`,
      'restoreDrill-passed': `WorkflowType = 'restoreDrill' AND ExecutionStatus = 'Completed'`,
      'restoreDrill-failed': `WorkflowType = 'restoreDrill' AND ExecutionStatus = 'Failed'`,
      restoreIndex: `WorkflowType = 'restoreIndex'`,
    });
    await api?.close();
    await stack?.stop();
  });

  it('snapshots the served collection with the catalog and alias map, copies it to the backup location and verifies it', async () => {
    const { result } = await snapshotNow(deps);
    const live = await points();
    expect(result).toMatchObject({ collection: stack.pipeline.collection, points: live.count, backedUp: true });
    const dir = join(backupDir, result.snapshotId);
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as SnapshotManifest;
    expect(manifest.aliases).toEqual({ [stack.config.collectionPrefix]: stack.pipeline.collection });
    expect(manifest.pipeline?.version).toBe(stack.pipeline.version);
    expect(manifest.catalog.records).toBe((await listCatalog(openStore(stack.config))).length);
    // Qdrant's snapshot comes with its checksum file, which the snapshot keeps too.
    expect(manifest.files.map((f) => f.name).filter((n) => !n.endsWith('.sha256'))).toEqual(['catalog.jsonl', 'collection.snapshot', 'pipelines.json']);
    for (const f of manifest.files) expect(await sha256OfFile(join(dir, f.name))).toBe(f.sha256);
    const listed = await listSnapshots(stack.config.lifecycle);
    expect(listed[0]).toMatchObject({ id: result.snapshotId, backedUp: true, local: true, points: live.count });
  }, 300_000);

  it('a drill restores the newest backup into scratch, finds identical top-10 against live, records RTO and RPO, and drops the scratch copy', async () => {
    const { result: report } = await drillNow(deps);
    console.log(`drill: ${report.points} points, RTO ${report.rtoSeconds.toFixed(2)} s, RPO ${report.rpoSeconds.toFixed(1)} s, top-10 ${report.top10Identical}/${report.probes}`);
    expect(report).toMatchObject({ passed: true, liveMoved: false, probes: 20, top10Identical: 20 });
    expect(report.rtoSeconds).toBeGreaterThan(0);
    expect(report.rpoSeconds).toBeGreaterThanOrEqual(0);
    expect((await points()).collections).not.toContain(report.scratch);
    expect(await metric('srag_restore_drill_last_passed')).toBe(1);
    expect(await metric('srag_restore_drill_last_success_timestamp_seconds')).toBeCloseTo(Date.parse(report.finishedAt) / 1000, 0);
    expect(await metric('srag_restore_drill_rto_seconds')).toBeCloseTo(report.rtoSeconds, 3);
  }, 300_000);

  it('when live moved on since the snapshot, the drill passes within the documented overlap tolerance', async () => {
    const more = await postJson<{ jobId: string }>(`${api.url}/v1/ingest`, { sources: [{ text: 'The archive moves to the north wing in May.', title: 'Archive move' }] });
    await waitForJob(api.url, more.body.jobId);
    const { result: report } = await drillNow(deps);
    expect(report.liveMoved).toBe(true);
    expect(report.meanOverlap).toBeGreaterThanOrEqual(report.tolerance);
    expect(report.passed).toBe(true);
  }, 300_000);

  it('schedules are created idempotently, steerable, and a triggered run carries its search attributes', async () => {
    await ensureSchedules(deps, { snapshot: '24h', drill: '7d' }, stack.logger);
    await ensureSchedules(deps, { snapshot: '24h', drill: '7d' }, stack.logger);
    let schedules = await listSchedules(deps);
    expect(schedules.map((s) => [s.kind, s.paused])).toEqual([
      ['snapshot', false],
      ['drill', false],
    ]);
    expect(schedules.find((s) => s.kind === 'drill')?.every).toBe(`${7 * 24 * 3600}s`);
    await steerSchedule(deps, 'snapshot', 'pause');
    expect((await listSchedules(deps)).find((s) => s.kind === 'snapshot')?.paused).toBe(true);
    await steerSchedule(deps, 'snapshot', 'resume');
    await steerSchedule(deps, 'drill', 'trigger');
    // The triggered run shows up under its search attributes (visibility is eventually consistent).
    await expect
      .poll(
        async () => {
          const runs: string[] = [];
          for await (const wf of stack.client.workflow.list({ query: `SragKind = 'restoreDrill' AND SragOutcome = 'passed'` })) runs.push(wf.workflowId);
          // A scheduled run's id is the schedule's workflow id plus its time; manual runs say so.
          return runs.some((id) => id.startsWith(`srag-${deps.alias}-drill-`) && !id.includes('-manual-'));
        },
        { timeout: 120_000, interval: 1000 },
      )
      .toBe(true);
    schedules = await listSchedules(deps);
    expect(schedules.find((s) => s.kind === 'drill')?.lastRun?.workflowId).toMatch(new RegExp(`^srag-${deps.alias}-drill`));
    // Off in config: the schedule goes away.
    await ensureSchedules(deps, { snapshot: '24h' }, stack.logger);
    expect((await listSchedules(deps)).map((s) => s.kind)).toEqual(['snapshot']);
  }, 300_000);

  it('srag restore puts a backup into a new collection and switches the alias; search, documents and ingestion carry on there', async () => {
    const cli = (...argv: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/cli/main.ts'), ...argv], { env: stack.env, cwd: PROJECT_ROOT, timeout: 300_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 2) : 0, stdout, stderr }),
        ),
      );
    const listed = await cli('snapshots', 'list', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    const [newest] = (JSON.parse(listed.stdout) as { snapshots: { id: string; points: number }[] }).snapshots;
    const before = await postJson<{ hits: { documentId: string }[] }>(`${api.url}/v1/search`, { query: 'payroll closes', k: 3, mode: 'dense' });
    const docsBefore = ((await (await fetch(`${api.url}/v1/documents`)).json()) as { documents: unknown[] }).documents.length;
    const run = await cli('restore', newest.id, '--json');
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { collection: string; points: number; previous: string; catchUp?: { documents: number; done: number } };
    expect(report.previous).toBe(stack.pipeline.collection);
    expect(report.collection).toMatch(new RegExp(`^${stack.pipeline.collection}_r\\d{14}$`));
    expect(report.points).toBe(newest.points);
    const index = await openIndex(stack.config, { readOnly: true, logger: stack.logger });
    expect(await index.getAlias(stack.config.collectionPrefix)).toBe(report.collection);
    await index.close();
    // The API follows the alias: same answers, the catalog still lists the documents the snapshot held.
    const after = await postJson<{ hits: { documentId: string }[] }>(`${api.url}/v1/search`, { query: 'payroll closes', k: 3, mode: 'dense' });
    expect(after.body.hits[0].documentId).toBe(before.body.hits[0].documentId);
    const docsAfter = ((await (await fetch(`${api.url}/v1/documents`)).json()) as { documents: unknown[] }).documents.length;
    // The document added after the snapshot was not in it: the catch-up from the store re-ingested it.
    expect(report.catchUp).toMatchObject({ documents: 1, done: 1 });
    expect(docsAfter).toBe(docsBefore);
    const archive = await postJson<{ hits: { title: string }[] }>(`${api.url}/v1/search`, { query: 'archive moves to the north wing', k: 1 });
    expect(archive.body.hits[0].title).toBe('Archive move');
    const added = await postJson<{ jobId: string }>(`${api.url}/v1/ingest`, { sources: [{ text: 'Restored indexes take new documents at once.', title: 'After restore' }] });
    expect((await waitForJob(api.url, added.body.jobId)).documents).toMatchObject({ done: 1 });
    const found = await postJson<{ hits: { title: string }[] }>(`${api.url}/v1/search`, { query: 'restored indexes take new documents', k: 1 });
    expect(found.body.hits[0].title).toBe('After restore');
  }, 300_000);

  it('one corrupted byte in the backup copy fails the drill loudly, with the file named, and the metrics show it', async () => {
    const [newest] = await listSnapshots(stack.config.lifecycle);
    const file = join(backupDir, newest.id, 'collection.snapshot');
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    writeFileSync(file, bytes);
    const lastSuccess = await metric('srag_restore_drill_last_success_timestamp_seconds');
    await expect(drillNow(deps)).rejects.toThrow(/collection\.snapshot does not match its sha256/);
    expect(await metric('srag_restore_drill_last_passed')).toBe(0);
    expect(await metric('srag_restore_drill_last_success_timestamp_seconds')).toBe(lastSuccess);
    // Live is untouched and no scratch copy is left behind.
    const after = await points();
    expect(after.collections.filter((c) => c.endsWith('_drill'))).toEqual([]);
  }, 300_000);
});
