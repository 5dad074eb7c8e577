// Recording workflow histories for the replay test: with SRAG_RECORD_HISTORIES=<dir>, an integration
// suite saves one closed run of each named workflow type there: {workflowId, history}, the history as
// the Temporal CLI exports it (`temporal workflow show --output json`). Commit them under
// test/fixtures/histories: test/unit/replay.test.ts replays every one against today's workflow code.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { resolveTemporalCli } from '../../src/temporal/cli-path.js';
import type { Stack } from './stack.js';

export async function recordHistories(stack: Stack, client: Client, types: Record<string, string>): Promise<void> {
  const dir = process.env.SRAG_RECORD_HISTORIES;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const cli = resolveTemporalCli({ explicitPath: stack.config.temporal.cliPath, searchPath: process.env.PATH, cacheDir: stack.config.cacheDir, logger: stack.logger });
  for (const [name, query] of Object.entries(types)) {
    for await (const wf of client.workflow.list({ query })) {
      if (wf.status.name === 'RUNNING') continue;
      const json = execFileSync(cli, ['workflow', 'show', '--workflow-id', wf.workflowId, '--run-id', wf.runId, '--output', 'json', '--address', String(stack.env.TEMPORAL_ADDRESS), '--namespace', stack.config.temporal.namespace]);
      // The workflow id is not part of a history; replay needs it (child workflow ids derive from it).
      writeFileSync(join(dir, `${name}.json`), JSON.stringify({ workflowId: wf.workflowId, history: JSON.parse(json.toString('utf8')) as unknown }));
      break;
    }
  }
}
