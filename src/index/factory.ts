import { join } from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../obs/logger.js';
import { createEmbeddedIndex } from './embedded.js';
import type { VectorIndex } from './port.js';
import { createQdrantIndex } from './qdrant/qdrant-index.js';

export type OpenedVectorIndex = VectorIndex & { refresh?: () => Promise<void> };

/**
 * Picks the VectorIndex adapter from config: Qdrant when `qdrant.url` is set, else the embedded index
 * under the data directory. `readOnly` matters to the embedded index only (one writer process holds its
 * lock; readers follow with refresh()); a Qdrant server takes writes from any number of processes.
 */
export async function openVectorIndex(config: Config, opts: { readOnly: boolean; logger: Logger }): Promise<OpenedVectorIndex> {
  if (config.qdrant.url) {
    return createQdrantIndex({ url: config.qdrant.url, apiKey: config.qdrant.apiKey, logger: opts.logger });
  }
  return createEmbeddedIndex(join(config.dataDir, 'index'), { logger: opts.logger, readOnly: opts.readOnly });
}
