// Replays recorded histories of the lifecycle workflows (test/fixtures/histories, recorded by the
// integration suites with SRAG_RECORD_HISTORIES) against today's workflow code: a change that would
// break runs already in flight fails here, and must be guarded with patched(). The replay runs in its
// own Node process (scripts/replay-histories.ts), outside the test runner's module system.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';

const dir = join(PROJECT_ROOT, 'test', 'fixtures', 'histories');

describe('replaying recorded workflow histories', () => {
  it('has a history of every lifecycle workflow and outcome, and every one replays deterministically', async () => {
    const names = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.replace(/\.json$/, ''))
      .sort();
    expect(names).toEqual(
      expect.arrayContaining(['snapshotIndex', 'restoreDrill-passed', 'restoreDrill-failed', 'restoreIndex', 'rolloutPipeline-done', 'rolloutPipeline-rejected', 'rolloutPipeline-rolled-back', 'rolloutPipeline-aborted']),
    );
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) =>
      execFile(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'scripts', 'replay-histories.ts'), dir], { cwd: PROJECT_ROOT, timeout: 180_000 }, (err, out) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout: out }),
      ),
    );
    const results = stdout
      .trim()
      .split('\n')
      // The SDK's own log lines may share stdout: only the script's JSON lines count.
      .filter((l) => l.startsWith('{"file"'))
      .map((l) => JSON.parse(l) as { file: string; ok: boolean; error?: string });
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.map((r) => r.file.replace(/\.json$/, '')).sort()).toEqual(names);
    expect(code).toBe(0);
  }, 240_000);
});
