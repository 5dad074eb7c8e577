// Replays workflow histories ({workflowId, history}, the history from `temporal workflow show --output json`) against today's workflow
// code, one line of JSON per history: {"file","ok","error"?}. Exit 1 when any fails to replay.
// Usage: npx tsx scripts/replay-histories.ts <dir>
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import { PROJECT_ROOT } from '../src/config.js';
import { silentLogger } from '../src/obs/logger.js';
import { loadWorkflowBundle } from '../src/temporal/bundle.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const dir = process.argv[2] ?? join(PROJECT_ROOT, 'test', 'fixtures', 'histories');
const bundle = await loadWorkflowBundle(join(PROJECT_ROOT, '.cache'), silentLogger);
let failed = 0;
for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
  try {
    const { workflowId, history } = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { workflowId: string; history: unknown };
    await Worker.runReplayHistory({ workflowBundle: bundle, replayName: file }, history, workflowId);
    console.log(JSON.stringify({ file, ok: true }));
  } catch (err) {
    failed += 1;
    console.log(JSON.stringify({ file, ok: false, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }));
  }
}
process.exit(failed > 0 ? 1 : 0);
