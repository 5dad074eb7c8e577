// `srag up` as an operator runs it: started from a terminal, stopped with Ctrl-C. The terminal sends
// SIGINT to the whole process group (srag, its workers), so every process gets it at once; the stop
// must still be orderly: exit 0, no stack traces, and the Temporal dev server gone with it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import { freePort } from '../support/stack.js';

const START_TIMEOUT_MS = 300_000;
const STOP_TIMEOUT_MS = 120_000;

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolveOpen) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolveOpen(true);
    });
    socket.once('error', () => resolveOpen(false));
  });
}

/** Processes whose command line has all of `parts` (the dev server runs in its own process group). */
function pidsWith(parts: string[]): number[] {
  const out: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(join('/proc', entry, 'cmdline'), 'utf8').split('\0');
      if (parts.every((p) => args.includes(p))) out.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** Signals a process group; one that has already gone is fine. */
function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

interface Up {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  temporalPort: number;
}

function startUp(env: Record<string, string | undefined>, temporalPort: number): Up {
  // Its own process group, as a shell gives a foreground job: -pid then reaches srag and its workers.
  const child = spawn(process.execPath, ['--import', 'tsx', join('src', 'cli', 'main.ts'), 'up'], {
    cwd: PROJECT_ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (d: Buffer) => (text += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => (text += d.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  return { child, output: () => text, exited, temporalPort };
}

/** Resolves once `pattern` shows in the output; rejects if the process exits first or time runs out. */
async function waitForOutput(up: Up, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void up.exited.then(() => (exited = true));
  while (!pattern.test(up.output())) {
    if (exited) throw new Error(`srag up exited before ${pattern}:\n${up.output()}`);
    if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${up.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('srag up lifecycle', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it(
    'starts, reports ready, and stops on Ctrl-C with exit 0, no stack traces and Temporal gone',
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'srag-up-'));
      const [temporalPort, uiPort, apiPort] = [await freePort(), await freePort(), await freePort()];
      const env: Record<string, string | undefined> = {
        ...process.env,
        SRAG_DATA_DIR: dataDir,
        SRAG_TEMPORAL_PORT: String(temporalPort),
        SRAG_TEMPORAL_UI_PORT: String(uiPort),
        SRAG_PORT: String(apiPort),
        SRAG_METRICS_PORT: '0',
        SRAG_HOST: '127.0.0.1',
        SRAG_LOG_LEVEL: 'info',
        SRAG_TASK_QUEUE: `up-ingest-${temporalPort}`,
        SRAG_EMBED_TASK_QUEUE: `up-embed-${temporalPort}`,
        // Own collection names, should QDRANT_URL point this run at a shared server.
        SRAG_COLLECTION_PREFIX: `up${temporalPort}`,
      };
      // srag up starts its own Temporal only without TEMPORAL_ADDRESS (and speaks plain gRPC to it).
      for (const k of Object.keys(env)) if (k.startsWith('TEMPORAL_') && k !== 'TEMPORAL_CLI_PATH') delete env[k];
      const up = startUp(env, temporalPort);
      cleanups.push(async () => {
        // Whatever happened above: nothing of this test keeps running.
        if (up.child.exitCode === null && up.child.signalCode === null) {
          signalGroup(up.child.pid, 'SIGKILL');
          await up.exited;
        }
        for (const pid of pidsWith(['start-dev', '--port', String(temporalPort)])) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
        rmSync(dataDir, { recursive: true, force: true });
      });

      await waitForOutput(up, /^srag is up$/m, START_TIMEOUT_MS);
      const ready = await fetch(`http://127.0.0.1:${apiPort}/readyz`);
      const body = await ready.text();
      expect(ready.status, body).toBe(200);
      expect(await portOpen(temporalPort)).toBe(true);
      // srag up created the lifecycle schedules; the CLI lists them from the same Temporal.
      const schedules = await schedulesOf(env);
      expect(schedules.map((x) => [x.kind, x.paused])).toEqual([
        ['snapshot', false],
        ['drill', false],
      ]);

      // Ctrl-C, then Ctrl-C again while it stops (an impatient operator).
      signalGroup(up.child.pid, 'SIGINT');
      await new Promise((r) => setTimeout(r, 100));
      signalGroup(up.child.pid, 'SIGINT');
      const deadline = setTimeout(() => signalGroup(up.child.pid, 'SIGKILL'), STOP_TIMEOUT_MS);
      const { code, signal } = await up.exited;
      clearTimeout(deadline);
      const output = up.output();

      expect({ code, signal }, output).toEqual({ code: 0, signal: null });
      expect(output).toMatch(/^stopped$/m);
      expect(output).not.toMatch(/IllegalStateError/);
      expect(output).not.toMatch(/\bError\b/);
      expect(output, 'stack frames in the output').not.toMatch(/^\s+at .+[:(]\d+:\d+\)?$/m);
      // Warnings about the host (no CUDA here) are fine; errors and failed shutdown steps are not.
      expect(output).not.toMatch(/"level":"error"|shutdown step failed/);
      // Both workers drained and said so; the parent saw each exit with 0, not killed by a signal.
      expect(output.match(/"msg":"worker: stopped"/g)?.length, output).toBe(2);
      const exits = output.split('\n').filter((line) => line.includes('"msg":"worker: process exited"'));
      expect(exits.map((line) => (JSON.parse(line) as { code: number | null; signal: string | null }))).toEqual([
        expect.objectContaining({ code: 0, signal: null }),
        expect.objectContaining({ code: 0, signal: null }),
      ]);
      expect(await portOpen(temporalPort)).toBe(false);
      expect(pidsWith(['start-dev', '--port', String(temporalPort)])).toEqual([]);

      // A restart on the same data dir: the schedules survived (Temporal's SQLite file) and are not doubled.
      const again = startUp(env, temporalPort);
      cleanups.push(async () => {
        if (again.child.exitCode === null && again.child.signalCode === null) {
          signalGroup(again.child.pid, 'SIGKILL');
          await again.exited;
        }
      });
      await waitForOutput(again, /^srag is up$/m, START_TIMEOUT_MS);
      const after = await schedulesOf(env);
      expect(after.map((x) => x.scheduleId)).toEqual(schedules.map((x) => x.scheduleId));
      signalGroup(again.child.pid, 'SIGINT');
      expect(await again.exited).toEqual({ code: 0, signal: null });
    },
    2 * START_TIMEOUT_MS + 2 * STOP_TIMEOUT_MS + 30_000,
  );
});

/** `srag schedules list --json` against the Temporal that `srag up` started for `env`. */
function schedulesOf(env: Record<string, string | undefined>): Promise<Array<{ kind: string; scheduleId: string; paused: boolean }>> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['--import', 'tsx', join('src', 'cli', 'main.ts'), 'schedules', 'list', '--json'], { env, timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`srag schedules list failed: ${stderr}`)) : resolve((JSON.parse(stdout) as { schedules: Array<{ kind: string; scheduleId: string; paused: boolean }> }).schedules),
    ),
  );
}
