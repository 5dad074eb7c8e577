// Test harness: a real Temporal dev server, real worker processes and the real model, in a
// throw-away data directory. Shared by the integration tests and the benchmarks.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { loadConfig, PROJECT_ROOT, type Config } from '../../src/config.js';
import type { PipelineRef } from '../../src/domain/ingest.js';
import { pipelineRef } from '../../src/domain/pipeline.js';
import { createEmbedder } from '../../src/embed/factory.js';
import type { Embedder } from '../../src/embed/port.js';
import { createLogger, type Logger } from '../../src/obs/logger.js';
import { PARSER_ID } from '../../src/parse/index.js';
import { openIndex, prepareServingCollection } from '../../src/runtime.js';
import { resolveTemporalCli } from '../../src/temporal/cli-path.js';
import { connectClient } from '../../src/temporal/connection.js';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { startWorkerProcess, type WorkerProcess } from '../../src/temporal/worker-process.js';
import { freeLoopbackPort } from '../../src/temporal/sdk-telemetry.js';

export const EVAL_DIR = resolve(process.env.SRAG_EVAL_DIR ?? join(PROJECT_ROOT, '..', 'shared', 'eval'));

export const freePort = freeLoopbackPort;

export interface Stack {
  config: Config;
  env: Record<string, string | undefined>;
  client: Client;
  embedder: Embedder;
  pipeline: PipelineRef;
  logger: Logger;
  dataDir: string;
  startWorkers(): Promise<WorkerProcess[]>;
  /** A fresh data dir (empty store and index) on the same Temporal server. */
  withDataDir(dir: string): Stack;
  stop(): Promise<void>;
}

export function testLogger(): Logger {
  return createLogger((process.env.SRAG_TEST_LOG_LEVEL as 'warn' | undefined) ?? 'warn', { component: 'test' });
}

/** Starts a dev server and loads the model; workers start per test (they can be killed). */
export async function startStack(overrides: Record<string, string> = {}): Promise<Stack> {
  const logger = testLogger();
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'srag-it-'));
  const baseEnv: Record<string, string | undefined> = {
    ...process.env,
    SRAG_DATA_DIR: dataDir,
    SRAG_TEMPORAL_PORT: String(port),
    TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
    SRAG_TASK_QUEUE: `it-ingest-${port}`,
    SRAG_EMBED_TASK_QUEUE: `it-embed-${port}`,
    SRAG_LOG_LEVEL: process.env.SRAG_TEST_LOG_LEVEL ?? 'warn',
    SRAG_PORT: '0',
    // Every worker of every stack on its own free port.
    SRAG_METRICS_PORT: '0',
    // Own collection names: with QDRANT_URL every stack of the run shares one server.
    SRAG_COLLECTION_PREFIX: `it${port}`,
    ...overrides,
  };
  const base = loadConfig(baseEnv);
  const cliPath = resolveTemporalCli({ explicitPath: base.temporal.cliPath, searchPath: process.env.PATH, cacheDir: base.cacheDir, logger });
  const dev: DevServer = await startDevServer({ cliPath, port, uiPort: port + 1, namespace: base.temporal.namespace, headless: true, logger });
  // startDevServer and connectClient both wait for a healthy frontend (not just an open port).
  const client = await connectClient(dev.address, base.temporal.namespace, undefined, { logger });
  const embedder = await createEmbedder(base.embedding, logger);
  const pipeline = pipelineRef(PARSER_ID, base.chunk, embedder.modelId, embedder.dimension, base.collectionPrefix);
  const dirs: string[] = [dataDir];
  const workers: WorkerProcess[] = [];

  const make = (env: Record<string, string | undefined>): Stack => {
    const config = loadConfig(env);
    return {
      config,
      env,
      client,
      embedder,
      pipeline,
      logger,
      dataDir: config.dataDir,
      async startWorkers() {
        await prepareServingCollection(config, pipeline.collection, pipeline.dimension, logger);
        const started = await Promise.all([startWorkerProcess('ingest', env, logger), startWorkerProcess('embed', env, logger)]);
        workers.push(...started);
        return started;
      },
      withDataDir(dir: string) {
        dirs.push(dir);
        // Own task queues too, so its workers never take the other data dir's tasks.
        const tag = dirs.length;
        return make({
          ...env,
          SRAG_DATA_DIR: dir,
          SRAG_TASK_QUEUE: `${env.SRAG_TASK_QUEUE}-${tag}`,
          SRAG_EMBED_TASK_QUEUE: `${env.SRAG_EMBED_TASK_QUEUE}-${tag}`,
          SRAG_COLLECTION_PREFIX: `${env.SRAG_COLLECTION_PREFIX}d${tag}`,
        });
      },
      async stop() {
        await Promise.all(workers.map((w) => w.stop()));
        await client.connection.close();
        await embedder.close();
        await dev.stop();
        for (const d of dirs) rmSync(d, { recursive: true, force: true });
      },
    };
  };
  return make(baseEnv);
}

/** Runs `read` on a read-only view of the stack's index (opened and closed around it). */
export async function withReadIndex<T>(stack: Stack, read: (index: Awaited<ReturnType<typeof openIndex>>) => Promise<T>): Promise<T> {
  const index = await openIndex(stack.config, { readOnly: true, logger: stack.logger });
  try {
    return await read(index);
  } finally {
    await index.close();
  }
}
