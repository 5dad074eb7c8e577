// The wait for a healthy Temporal frontend, against fake connections: what it retries, when it gives
// up, and that a listening-but-starting frontend is not taken for a ready one.
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { connectWhenHealthy, waitForTemporalHealthy, type TemporalServices } from '../../src/temporal/health.js';

const SERVING = 1;
const NOT_SERVING = 2;

/** A frontend that walks through `steps` one probe at a time, then stays on the last. */
function frontend(steps: Array<'refused' | 'not-serving' | 'not-healthy' | 'no-namespace' | 'ok'>) {
  let probe = 0;
  const step = () => steps[Math.min(probe, steps.length - 1)];
  const calls: string[] = [];
  const services: TemporalServices & { close(): Promise<void>; closed: number } = {
    closed: 0,
    async close() {
      services.closed += 1;
    },
    healthService: {
      async check() {
        calls.push('check');
        const s = step();
        probe += 1;
        if (s === 'refused') throw new Error('14 UNAVAILABLE: connection refused');
        return { status: s === 'not-serving' ? NOT_SERVING : SERVING };
      },
    },
    workflowService: {
      async getSystemInfo() {
        calls.push('getSystemInfo');
        if (steps[Math.min(probe - 1, steps.length - 1)] === 'not-healthy') throw new Error('14 UNAVAILABLE: Frontend is not healthy yet');
        return {};
      },
      async describeNamespace({ namespace }) {
        calls.push(`describeNamespace:${namespace}`);
        if (steps[Math.min(probe - 1, steps.length - 1)] === 'no-namespace') throw new Error(`5 NOT_FOUND: namespace ${namespace} not found`);
        return {};
      },
    },
  };
  return { services, calls, probes: () => probe };
}

describe('waitForTemporalHealthy', () => {
  it('retries until the frontend serves, answers GetSystemInfo and knows the namespace', async () => {
    const f = frontend(['refused', 'not-serving', 'not-healthy', 'no-namespace', 'ok']);
    await waitForTemporalHealthy(f.services, { namespace: 'default', timeoutMs: 10_000 });
    expect(f.probes()).toBe(5);
    expect(f.calls.slice(-3)).toEqual(['check', 'getSystemInfo', 'describeNamespace:default']);
  });

  it('gives up after the deadline with TEMPORAL_UNAVAILABLE and the last reason', async () => {
    const f = frontend(['not-healthy']);
    const err = await waitForTemporalHealthy(f.services, { namespace: 'default', timeoutMs: 300, address: '127.0.0.1:1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'TEMPORAL_UNAVAILABLE' });
    expect((err as Error).message).toMatch(/127\.0\.0\.1:1.*Frontend is not healthy yet/);
    expect(f.probes()).toBeGreaterThan(1);
  });

  it('stops waiting when its signal aborts (the server it waits for has exited)', async () => {
    const f = frontend(['refused']);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('temporal exited (code 1)')), 50);
    const started = Date.now();
    const err = await waitForTemporalHealthy(f.services, { namespace: 'default', timeoutMs: 60_000, signal: controller.signal }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TEMPORAL_UNAVAILABLE' });
    expect((err as Error).message).toMatch(/temporal exited/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a probe that never answers counts as a failed probe, not a hang', async () => {
    const f = frontend(['ok']);
    f.services.healthService.check = () => new Promise(() => {});
    const err = await waitForTemporalHealthy(f.services, { namespace: 'default', timeoutMs: 200, probeTimeoutMs: 50 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TEMPORAL_UNAVAILABLE' });
    expect((err as Error).message).toMatch(/did not answer/);
  });
});

describe('connectWhenHealthy', () => {
  it('retries a refused connect within the same deadline, then waits for health', async () => {
    const f = frontend(['not-serving', 'ok']);
    let attempts = 0;
    const connection = await connectWhenHealthy(
      async () => {
        attempts += 1;
        if (attempts < 3) throw new Error('connect ECONNREFUSED');
        return f.services;
      },
      { namespace: 'default', timeoutMs: 10_000 },
    );
    expect(connection).toBe(f.services);
    expect(attempts).toBe(3);
    expect(f.probes()).toBe(2);
    expect(f.services.closed).toBe(0);
  });

  it('closes the connection it made when the frontend never becomes healthy', async () => {
    const f = frontend(['no-namespace']);
    const err = await connectWhenHealthy(async () => f.services, { namespace: 'missing', timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TEMPORAL_UNAVAILABLE' });
    expect((err as Error).message).toMatch(/namespace missing/);
    expect(f.services.closed).toBe(1);
  });
});
