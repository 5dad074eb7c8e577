import { describe, expect, it } from 'vitest';
import { createMetrics, registerLifecycleMetrics, sharedWhilePending } from '../../src/obs/metrics.js';

describe('gauges fed by one source', () => {
  it('share a pending read, and read again once it settled', async () => {
    let runs = 0;
    const read = sharedWhilePending(async () => ++runs);
    expect(await Promise.all([read(), read(), read()])).toEqual([1, 1, 1]);
    expect(await read()).toBe(2);
  });

  it('read the drill record once per scrape, fresh on the next scrape', async () => {
    let reads = 0;
    const { registry } = createMetrics({ defaults: false });
    registerLifecycleMetrics(registry, {
      drills: async () => {
        reads++;
        return { latest: { finishedAt: '2026-12-01T00:00:00Z', passed: reads > 1, rtoSeconds: 5, rpoSeconds: 60 } };
      },
    });
    expect(await registry.metrics()).toContain('srag_restore_drill_last_passed 0');
    expect(reads).toBe(1);
    expect(await registry.metrics()).toContain('srag_restore_drill_last_passed 1');
    expect(reads).toBe(2);
  });
});
