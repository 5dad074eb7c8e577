import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { isLoopbackHost, type Config } from '../config.js';
import type { PipelineRef } from '../domain/ingest.js';
import type { Embedder } from '../embed/port.js';
import { AppError, ConfigError } from '../errors.js';
import type { VectorIndex } from '../index/port.js';
import { openAuditLog } from '../obs/audit.js';
import type { Logger } from '../obs/logger.js';
import { cachedFor, createMetrics, registerDiskMetrics, registerLifecycleMetrics } from '../obs/metrics.js';
import { countingFallbacks, registerReadinessMetrics, registerRolloutMetrics, registerServingMetrics, temporalQueueStats } from '../obs/serving-metrics.js';
import { rolloutStatus } from '../services/lifecycle.js';
import { newestBackup } from '../services/snapshots.js';
import { readDrills } from '../services/drill.js';
import { createConfiguredAnswerer } from '../generate/factory.js';
import { createPdfExtractor, parseSource, type PdfExtractor } from '../parse/index.js';
import { createLexicalIndex } from '../index/lexical.js';
import { createLexicalSource } from '../query/lexical-source.js';
import { createSearchService } from '../query/search.js';
import type { BlobStore } from '../store/port.js';
import { createJobService } from '../temporal/jobs.js';
import { batcherPerModel } from '../embed/batcher.js';
import { createEmbedder } from '../embed/factory.js';
import { configuredPipeline } from '../runtime.js';
import { createPipelineResolver, embeddingConfigFor } from '../services/pipelines.js';
import { createRebuildService } from '../services/rebuild.js';
import { createApp, type ReadinessCheck } from './app.js';
import { createJwtVerifier } from './gateway/jwt.js';
import { keyFileIn, openKeyStore, type KeyStore } from './gateway/keys.js';
import type { Principal } from './gateway/principal.js';
import { createRateLimits } from './gateway/rate-limit.js';
import { parseApiTokens } from './gateway/tokens.js';

export interface ApiParts {
  config: Config;
  client: Client;
  store: BlobStore;
  index: VectorIndex & { refresh?: () => Promise<void> };
  embedder: Embedder;
  pipeline: PipelineRef;
  logger: Logger;
  /** Extra readiness checks from the host process (workers alive, ...). */
  extraChecks?: () => Record<string, ReadinessCheck>;
}

async function timed(check: () => Promise<unknown>): Promise<ReadinessCheck> {
  try {
    await Promise.race([check(), new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), 3000))]);
    return { ok: true };
  } catch (err) {
    return { ok: false, detail: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Whether any credential is configured (static tokens, an active API key, a JWT issuer). Without one,
 * the API serves the local operator and must stay on loopback. Called before anything starts, so a
 * refused configuration leaves nothing running.
 */
export async function assertSafeExposure(config: Config): Promise<{ credentials: boolean; tokens: Map<string, Principal>; keys: KeyStore }> {
  const tokens = parseApiTokens(config.http.apiTokens);
  const keys = await openKeyStore(keyFileIn(config.dataDir));
  const credentials = tokens.size > 0 || keys.size() > 0 || config.jwt !== undefined;
  if (!isLoopbackHost(config.http.host) && !credentials) {
    throw new ConfigError(
      `SRAG_HOST=${config.http.host} exposes the API: create an API key (srag keys create), set SRAG_API_TOKENS or configure SRAG_JWT_* first`,
    );
  }
  return { credentials, tokens, keys };
}

/** Readiness without work per call: each check runs at most once per `ttlMs`, concurrent callers share it. */
export const cachedChecks = (run: () => Promise<Record<string, ReadinessCheck>>, ttlMs: number) => cachedFor(run, ttlMs);

/** Wires the API over live parts and listens. Refuses to expose the API without credentials. */
export async function startApi(parts: ApiParts): Promise<{ server: Server; url: string; close: () => Promise<void> }> {
  const { config, logger } = parts;
  const { credentials, tokens, keys } = await assertSafeExposure(config);
  const jwt = config.jwt ? createJwtVerifier(config.jwt) : undefined;
  const audit = await openAuditLog({ dir: join(config.dataDir, 'audit'), rotateBytes: config.audit.rotateBytes });
  // The model answered once at start-up: a loaded ONNX session does not go away, so no inference per probe.
  let modelOk: Promise<ReadinessCheck> | undefined;
  const modelCheck = () => (modelOk ??= timed(() => parts.embedder.embedQuery('readiness')).then((r) => {
    if (!r.ok) modelOk = undefined;
    return r;
  }));
  const alias = config.collectionPrefix;
  const resolver = createPipelineResolver({
    store: parts.store,
    index: parts.index,
    alias,
    configured: configuredPipeline(config, parts.embedder),
    configuredEmbedder: parts.embedder,
    createEmbedder: (embedding) => createEmbedder(embeddingConfigFor(config.embedding, embedding), logger),
    logger,
  });
  const servedCollection = async () => (await resolver.served()).ref.collection;
  // Concurrent requests share model calls (and recent vectors) through one batcher per served model.
  const { windowMs, maxBatch, cacheSize } = config.queryEmbedding;
  const batched = batcherPerModel({ windowMs, maxBatch, cacheSize });
  const servedBatcher = async () => {
    const target = await resolver.servedTarget();
    return { collection: target.collection, embedder: batched(target.embedder) };
  };
  const pipelineCheck = async (): Promise<ReadinessCheck> => {
    try {
      const served = await resolver.served();
      const c = resolver.configured.ref;
      const s = served.ref;
      return {
        ok: true,
        detail: s.version === c.version ? `served = configured: ${s.version} (${s.modelId})` : `served ${s.version} (${s.modelId}); configured ${c.version} (${c.modelId}) not served until a rollout`,
      };
    } catch (err) {
      return { ok: false, detail: err instanceof Error ? err.message : String(err) };
    }
  };
  const metrics = createMetrics();
  const configuredAnswerer = createConfiguredAnswerer(config.llm, logger);
  const answerer = countingFallbacks(configuredAnswerer.answerer, metrics.answerFallbacks);
  const generator = configuredAnswerer.generator;
  registerLifecycleMetrics(metrics.registry, {
    drills: () => readDrills(parts.store),
    lastVerifiedSnapshot: async () => (await newestBackup(config.lifecycle.backupDir))?.createdAt,
  });
  registerDiskMetrics(metrics.registry, { data: config.dataDir, backup: config.lifecycle.backupDir });
  registerServingMetrics(metrics.registry, {
    points: async () => {
      const collection = await servedCollection();
      return { collection, points: await parts.index.count(collection) };
    },
    queues: { ingest: config.temporal.taskQueue, embed: config.temporal.embedTaskQueue },
    queueStats: temporalQueueStats(parts.client, config.temporal.namespace),
  });
  const readiness = cachedChecks(
    async () => ({
      temporal: await timed(() => parts.client.workflowService.getSystemInfo({})),
      index: await timed(() => parts.index.listCollections()),
      model: await modelCheck(),
      pipeline: await pipelineCheck(),
      ...parts.extraChecks?.(),
    }),
    5000,
  );
  registerReadinessMetrics(metrics.registry, readiness);
  registerRolloutMetrics(metrics.registry, async () => {
    try {
      const r = await rolloutStatus({ client: parts.client, taskQueue: config.temporal.taskQueue, alias });
      return r.state?.phase ?? 'failed';
    } catch (err) {
      if (err instanceof AppError && err.code === 'NOT_FOUND') return 'none';
      throw err;
    }
  });
  // The answer page's "show me the source": parsed again, in a parser process started on first use.
  let pdfExtractor: PdfExtractor | undefined;
  const parse = (bytes: Uint8Array, filename: string) =>
    parseSource(bytes, { filename, limits: config.limits, pdfExtractor: (pdfExtractor ??= createPdfExtractor({ maxBytes: config.limits.parseMaxBytes })) });
  // BM25 over whichever collection the alias serves, rebuilt from the index when its point count changes.
  const lexical = createLexicalSource((collection) => createLexicalIndex(parts.index, collection), { logger });
  const app = createApp({
    documents: {
      store: parts.store,
      index: parts.index,
      collection: servedCollection,
      version: async () => (await resolver.served()).ref.version,
      client: parts.client,
      taskQueue: config.temporal.taskQueue,
    },
    jobs: createJobService({
      client: parts.client,
      store: parts.store,
      taskQueue: config.temporal.taskQueue,
      embedTaskQueue: config.temporal.embedTaskQueue,
      // New documents go to the collection queries read, embedded by its own model.
      pipeline: async () => (await resolver.served()).ref,
      // ... and to every collection being built beside it, so a candidate misses nothing.
      building: async () => (await resolver.building()).map((r) => r.ref),
      concurrency: config.ingest.concurrency,
    }),
    store: parts.store,
    search: createSearchService({
      index: parts.index,
      embedder: parts.embedder,
      collection: servedCollection,
      target: servedBatcher,
      lexical,
    }),
    embeddings: {
      embedder: async () => (await servedBatcher()).embedder,
      maxInputs: config.queryEmbedding.maxInputs,
      maxChars: config.queryEmbedding.maxChars,
    },
    query: { answerer, defaults: { generator } },
    readiness,
    auth: { tokens, keys, jwt },
    rateLimits: createRateLimits(config.rateLimits),
    audit,
    metrics,
    logger,
    limits: {
      maxFileBytes: config.limits.maxFileBytes,
      maxJsonBytes: config.http.maxJsonBytes,
      maxFiles: 1000,
      maxUploadBytes: config.http.maxUploadBytes,
    },
    // Server-side paths: the operator's own machine may name any; once credentials exist, only the
    // roots the operator configured.
    pathRoots: config.http.ingestRoots ?? (!credentials && isLoopbackHost(config.http.host) ? ['/'] : []),
    cwd: process.cwd(),
    allowedHosts: config.http.allowedHosts,
    piiDefault: config.pii.policy,
    parse,
    rebuild: createRebuildService({
      client: parts.client,
      store: parts.store,
      taskQueue: config.temporal.taskQueue,
      embedTaskQueue: config.temporal.embedTaskQueue,
      concurrency: config.ingest.concurrency,
      served: () => resolver.served(),
    }),
  });
  const server = await new Promise<Server>((resolveListen, reject) => {
    const s = app.listen(config.http.port, config.http.host, () => resolveListen(s));
    s.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  const close = async () => {
    await new Promise<void>((r) => server.close(() => r()));
    server.closeAllConnections();
    await audit.close();
    await resolver.close();
    await pdfExtractor?.close();
  };
  return { server, url: `http://${config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host}:${port}`, close };
}
