// Composition root of the embedding task queue: run one per GPU (or CPU) host.
import { NativeConnection, Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import { createEmbedActivities } from '../activities/index.js';
import { loadConfig } from '../src/config.js';
import { temporalTls } from '../src/temporal/connection.js';
import { createEmbedder } from '../src/embed/factory.js';
import { createLogger } from '../src/obs/logger.js';
import { openStore } from '../src/runtime.js';

// Everything this process writes (store, index, vectors) is private to the service user.
process.umask(0o077);
const config = loadConfig(process.env);
const logger = createLogger(config.logLevel, { component: 'worker-embed', pid: process.pid });
// ERROR: this worker polls no workflow tasks by design, which the SDK would warn about at start.
Runtime.install({ logger: new DefaultLogger('ERROR') });

const address = config.temporal.address ?? `127.0.0.1:${config.temporal.port}`;
const tls = temporalTls(config.temporal.tls);
const connection = await NativeConnection.connect({ address, ...(tls ? { tls } : {}) });
const embedder = await createEmbedder(config.embedding, logger);
const worker = await Worker.create({
  connection,
  namespace: config.temporal.namespace,
  taskQueue: config.temporal.embedTaskQueue,
  activities: createEmbedActivities({ store: openStore(config), embedder, logger }),
  // The model already uses every core; more than one batch at a time only adds contention.
  maxConcurrentActivityTaskExecutions: 1,
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => worker.shutdown());
logger.info('worker: ready', { taskQueue: config.temporal.embedTaskQueue, model: embedder.modelId, address });
process.send?.({ ready: true });
await worker.run();
await embedder.close();
await connection.close();
logger.info('worker: stopped');
