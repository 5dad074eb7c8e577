import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { createEmbedder } from '../embed/factory.js';
import { assertLocalModelInstalled } from '../generate/llama-cpp.js';
import { assertSafeExposure, startApi } from '../http/server.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../obs/logger.js';
import { configuredPipeline, openIndex, openStore, prepareServingCollection } from '../runtime.js';
import { readPipeline } from '../store/pipelines.js';
import { resolveTemporalCli } from '../temporal/cli-path.js';
import { ensureSchedules, ensureSearchAttributes } from '../services/lifecycle.js';
import { connectClient, temporalTls } from '../temporal/connection.js';
import { startDevServer, type DevServer } from '../temporal/dev-server.js';
import { startWorkerProcess, type WorkerKind, type WorkerProcess } from '../temporal/worker-process.js';

/**
 * `srag up`: a local Temporal dev server (unless TEMPORAL_ADDRESS), the ingest and embed workers as
 * their own processes (restarted if they crash), and the API in this process. Ctrl-C stops all.
 */
export async function runUp(
  config: Config,
  env: Record<string, string | undefined>,
  logger: Logger,
  out: (line: string) => void,
  opts: { apiOnly?: boolean } = {},
): Promise<void> {
  // `srag serve`: the API alone, for hosts where Temporal and the workers run elsewhere (containers).
  if (opts.apiOnly && !config.temporal.address) {
    throw new ConfigError('srag serve runs the API alone and needs TEMPORAL_ADDRESS (use srag up to start a local Temporal dev server and workers)');
  }
  // Refuse an unsafe exposure before anything starts: a refused start leaves nothing running.
  await assertSafeExposure(config);
  if (config.llm.local) assertLocalModelInstalled(config.llm.local);
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
      // Stopped by this process after the workers have drained, not by the terminal's Ctrl-C.
      ownProcessGroup: true,
    });
    address = dev.address;
  }

  const embedder = await createEmbedder(config.embedding, logger);
  const configured = configuredPipeline(config, embedder);
  const pipeline = configured.ref;
  try {
    await prepareServingCollection(config, pipeline.collection, pipeline.dimension, logger, configured);
  } catch (err) {
    // `srag serve` restarted while an ingest worker holds the embedded index for writing: fine once
    // the alias exists (the API only reads); on a fresh data dir the API must start first.
    if (!opts.apiOnly || !(await servedAliasExists(config, logger))) throw err;
    logger.info('serve: the embedded index is held by its writer (an ingest worker); serving what the alias points at', { alias: config.collectionPrefix });
  }

  const workerEnv: Record<string, string | undefined> = { ...env, TEMPORAL_ADDRESS: address };
  // The local dev server speaks plain gRPC on loopback; TLS settings are for an external cluster.
  if (dev) for (const k of ['TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_CA', 'TEMPORAL_TLS_SERVER_NAME']) delete workerEnv[k];
  const workers = new Map<WorkerKind, WorkerProcess>();
  let stopping = false;
  // Each worker serves its metrics on its own port: the ingest worker on SRAG_METRICS_PORT, the
  // embedding worker on the next one (0: each takes any free port).
  const metricsPort = (kind: WorkerKind) => String(config.metrics.port === 0 ? 0 : config.metrics.port + (kind === 'embed' ? 1 : 0));
  const supervise = async (kind: WorkerKind, attempt = 0): Promise<void> => {
    const w = await startWorkerProcess(kind, { ...workerEnv, SRAG_METRICS_PORT: metricsPort(kind) }, logger);
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
  if (!opts.apiOnly) await Promise.all([supervise('ingest'), supervise('embed')]);

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

  // Snapshots and restore drills run on Temporal Schedules, created (or brought to config) at every start.
  const lifecycle = { client, taskQueue: config.temporal.taskQueue, alias: config.collectionPrefix };
  if (!dev) await ensureSearchAttributes(client, config.temporal.namespace, logger);
  await ensureSchedules(lifecycle, { snapshot: config.lifecycle.snapshotEvery, drill: config.lifecycle.drillEvery }, logger);

  out(opts.apiOnly ? `srag API is up (workers run on their own: srag worker ingest|embed)` : `srag is up`);
  out(`  API          ${url}  (OpenAPI: ${url}/openapi.json)`);
  out(`  Temporal UI  ${dev?.uiUrl ?? `external cluster at ${address}`}`);
  if (workers.size > 0) out(`  metrics      ${url}/metrics; workers ${[...workers].map(([k, w]) => `${k} http://${config.metrics.host}:${w.metricsPort ?? '?'}/metrics`).join(', ')}`);
  if (config.llm.local) out(`  answers      local model ${config.llm.local.modelPath} (verified; extractive when a reply fails its check)`);
  out(`  data         ${config.dataDir}`);
  out(`  backups      ${config.lifecycle.backupDir}  (snapshot every ${config.lifecycle.snapshotEvery ?? 'off'}, restore drill every ${config.lifecycle.drillEvery ?? 'off'})`);
  const servedCollection = (await index.getAlias(config.collectionPrefix)) ?? pipeline.collection;
  if (servedCollection === pipeline.collection) {
    out(`  pipeline     ${pipeline.version} (${pipeline.modelId}, ${pipeline.dimension}d) -> collection ${pipeline.collection}`);
  } else {
    const served = await readPipeline(openStore(config), servedCollection);
    out(`  served       ${served?.ref.version ?? '?'} (${served?.ref.modelId ?? 'unknown model'}) -> collection ${servedCollection}`);
    out(`  configured   ${pipeline.version} (${pipeline.modelId}): not served until a rollout moves the alias`);
  }
  out(`Press Ctrl-C to stop.`);

  // Ctrl-C reaches the whole process group: the workers get SIGINT too and start draining on their
  // own; stop() below asks again (harmless) and waits for them. A second Ctrl-C while stopping is
  // noted instead of killing this process halfway.
  let stopSignal: NodeJS.Signals | undefined;
  await new Promise<void>((resolveStop) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopSignal) logger.info('up: already stopping', { signal });
      else {
        stopSignal = signal;
        resolveStop();
      }
    };
    // Never removed: a late Ctrl-C, even after "stopped", must not turn a clean exit into a kill.
    // (Signal listeners do not keep the process alive.)
    for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  });
  stopping = true;
  logger.info('up: stopping', { signal: stopSignal });
  out('stopping…');
  // API first (no new work), then the workers drain, then what they used; Temporal last.
  const step = (what: string, run: () => Promise<unknown>) => shutdownStep(logger, what, run);
  await step('api', () => close());
  await step('workers', () => Promise.all([...workers.values()].map((w) => w.stop())));
  await step('temporal client', () => client.connection.close());
  await step('index', () => index.close());
  await step('embedder', () => embedder.close());
  await step('temporal dev server', async () => dev?.stop());
  out('stopped');
}

async function servedAliasExists(config: Config, logger: Logger): Promise<boolean> {
  const reader = await openIndex(config, { readOnly: true, logger });
  try {
    return (await reader.getAlias(config.collectionPrefix)) !== undefined;
  } finally {
    await reader.close();
  }
}

/** One shutdown step: a failure is logged and the rest still run, so nothing is left behind. */
async function shutdownStep(logger: Logger, what: string, run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (err) {
    logger.warn('up: shutdown step failed', { step: what, err });
  }
}

/** SIGHUP too: the dev server runs in its own process group and would outlive a closed terminal. */
const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
