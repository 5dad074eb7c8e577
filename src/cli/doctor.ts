import { join } from 'node:path';
import { createEmbedder } from '../embed/factory.js';
import { createEmbeddedIndex } from '../index/embedded.js';
import { createQdrantIndex } from '../index/qdrant/qdrant-index.js';
import { createLogger } from '../obs/logger.js';
import { exitCodeOf, formatReport, reportJson } from '../services/doctor/format.js';
import { createPortProbe } from '../services/doctor/ports.js';
import { runDoctor } from '../services/doctor/run.js';
import { connectQuickly } from '../services/doctor/temporal.js';
import { resolveTemporalCli } from '../temporal/cli-path.js';

/**
 * `srag doctor [--json]`: checks the local setup before (or while) srag runs and says, for each
 * problem, what to do. Exit 0 when nothing failed (warnings allowed), 1 otherwise. It loads the
 * configuration itself, so an invalid one is reported like any other problem.
 */
export async function runDoctorCommand(env: Record<string, string | undefined>, opts: { json: boolean }, out: (line: string) => void): Promise<number> {
  // Errors only from the parts it loads: the report is the output.
  const logger = createLogger('error', { component: 'doctor' });
  const report = await runDoctor({
    env,
    ports: (config) =>
      createPortProbe({
        temporalAnswers: (address) =>
          connectQuickly(address, config.temporal.namespace, undefined, 3_000).then(
            (client) => client.connection.close().then(() => true),
            () => false,
          ),
      }),
    openEmbedder: (cfg) => createEmbedder(cfg, logger),
    temporal: {
      // Never installs anything (no pip): the doctor only looks.
      resolveCli: (config) =>
        resolveTemporalCli({ explicitPath: config.temporal.cliPath, searchPath: env.PATH, cacheDir: config.cacheDir, allowPipInstall: false, logger }),
      connect: connectQuickly,
    },
    openIndex: (config) =>
      config.qdrant.url
        ? // Short timeout, no retries: the doctor reports a Qdrant that does not answer, it does not wait for one.
          createQdrantIndex({ url: config.qdrant.url, apiKey: config.qdrant.apiKey, logger, timeoutMs: 5_000, retries: 0 })
        : createEmbeddedIndex(join(config.dataDir, 'index'), { logger, readOnly: true }),
  });
  if (opts.json) out(reportJson(report));
  else for (const line of formatReport(report)) out(line);
  return exitCodeOf(report);
}
