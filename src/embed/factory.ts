/** Picks the Embedder adapter from configuration: a remote server when one is configured, else ONNX. */
import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../obs/logger.js';
import { createHttpEmbedder } from './http.js';
import { inferProfileFromName } from './model-profile.js';
import { createOnnxEmbedder } from './onnx.js';
import type { Embedder } from './port.js';

export async function createEmbedder(cfg: Config['embedding'], logger: Logger): Promise<Embedder> {
  if (cfg.url) {
    if (!cfg.model) throw new ConfigError('EMBEDDINGS_MODEL is required when EMBEDDINGS_URL is set');
    // A served bge model still needs its query instruction; the server does not add it.
    const { queryPrefix } = inferProfileFromName(cfg.model);
    return createHttpEmbedder({
      url: cfg.url,
      model: cfg.model,
      apiKey: cfg.apiKey,
      batchSize: cfg.batchSize,
      queryPrefix,
      logger,
    });
  }
  return createOnnxEmbedder({
    modelDir: cfg.modelDir,
    device: cfg.device,
    batchSize: cfg.batchSize,
    threads: cfg.threads,
    logger,
  });
}
