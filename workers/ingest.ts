// Composition root of the ingest task queue: workflows plus the store/parse/index activities.
import { Runtime, DefaultLogger, Worker } from '@temporalio/worker';
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

// Everything this process writes (store, index, vectors) is private to the service user.
process.umask(0o077);
const config = loadConfig(process.env);
const logger = createLogger(config.logLevel, { component: 'worker-ingest', pid: process.pid });
// Activity failures are reported in the job; the SDK's own per-attempt warnings would only repeat them.
Runtime.install({ logger: new DefaultLogger('ERROR') });

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
    parse: (bytes, filename) => parseSource(bytes, { filename, limits: config.limits, pdfExtractor }),
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
    logger,
  }),
  maxConcurrentActivityTaskExecutions: 4,
});
logger.info('worker: ready', { taskQueue: config.temporal.taskQueue, address });
process.send?.({ ready: true });
await lifecycle.run(worker);
await pdfExtractor.close();
for (const e of embedders.values()) await e.then((x) => x.close()).catch(() => undefined);
await index.close();
await connection.close();
logger.info('worker: stopped');
process.exit(0);
