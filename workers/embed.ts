// Composition root of the embedding task queue: run one per GPU (or CPU) host.
import { Worker } from '@temporalio/worker';
import { createEmbedActivities } from '../activities/index.js';
import { loadConfig } from '../src/config.js';
import { connectWorker } from '../src/temporal/worker-connection.js';
import { createEmbedder } from '../src/embed/factory.js';
import { createLogger } from '../src/obs/logger.js';
import { openStore } from '../src/runtime.js';
import { createModelCache, embeddingConfigFor } from '../src/services/pipelines.js';
import { installWorkerRuntime } from '../src/temporal/sdk-telemetry.js';
import { registerDiskMetrics } from '../src/obs/metrics.js';
import { startMetricsServer } from '../src/obs/metrics-server.js';
import { createEmbedMetrics, createWorkerRegistry, measuredEmbedder } from '../src/obs/worker-metrics.js';

// Everything this process writes (store, index, vectors) is private to the service user.
process.umask(0o077);
const config = loadConfig(process.env);
const logger = createLogger(config.logLevel, { component: 'worker-embed', pid: process.pid });
// ERROR: this worker polls no workflow tasks by design, which the SDK would warn about at start.
const sdkMetrics = await installWorkerRuntime('ERROR');
const registry = createWorkerRegistry();
const metrics = createEmbedMetrics(registry);
registerDiskMetrics(registry, { data: config.dataDir });
const metricsServer = await startMetricsServer({ ...config.metrics, registry, extra: sdkMetrics, logger });

const { address, connection, lifecycle } = await connectWorker(config, logger);
const embedder = measuredEmbedder(await createEmbedder(config.embedding, logger), metrics);
const store = openStore(config);
const worker = await Worker.create({
  connection,
  namespace: config.temporal.namespace,
  taskQueue: config.temporal.embedTaskQueue,
  activities: createEmbedActivities({
    store,
    embedder,
    // A job for the served pipeline is embedded by that pipeline's model, even if another is configured.
    embedderFor: createModelCache({
      store,
      configuredModelId: embedder.modelId,
      configured: embedder,
      load: async (record) => measuredEmbedder(await createEmbedder(embeddingConfigFor(config.embedding, record.embedding), logger), metrics),
    }),
    logger,
  }),
  // The model already uses every core; more than one batch at a time only adds contention.
  maxConcurrentActivityTaskExecutions: 1,
});
logger.info('worker: ready', { taskQueue: config.temporal.embedTaskQueue, model: embedder.modelId, address, metricsPort: metricsServer.port });
process.send?.({ ready: true, metricsPort: metricsServer.port });
await lifecycle.run(worker);
await embedder.close();
await connection.close();
await metricsServer.close();
logger.info('worker: stopped');
process.exit(0);
