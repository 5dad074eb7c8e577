import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.js';
import type { TokenCounter } from './embed/port.js';
import { loadWordPieceTokenizer } from './embed/wordpiece.js';
import { AppError, ConfigError } from './errors.js';
import { createEmbeddedIndex } from './index/embedded.js';
import type { VectorIndex } from './index/port.js';
import type { Logger } from './obs/logger.js';
import { createFsBlobStore } from './store/fs.js';
import type { BlobStore } from './store/port.js';

// Shared wiring for the composition roots (workers, `srag up`, eval, benchmarks): config in,
// adapters out. Nothing here reads the environment.

export function openStore(config: Config): BlobStore {
  return createFsBlobStore(join(config.dataDir, 'store'));
}

export async function openIndex(config: Config, opts: { readOnly: boolean; logger: Logger }): Promise<VectorIndex & { refresh?: () => Promise<void> }> {
  if (config.qdrant.url) {
    throw new ConfigError('QDRANT_URL is set, but this build has only the embedded index; unset QDRANT_URL to use it');
  }
  return createEmbeddedIndex(join(config.dataDir, 'index'), { logger: opts.logger, readOnly: opts.readOnly });
}

/** The model's own tokenizer, so chunks are packed by the tokens the model will see. */
export async function openTokenCounter(config: Config): Promise<TokenCounter> {
  let files: string[] = [];
  try {
    files = readdirSync(config.embedding.modelDir);
  } catch {
    // reported below
  }
  const tokenizer = files.find((f) => f.endsWith('tokenizer.json'));
  if (!tokenizer) {
    throw new AppError('MODEL_NOT_FOUND', `no tokenizer.json in ${config.embedding.modelDir}: run \`npm run setup\` or set SRAG_MODEL_DIR`);
  }
  return loadWordPieceTokenizer(join(config.embedding.modelDir, tokenizer));
}

/**
 * Creates the pipeline's collection and points the serving alias at it when no alias exists yet,
 * before any worker writes or any query reads. An existing alias is left alone: moving it is a
 * rollout decision, not a start-up side effect.
 */
export async function prepareServingCollection(config: Config, collection: string, dimension: number, logger: Logger): Promise<void> {
  const writer = await openIndex(config, { readOnly: false, logger });
  try {
    await writer.ensureCollection(collection, dimension);
    if (!(await writer.getAlias(config.collectionPrefix))) await writer.setAlias(config.collectionPrefix, collection);
  } finally {
    await writer.close();
  }
}
