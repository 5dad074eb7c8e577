/** Picks the Generator adapter from configuration and wraps it in the verifying answerer. */
import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../obs/logger.js';
import { createAnswerer, type Answerer } from './answer.js';
import { createExtractiveGenerator } from './extractive.js';
import { lazyLlamaCppModel } from './llama-cpp.js';
import { createLocalGenerator } from './local.js';
import { createOpenAiChatGenerator } from './openai.js';

/**
 * Answers from the in-process model when SRAG_LLM=local, from the configured OpenAI-compatible model
 * when `LLM_URL` is set, extractive quotes otherwise; verified either way, with the extractive
 * generator as the fallback. `generator` is the name of the generator answers come from by default.
 * The local model starts loading here and is ready by the first question in most cases.
 */
export function createConfiguredAnswerer(llm: Config['llm'], logger: Logger): { answerer: Answerer; generator: string } {
  const extractive = createExtractiveGenerator();
  const { url, model, apiKey, local } = llm;
  if (local) {
    const generator = createLocalGenerator({ model: lazyLlamaCppModel(local, { logger }), logger });
    return { answerer: createAnswerer({ generator, extractive, logger }), generator: generator.name };
  }
  if (!url) return { answerer: createAnswerer({ extractive, logger }), generator: extractive.name };
  if (!model) throw new ConfigError('LLM_URL is set without LLM_MODEL: name the model the server should run');
  const generator = createOpenAiChatGenerator({ url, model, apiKey, logger });
  return { answerer: createAnswerer({ generator, extractive, logger }), generator: generator.name };
}
