// Workflows must bundle for Temporal's deterministic sandbox: a Node or I/O import fails here.
import { bundleWorkflowCode } from '@temporalio/worker';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';

describe('workflow bundle', () => {
  it('bundles workflows/index.ts without Node built-ins', async () => {
    const { code } = await bundleWorkflowCode({ workflowsPath: join(PROJECT_ROOT, 'workflows', 'index.ts'), logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } });
    expect(code).toContain('ingestCorpus');
    expect(code).toContain('ingestDocument');
    expect(code).not.toMatch(/require\(["']node:(fs|crypto|child_process)["']\)/);
  }, 120_000);
});
