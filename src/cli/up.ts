import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { pipelineRef } from '../domain/pipeline.js';
import { createEmbedder } from '../embed/factory.js';
import { assertSafeExposure, startApi } from '../http/server.js';
import type { Logger } from '../obs/logger.js';
import { PARSER_ID } from '../parse/index.js';
import { openIndex, openStore, prepareServingCollection } from '../runtime.js';
import { resolveTemporalCli } from '../temporal/cli-path.js';
import { connectClient, temporalTls } from '../temporal/connection.js';
import { startDevServer, type DevServer } from '../temporal/dev-server.js';
import { startWorkerProcess, type WorkerKind, type WorkerProcess } from '../temporal/worker-process.js';

/**
 * `srag up`: a local Temporal dev server (unless TEMPORAL_ADDRESS), the ingest and embed workers as
 * their own processes (restarted if they crash), and the API in this process. Ctrl-C stops all.
 */
export async function runUp(config: Config, env: Record<string, string | undefined>, logger: Logger, out: (line: string) => void): Promise<void> {
  // Refuse an unsafe exposure before anything starts: a refused start leaves nothing running.
  await assertSafeExposure(config);
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  await chmod(config.dataDir, 0o700);
  let dev: DevServer | undefined;
  let address = config.temporal.address;
  if (!address) {
    const cliPath = resolveTemporalCli({ explicitPath: config.temporal.cliPath, searchPath: env.PATH, cacheDir: config.cacheDir, logger });
    dev = await startDevServer({
      cliPath,
      dbFile: join(config.dataDir, 'temporal', 'dev.db'),
      port: config.temporal.port,
      uiPort: config.temporal.uiPort,
      namespace: config.temporal.namespace,
      logger,
    });
    address = dev.address;
  }

  const embedder = await createEmbedder(config.embedding, logger);
  const pipeline = pipelineRef(PARSER_ID, config.chunk, embedder.modelId, embedder.dimension, config.collectionPrefix);
  await prepareServingCollection(config, pipeline.collection, pipeline.dimension, logger);

  const workerEnv: Record<string, string | undefined> = { ...env, TEMPORAL_ADDRESS: address };
  // The local dev server speaks plain gRPC on loopback; TLS settings are for an external cluster.
  if (dev) for (const k of ['TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_CA', 'TEMPORAL_TLS_SERVER_NAME']) delete workerEnv[k];
  const workers = new Map<WorkerKind, WorkerProcess>();
  let stopping = false;
  const supervise = async (kind: WorkerKind, attempt = 0): Promise<void> => {
    const w = await startWorkerProcess(kind, workerEnv, logger);
    workers.set(kind, w);
    const watch = setInterval(() => {
      if (w.alive() || stopping) return;
      clearInterval(watch);
      const delay = Math.min(30_000, 1000 * 2 ** attempt);
      logger.warn('worker: crashed, restarting', { kind, delayMs: delay });
      setTimeout(() => void supervise(kind, attempt + 1).catch((err) => logger.error('worker: restart failed', { kind, err })), delay);
    }, 1000);
    watch.unref();
  };
  await Promise.all([supervise('ingest'), supervise('embed')]);

  const index = await openIndex(config, { readOnly: true, logger });
  const client = await connectClient(address, config.temporal.namespace, dev ? undefined : temporalTls(config.temporal.tls));
  const { url, close } = await startApi({
    config,
    client,
    store: openStore(config),
    index,
    embedder,
    pipeline,
    logger,
    extraChecks: () => Object.fromEntries([...workers].map(([k, w]) => [`worker_${k}`, { ok: w.alive() }])),
  });

  out(`srag is up`);
  out(`  API          ${url}  (OpenAPI: ${url}/openapi.json)`);
  out(`  Temporal UI  ${dev?.uiUrl ?? `external cluster at ${address}`}`);
  out(`  data         ${config.dataDir}`);
  out(`  pipeline     ${pipeline.version} (${pipeline.modelId}, ${pipeline.dimension}d) -> collection ${pipeline.collection}`);
  out(`Press Ctrl-C to stop.`);

  await new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  stopping = true;
  out('stopping…');
  await close();
  await Promise.all([...workers.values()].map((w) => w.stop()));
  await client.connection.close();
  await index.close();
  await embedder.close();
  await dev?.stop();
  out('stopped');
}
