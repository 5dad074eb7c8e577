import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { QueryBatcher } from '../embed/batcher.js';
import { AppError } from '../errors.js';
import { auditNote } from './gateway/audit-trail.js';

/** What the app needs to serve POST /v1/embeddings (AppDeps.embeddings). */
export interface EmbeddingsFeature {
  /** The served model behind the query batcher, per request: an alias switch is seen at once. */
  embedder: () => Promise<QueryBatcher>;
  maxInputs: number;
  /** Characters per input; longer inputs are refused rather than silently cut. */
  maxChars: number;
}

export const DEFAULT_EMBEDDINGS_LIMITS = { maxInputs: 128, maxChars: 8192 };

/**
 * OpenAI's request shape. OpenAI has no query/passage distinction; `input_type` (default `passage`)
 * picks the model's query instruction for queries. Unknown OpenAI parameters (`user`) are ignored.
 */
function requestShape(limits: { maxInputs: number; maxChars: number }) {
  const text = z
    .string()
    .min(1, 'an input must not be empty')
    .max(limits.maxChars, `an input may have at most ${limits.maxChars} characters`);
  const list = z.array(text).min(1, 'input must not be an empty list').max(limits.maxInputs, `at most ${limits.maxInputs} inputs per request`);
  const rest = {
    model: z.string().max(200).optional(),
    encoding_format: z.enum(['float', 'base64']).default('float'),
    dimensions: z.number().int().positive().optional(),
    input_type: z.enum(['query', 'passage']).default('passage'),
  };
  return { text, list, rest };
}

/** Validates a request; a single string becomes a list of one, so errors name the input that is wrong. */
export function embeddingsRequest(limits: { maxInputs: number; maxChars: number }) {
  const { list, rest } = requestShape(limits);
  return z.looseObject({ input: z.preprocess((v) => (typeof v === 'string' ? [v] : v), list), ...rest });
}

/** The same request as documented in /openapi.json (a string or a list of strings). */
export function embeddingsRequestDoc(limits: { maxInputs: number; maxChars: number }) {
  const { text, list, rest } = requestShape(limits);
  return z.looseObject({ input: z.union([text, list]), ...rest });
}

export const EmbeddingsRequest = embeddingsRequestDoc(DEFAULT_EMBEDDINGS_LIMITS);

export const EmbeddingsResponse = z.object({
  object: z.literal('list'),
  data: z.array(z.object({ object: z.literal('embedding'), index: z.number().int(), embedding: z.union([z.array(z.number()), z.string()]) })),
  model: z.string(),
  usage: z.object({ prompt_tokens: z.number().int(), total_tokens: z.number().int() }),
});

/** OpenAI's base64 form: the float32 values' little-endian bytes. */
function base64Of(v: Float32Array): string {
  const bytes = Buffer.alloc(v.length * 4);
  v.forEach((x, i) => bytes.writeFloatLE(x, i * 4));
  return bytes.toString('base64');
}

/** POST /embeddings: vectors of the served model, through the same batcher as queries. Mounted under /v1 after auth. */
export function createEmbeddingsRouter(deps: EmbeddingsFeature): Router {
  const router = Router();
  const Body = embeddingsRequest(deps);

  router.post('/embeddings', async (req: Request, res: Response) => {
    const body = Body.parse(req.body);
    const inputs = body.input;
    const embedder = await deps.embedder();
    if (body.model !== undefined && body.model !== embedder.modelId) {
      throw new AppError('NOT_FOUND', `model ${body.model} is not served here; this server embeds with ${embedder.modelId}`, {
        details: { model: body.model, served: embedder.modelId },
      });
    }
    if (body.dimensions !== undefined && body.dimensions !== embedder.dimension) {
      throw new AppError('INVALID_INPUT', `${embedder.modelId} has ${embedder.dimension} dimensions; it cannot return ${body.dimensions}`, {
        details: { dimensions: body.dimensions, supported: embedder.dimension },
      });
    }
    const note = auditNote(res);
    // Counts only: the texts never reach the audit record or the logs.
    note.detail = { inputs: inputs.length, inputType: body.input_type, model: embedder.modelId };

    // A caller that hangs up stops waiting; its texts leave the batch if no one else needs them.
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const vectors = await embedder.embedTexts(inputs, body.input_type, abort.signal);
    const tokens = embedder.tokens ? inputs.reduce((n, t) => n + embedder.tokens!.countTokens(t), 0) : 0;
    res.json({
      object: 'list',
      data: vectors.map((v, index) => ({ object: 'embedding', index, embedding: body.encoding_format === 'base64' ? base64Of(v) : Array.from(v) })),
      model: embedder.modelId,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  });

  return router;
}
