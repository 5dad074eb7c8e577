import { bundleWorkflowCode } from '@temporalio/worker';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../config.js';
import type { Logger } from '../obs/logger.js';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/**
 * The workflow bundle, built once per change of the workflow code and cached: webpack takes
 * seconds, and every worker start (tests, restarts) would pay it again.
 */
export async function loadWorkflowBundle(cacheDir: string, logger: Logger): Promise<{ code: string }> {
  const inputs = [...sourceFiles(join(PROJECT_ROOT, 'workflows')), ...sourceFiles(join(PROJECT_ROOT, 'src', 'domain'))].sort();
  const hash = createHash('sha256');
  hash.update(readFileSync(join(PROJECT_ROOT, 'node_modules', '@temporalio', 'workflow', 'package.json')));
  for (const f of inputs) hash.update(f).update(readFileSync(f));
  const file = join(cacheDir, 'workflow-bundles', `${hash.digest('hex').slice(0, 20)}.js`);
  if (existsSync(file)) return { code: readFileSync(file, 'utf8') };
  const started = Date.now();
  const { code } = await bundleWorkflowCode({
    workflowsPath: join(PROJECT_ROOT, 'workflows', 'index.ts'),
    logger: { trace() {}, debug() {}, info() {}, warn: (m) => logger.warn(m), error: (m) => logger.error(m), log() {} },
  });
  mkdirSync(join(cacheDir, 'workflow-bundles'), { recursive: true });
  writeFileSync(`${file}.tmp`, code);
  renameSync(`${file}.tmp`, file);
  logger.info('temporal: workflow bundle built', { ms: Date.now() - started });
  return { code };
}
