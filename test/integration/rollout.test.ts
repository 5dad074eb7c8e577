// Patch rollouts end to end with two real models (bge-small-en-v1.5 and all-MiniLM-L6-v2): the candidate
// is built from the store, gated on a real SciFact slice against the served collection, switched (or
// refused when worse), a failed post-switch check rolls back, a human can abort before the switch, and
// a query loop running throughout never sees a failed query.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { PatchWindow, RolloutState } from '../../src/domain/rollout.js';
import { createEmbedder } from '../../src/embed/factory.js';
import { loadBeirSplit } from '../../src/eval/beir.js';
import { configuredPipeline, prepareServingCollection } from '../../src/runtime.js';
import { decideRollout, rolloutStatus, startRollout, waitForRollout, type LifecycleDeps } from '../../src/services/lifecycle.js';
import type { PipelineRecord } from '../../src/store/pipelines.js';
import { postJson, startStackApi, waitForJob } from '../support/http.js';
import { writeScifactSlice } from '../support/scifact-slice.js';
import { recordHistories } from '../support/histories.js';
import { startStack, withReadIndex, type Stack } from '../support/stack.js';

describe('gated patch rollouts with rollback', () => {
  let stack: Stack;
  let api: { url: string; close: () => Promise<void> };
  let deps: LifecycleDeps;
  let recordA: PipelineRecord;
  let recordB: PipelineRecord;
  let slice: { dir: string; corpus: string; documents: number };
  const loop = { running: true, queries: 0, failed: [] as string[], done: Promise.resolve() };

  const served = () =>
    withReadIndex(stack, async (index) => ({ alias: await index.getAlias(stack.config.collectionPrefix), collections: (await index.listCollections()).map((c) => c.name) }));
  const rollout = (candidate: PipelineRecord, extra: { tolerance?: number; approval?: boolean; rehearseRollback?: boolean; window?: PatchWindow } = {}) =>
    startRollout(deps, {
      candidate,
      gate: { evalSet: { dir: slice.dir, split: 'train' }, tolerance: { ndcg10: extra.tolerance ?? 0.05, recall100: extra.tolerance ?? 0.05 } },
      approval: extra.approval,
      rehearseRollback: extra.rehearseRollback,
      window: extra.window,
      embedTaskQueue: stack.config.temporal.embedTaskQueue,
      concurrency: 2,
    });
  const report = (label: string, s: RolloutState) =>
    console.log(`rollout ${label}: ${s.phase}; gate served nDCG@10 ${s.gate?.served.ndcg10.toFixed(4)} / R@100 ${s.gate?.served.recall100.toFixed(4)}, candidate ${s.gate?.candidate.ndcg10.toFixed(4)} / ${s.gate?.candidate.recall100.toFixed(4)}; build ${s.build?.done}/${s.build?.documents} docs, ${s.build?.chunks} chunks${s.note ? `; ${s.note}` : ''}`);

  beforeAll(async () => {
    stack = await startStack();
    slice = writeScifactSlice(mkdtempSync(join(tmpdir(), 'srag-rollout-slice-')), 40, 200);
    recordA = configuredPipeline(stack.config, stack.embedder);
    await prepareServingCollection(stack.config, recordA.ref.collection, recordA.ref.dimension, stack.logger, recordA);
    const configB = loadConfig({ ...stack.env, SRAG_MODEL_DIR: join(stack.config.cacheDir, 'models', 'all-minilm-l6-v2-q') });
    const embedderB = await createEmbedder(configB.embedding, stack.logger);
    recordB = configuredPipeline(configB, embedderB);
    await embedderB.close();
    await stack.startWorkers();
    api = await startStackApi(stack);
    deps = { client: stack.client, taskQueue: stack.config.temporal.taskQueue, alias: stack.config.collectionPrefix };
    const job = await postJson<{ jobId: string }>(`${api.url}/v1/ingest`, { sources: [{ path: slice.corpus }] });
    expect((await waitForJob(api.url, job.body.jobId)).documents).toMatchObject({ total: slice.documents, done: slice.documents, failed: 0 });
    // Queries run against the API from here to the end of the suite; none may fail.
    const texts = loadBeirSplit(slice.dir, 'train').queries.map((q) => q.text);
    loop.done = (async () => {
      while (loop.running) {
        const text = texts[loop.queries % texts.length];
        loop.queries += 1;
        try {
          const res = await postJson<{ hits: unknown[] }>(`${api.url}/v1/search`, { query: text, k: 5 });
          if (res.status !== 200 || res.body.hits.length === 0) loop.failed.push(`${res.status}: ${JSON.stringify(res.body).slice(0, 200)}`);
        } catch (err) {
          loop.failed.push(String(err));
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
  }, 600_000);

  afterAll(async () => {
    loop.running = false;
    await loop.done;
    await recordHistories(stack, stack.client, {
      'rolloutPipeline-rejected': `WorkflowType = 'rolloutPipeline' AND SragOutcome = 'rejected'`,
      'rolloutPipeline-done': `WorkflowType = 'rolloutPipeline' AND SragOutcome = 'done'`,
      'rolloutPipeline-rolled-back': `WorkflowType = 'rolloutPipeline' AND SragOutcome = 'rolled_back'`,
      'rolloutPipeline-aborted': `WorkflowType = 'rolloutPipeline' AND SragOutcome = 'aborted'`,
    });
    await api?.close();
    await stack?.stop();
  });

  it('refuses a worse candidate: model B scores below A on the eval set by more than the tolerance; A keeps serving', async () => {
    await rollout(recordB, { tolerance: 0.01 });
    const state = await waitForRollout(deps);
    report('A -> B, tolerance 0.01', state);
    expect(state.phase).toBe('rejected');
    expect(state.gate?.pass).toBe(false);
    expect(state.gate!.candidate.ndcg10).toBeLessThan(state.gate!.served.ndcg10 - 0.01);
    expect(state.note).toContain('worse than the served collection');
    expect((await served()).alias).toBe(recordA.ref.collection);
  }, 900_000);

  it('within the tolerance it switches: B built from the store, gated against A, served; A dropped after the grace', async () => {
    await rollout(recordB, { tolerance: 0.05 });
    const state = await waitForRollout(deps);
    report('A -> B, tolerance 0.05', state);
    expect(state).toMatchObject({ phase: 'done', previous: recordA.ref.collection, candidate: { collection: recordB.ref.collection } });
    // Built by the refused rollout already: this build re-embeds nothing.
    expect(state.build).toMatchObject({ documents: slice.documents, failed: 0 });
    expect(state.gate?.pass).toBe(true);
    expect(state.gate?.served.queries).toBe(40);
    const now = await served();
    expect(now.alias).toBe(recordB.ref.collection);
    expect(now.collections).not.toContain(recordA.ref.collection);
    // The API now embeds queries with B (its readiness says B is served while A is configured).
    const ready = (await (await fetch(`${api.url}/readyz`)).json()) as { checks: Record<string, { detail?: string }> };
    expect(ready.checks.pipeline.detail).toContain(`served ${recordB.ref.version} (${recordB.ref.modelId})`);
  }, 900_000);

  it('a failed post-switch check switches back automatically (rehearsed rollback)', async () => {
    await rollout(recordA, { tolerance: 0.5, rehearseRollback: true });
    await expect(waitForRollout(deps)).rejects.toThrow(/post-switch check failed, switched back to/);
    const status = await rolloutStatus(deps);
    expect(status.status).toBe('failed');
    expect(status.failure).toContain('rehearsal');
    expect((await served()).alias).toBe(recordB.ref.collection);
  }, 900_000);

  it('with approval required it waits after the gate; abort keeps B and nothing switches', async () => {
    await rollout(recordA, { tolerance: 0.5, approval: true });
    await expect.poll(async () => (await rolloutStatus(deps)).state?.phase, { timeout: 600_000, interval: 1000 }).toBe('awaiting_approval');
    await expect(decideRollout(deps, 'rollback')).rejects.toThrow(/only while the previous collection is kept/);
    expect(await decideRollout(deps, 'abort')).toBe('aborted');
    const state = await waitForRollout(deps);
    expect(state.phase).toBe('aborted');
    expect((await served()).alias).toBe(recordB.ref.collection);
  }, 900_000);

  it('outside its patch window it waits after the gate without switching; abort ends it there', async () => {
    // A one-hour window that is closed now (it opens in 12 hours).
    const hour = (new Date().getUTCHours() + 12) % 24;
    await rollout(recordA, { tolerance: 0.5, window: { startHour: hour, endHour: (hour + 1) % 24 } });
    await expect.poll(async () => (await rolloutStatus(deps)).state?.phase, { timeout: 600_000, interval: 1000 }).toBe('awaiting_window');
    const waiting = (await rolloutStatus(deps)).state!;
    expect(Date.parse(waiting.windowOpens!) - Date.now()).toBeGreaterThan(10 * 3_600_000);
    expect((await served()).alias).toBe(recordB.ref.collection);
    expect(await decideRollout(deps, 'abort')).toBe('aborted');
    expect((await waitForRollout(deps)).note).toContain('patch window');
    expect((await served()).alias).toBe(recordB.ref.collection);
  }, 900_000);

  it('no query failed while the rollouts ran', () => {
    console.log(`query loop: ${loop.queries} queries, ${loop.failed.length} failed`);
    expect(loop.queries).toBeGreaterThan(50);
    expect(loop.failed).toEqual([]);
  });
});
