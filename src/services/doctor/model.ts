import type { Config } from '../../config.js';
import { findModelFiles } from '../../embed/model-profile.js';
import type { Embedder } from '../../embed/port.js';
import { fail, messageOf, ok, within, type CheckResult } from './check.js';
import { safeUrl } from './redact.js';

export type OpenEmbedder = (cfg: Config['embedding']) => Promise<Embedder>;

const LOCAL_FIX = 'run `npm run setup` (fetches the default model) or set SRAG_MODEL_DIR to a directory with one .onnx file and its tokenizer.json';
const REMOTE_FIX = 'check that the embeddings server runs and EMBEDDINGS_URL / EMBEDDINGS_MODEL / EMBEDDINGS_API_KEY are right';
/** Loading the small default model takes about a second; a slow disk or a cold cache gets more. */
const LOAD_TIMEOUT_MS = 60_000;
const REMOTE_TIMEOUT_MS = 10_000;

/**
 * The configured embedding model really works: its files are there (for the local model), it loads,
 * and one query embeds to a finite vector of the model's dimension. Loading is cheap enough (about
 * a second for the default model) to do on every run.
 */
export async function checkModel(cfg: Config['embedding'], openEmbedder: OpenEmbedder, name = 'model'): Promise<CheckResult> {
  const remote = Boolean(cfg.url);
  const where = remote ? `the embeddings server ${safeUrl(cfg.url!)} (model ${cfg.model ?? 'unset'})` : `the model in ${cfg.modelDir}`;
  const fix = remote ? REMOTE_FIX : LOCAL_FIX;
  if (!remote) {
    try {
      await findModelFiles(cfg.modelDir);
    } catch (err) {
      return fail(name, messageOf(err).replace(/; run `npm run setup`.*$/, ''), fix);
    }
  }
  const started = Date.now();
  let embedder: Embedder | undefined;
  try {
    embedder = await within(openEmbedder(cfg), remote ? REMOTE_TIMEOUT_MS : LOAD_TIMEOUT_MS, `loading ${where}`, (late) => void late.close());
    const vector = await within(embedder.embedQuery('srag doctor: is the model working?'), remote ? REMOTE_TIMEOUT_MS : LOAD_TIMEOUT_MS, `embedding with ${where}`);
    if (vector.length !== embedder.dimension || !vector.every(Number.isFinite)) {
      return fail(name, `${where} returned a vector of ${vector.length} values for dimension ${embedder.dimension}, or non-finite values`, fix);
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    return ok(name, `${embedder.modelId} (${embedder.dimension} d) from ${remote ? safeUrl(cfg.url!) : cfg.modelDir}: loaded and embedded a query in ${seconds} s`);
  } catch (err) {
    return fail(name, `${where} does not work: ${messageOf(err)}`, fix);
  } finally {
    await embedder?.close().catch(() => undefined);
  }
}
