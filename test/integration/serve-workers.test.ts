// The process layout of deploy/ (compose and Kubernetes), run here without containers: a Temporal
// server, then `srag worker ingest`, `srag worker embed` and `srag serve` as separate processes, as the
// containers run them. The API becomes ready, a job runs through both workers, a question is answered,
// every process serves its metrics, and SIGTERM (what a container runtime sends) stops each with exit 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import { postJson, waitForJob } from '../support/http.js';
import { freePort, startStack, type Stack } from '../support/stack.js';

interface Proc {
  name: string;
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(name: string, args: string[], env: Record<string, string | undefined>): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', join('src', 'cli', 'main.ts'), ...args], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout?.on('data', (d: Buffer) => (text += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => (text += d.toString('utf8')));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { name, child, output: () => text, exited };
}

async function waitFor(proc: Proc, pattern: RegExp, timeoutMs = 300_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  let done = false;
  void proc.exited.then(() => (done = true));
  for (;;) {
    const m = pattern.exec(proc.output());
    if (m) return m;
    if (done) throw new Error(`${proc.name} exited before ${pattern}:\n${proc.output()}`);
    if (Date.now() > deadline) throw new Error(`${proc.name}: no ${pattern} within ${timeoutMs} ms:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('srag serve and srag worker as separate processes (the container layout)', () => {
  let stack: Stack;
  const procs: Proc[] = [];
  let api = '';
  const metricsPorts: Record<string, number> = {};
  let serveEnv: Record<string, string | undefined> = {};

  beforeAll(async () => {
    stack = await startStack();
    const apiPort = await freePort();
    const env = { ...stack.env, SRAG_PORT: String(apiPort), SRAG_METRICS_PORT: '0', SRAG_LOG_LEVEL: 'info' };
    // On a fresh embedded data dir the API comes first: it creates the serving collection and alias.
    const serve = start('serve', ['serve'], env);
    procs.push(serve);
    api = (await waitFor(serve, /API\s+(http:\/\/127\.0\.0\.1:\d+)/))[1];
    for (const kind of ['ingest', 'embed']) {
      const p = start(`worker ${kind}`, ['worker', kind], env);
      procs.push(p);
      metricsPorts[kind] = Number((await waitFor(p, /worker is up \(metrics http:\/\/127\.0\.0\.1:(\d+)\/metrics\)/))[1]);
    }
    serveEnv = env;
  }, 600_000);

  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await stack?.stop();
  });

  it('is ready, ingests through both workers and answers', async () => {
    const ready = await fetch(`${api}/readyz`);
    expect(ready.status).toBe(200);
    const res = await postJson<{ jobId: string }>(`${api}/v1/ingest`, {
      sources: [{ text: 'Each speaker may address the board for three (3) minutes.', title: 'board rules' }],
    });
    expect(res.status).toBe(202);
    const report = await waitForJob(api, res.body.jobId);
    expect(report.status).toBe('completed');
    expect(report.documents.done).toBe(1);
    const answer = await postJson<{ answer: string; citations: unknown[] }>(`${api}/v1/query`, { question: 'How long may a speaker address the board?' });
    expect(answer.status).toBe(200);
    expect(answer.body.citations.length).toBeGreaterThan(0);
  });

  it('serves metrics from every process', async () => {
    expect(await (await fetch(`${api}/metrics`)).text()).toContain('srag_task_queue_pollers');
    expect(await (await fetch(`http://127.0.0.1:${metricsPorts.ingest}/metrics`)).text()).toContain('srag_ingest_documents_total{outcome="indexed"} 1');
    expect(await (await fetch(`http://127.0.0.1:${metricsPorts.embed}/metrics`)).text()).toContain('srag_embedded_texts_total 1');
  });

  it('restarts the API while the ingest worker holds the embedded index, and serves what was indexed', async () => {
    const old = procs[0];
    old.child.kill('SIGTERM');
    expect(await old.exited, old.output()).toBe(0);
    const again = start('serve (restarted)', ['serve'], serveEnv);
    procs[0] = again;
    api = (await waitFor(again, /API\s+(http:\/\/127\.0\.0\.1:\d+)/))[1];
    expect(again.output()).toContain('held by its writer');
    const hits = await postJson<{ hits: { title: string }[] }>(`${api}/v1/search`, { query: 'speaker minutes' });
    expect(hits.body.hits[0]?.title).toBe('board rules');
  });

  it('refuses to serve without TEMPORAL_ADDRESS, with the reason', async () => {
    const p = start('serve without Temporal', ['serve'], { ...stack.env, TEMPORAL_ADDRESS: '', SRAG_PORT: '0' });
    expect(await p.exited).not.toBe(0);
    expect(p.output()).toMatch(/srag serve .* needs TEMPORAL_ADDRESS/);
  });

  it('stops each process on SIGTERM with exit 0', async () => {
    // The API first (no new work), then the workers drain.
    for (const p of [...procs].reverse()) {
      p.child.kill('SIGTERM');
      expect(await p.exited, `${p.name}:\n${p.output()}`).toBe(0);
    }
  }, 180_000);
});
