import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.js';
import { pipelineRef } from './domain/pipeline.js';
import { findModelFiles, resolveModelProfile } from './embed/model-profile.js';
import type { Embedder, TokenCounter } from './embed/port.js';
import { loadModelTokenizer } from './embed/tokenizer.js';
import { AppError } from './errors.js';
import { openVectorIndex } from './index/factory.js';
import type { VectorIndex } from './index/port.js';
import type { Logger } from './obs/logger.js';
import { createFsBlobStore } from './store/fs.js';
import type { BlobStore } from './store/port.js';
import { PARSER_ID } from './parse/index.js';
import { embeddingLocator } from './services/pipelines.js';
import { recordPipeline, type PipelineRecord } from './store/pipelines.js';

// Shared wiring for the composition roots (workers, `srag up`, eval, benchmarks): config in,
// adapters out. Nothing here reads the environment.

export function openStore(config: Config): BlobStore {
  return createFsBlobStore(join(config.dataDir, 'store'));
}

export async function openIndex(config: Config, opts: { readOnly: boolean; logger: Logger }): Promise<VectorIndex & { refresh?: () => Promise<void> }> {
  return openVectorIndex(config, opts);
}

/** The model's own tokenizer, so chunks are packed by the tokens the model will see. */
export async function openTokenCounter(config: Config): Promise<TokenCounter> {
  return openTokenCounterAt(config.embedding.modelDir);
}

export async function openTokenCounterAt(modelDir: string): Promise<TokenCounter> {
  let files: string[] = [];
  try {
    files = readdirSync(modelDir);
  } catch {
    // reported below
  }
  const tokenizer = files.find((f) => f.endsWith('tokenizer.json'));
  if (!tokenizer) {
    throw new AppError('MODEL_NOT_FOUND', `no tokenizer.json in ${modelDir}: run \`npm run setup\` or set SRAG_MODEL_DIR`);
  }
  return loadModelTokenizer(join(modelDir, tokenizer));
}

/** The id of the configured embedding model, without loading it (the ingest worker only tokenizes). */
export async function embeddingModelId(config: Config): Promise<string> {
  if (config.embedding.url) return `http:${config.embedding.model ?? 'unknown'}`;
  return (await resolveModelProfile(await findModelFiles(config.embedding.modelDir))).id;
}

/** The pipeline this deployment is configured for, with where its model lives. */
export function configuredPipeline(config: Config, embedder: Pick<Embedder, 'modelId' | 'dimension'>): PipelineRecord {
  return {
    ref: pipelineRef(PARSER_ID, config.chunk, embedder.modelId, embedder.dimension, config.collectionPrefix),
    parser: PARSER_ID,
    embedding: embeddingLocator(config.embedding),
    createdAt: new Date().toISOString(),
  };
}

/**
 * Creates the pipeline's collection and points the serving alias at it when no alias exists yet,
 * before any worker writes or any query reads. An existing alias is left alone: moving it is a
 * rollout decision, not a start-up side effect.
 */
export async function prepareServingCollection(config: Config, collection: string, dimension: number, logger: Logger, record?: PipelineRecord): Promise<void> {
  // Recorded before the collection exists: whoever later serves it knows which model made its vectors.
  if (record) await recordPipeline(openStore(config), record);
  const writer = await openIndex(config, { readOnly: false, logger });
  try {
    await writer.ensureCollection(collection, dimension);
    if (!(await writer.getAlias(config.collectionPrefix))) await writer.setAlias(config.collectionPrefix, collection);
  } finally {
    await writer.close();
  }
}
