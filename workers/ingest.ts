// Composition root of the ingest task queue: workflows plus the store/parse/index activities.
import { Worker } from '@temporalio/worker';
import { createIngestActivities } from '../activities/index.js';
import { loadConfig } from '../src/config.js';
import { connectWorker } from '../src/temporal/worker-connection.js';
import { createLogger } from '../src/obs/logger.js';
import { applyPiiPolicy, piiDetectors } from '../src/domain/pii.js';
import { createPdfExtractor, parseSource } from '../src/parse/index.js';
import { embeddingModelId, openIndex, openStore, openTokenCounter, openTokenCounterAt } from '../src/runtime.js';
import { createModelCache, embeddingConfigFor } from '../src/services/pipelines.js';
import { createEmbedder } from '../src/embed/factory.js';
import type { Embedder } from '../src/embed/port.js';
import type { PipelineRef } from '../src/domain/ingest.js';
import { AppError } from '../src/errors.js';
import { readPipeline } from '../src/store/pipelines.js';
import { loadWorkflowBundle } from '../src/temporal/bundle.js';
import { installWorkerRuntime } from '../src/temporal/sdk-telemetry.js';
import { registerDiskMetrics } from '../src/obs/metrics.js';
import { startMetricsServer } from '../src/obs/metrics-server.js';
import { createIngestMetrics, createWorkerRegistry } from '../src/obs/worker-metrics.js';
import type { SragSinks } from '../workflows/definitions.js';
import type { InjectedSinks } from '@temporalio/worker';

// Everything this process writes (store, index, vectors) is private to the service user.
process.umask(0o077);
const config = loadConfig(process.env);
const logger = createLogger(config.logLevel, { component: 'worker-ingest', pid: process.pid });
// Activity failures are reported in the job; the SDK's own per-attempt warnings would only repeat them.
const sdkMetrics = await installWorkerRuntime('ERROR');
const registry = createWorkerRegistry();
const metrics = createIngestMetrics(registry);
registerDiskMetrics(registry, { data: config.dataDir, backup: config.lifecycle.backupDir });
// Up before Temporal is: a worker waiting for its server is visible (pollers 0), not silent.
const metricsServer = await startMetricsServer({ ...config.metrics, registry, extra: sdkMetrics, logger });
const sinks: InjectedSinks<SragSinks> = {
  metrics: { jobFinished: { fn: (_info, origin, outcome) => metrics.jobFinished(origin, outcome), callDuringReplay: false } },
};

const { address, connection, lifecycle } = await connectWorker(config, logger);
const store = openStore(config);
const index = await openIndex(config, { readOnly: false, logger });
const counter = await openTokenCounter(config);
// Operator patterns are compiled once; a bad one stops the worker at start with a ConfigError.
const piiRules = piiDetectors(config.pii.patterns);
// PDFs parse in child processes with a memory cap: a hostile file is killed (timeout or RSS) without
// stalling this process or growing its memory.
const pdfExtractor = createPdfExtractor({ threads: Math.min(4, config.ingest.concurrency), maxBytes: config.limits.parseMaxBytes });
// The rollout gate embeds queries with each pipeline's own model: loaded on first use, kept, closed at exit.
const embedders = new Map<string, Promise<Embedder>>();
const embedderFor = (ref: PipelineRef): Promise<Embedder> => {
  let hit = embedders.get(ref.version);
  if (!hit) {
    hit = readPipeline(store, ref.collection).then((record) => {
      if (!record) throw new AppError('PIPELINE_MISMATCH', `no pipeline record for ${ref.collection}`);
      return createEmbedder(embeddingConfigFor(config.embedding, record.embedding), logger);
    });
    embedders.set(ref.version, hit);
    hit.catch(() => embedders.delete(ref.version));
  }
  return hit;
};
const worker = await Worker.create({
  connection,
  namespace: config.temporal.namespace,
  taskQueue: config.temporal.taskQueue,
  workflowBundle: await loadWorkflowBundle(config.cacheDir, logger),
  activities: createIngestActivities({
    store,
    index,
    counter,
    parse: (bytes, filename) =>
      parseSource(bytes, {
        filename,
        limits: config.limits,
        pdfExtractor,
        observe: (type, seconds, ok) => metrics.parseSeconds.observe({ type, outcome: ok ? 'ok' : 'failed' }, seconds),
      }),
    pii: (doc, policy) => applyPiiPolicy(doc, policy, piiRules),
    pathRoots: config.http.ingestRoots,
    // Chunks are packed by the tokenizer of the model the job's pipeline embeds with.
    counterFor: createModelCache({
      store,
      configuredModelId: await embeddingModelId(config),
      configured: counter,
      load: (record) => (record.embedding.modelDir ? openTokenCounterAt(record.embedding.modelDir) : Promise.resolve(counter)),
    }),
    maxFileBytes: config.limits.maxFileBytes,
    embedderFor,
    lifecycle: {
      alias: config.collectionPrefix,
      backend: config.qdrant.url ? 'qdrant' : 'embedded',
      snapshotDir: config.lifecycle.snapshotDir,
      backupDir: config.lifecycle.backupDir,
      retention: { keep: config.lifecycle.keep, keepDaily: config.lifecycle.keepDaily, keepWeekly: config.lifecycle.keepWeekly },
      drillTolerance: config.lifecycle.drillTolerance,
    },
    onIndexed: (points) => metrics.chunksIndexed.inc(points),
    logger,
  }),
  sinks,
  maxConcurrentActivityTaskExecutions: 4,
});
logger.info('worker: ready', { taskQueue: config.temporal.taskQueue, address, metricsPort: metricsServer.port });
process.send?.({ ready: true, metricsPort: metricsServer.port });
await lifecycle.run(worker);
await pdfExtractor.close();
for (const e of embedders.values()) await e.then((x) => x.close()).catch(() => undefined);
await index.close();
await connection.close();
await metricsServer.close();
logger.info('worker: stopped');
process.exit(0);
