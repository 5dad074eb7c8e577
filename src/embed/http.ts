/**
 * Embedder over an OpenAI-compatible server (vLLM, TEI, Ollama, LiteLLM, llama.cpp):
 * `POST {url}/v1/embeddings` with `{model, input: string[]}`. Transient failures (429, 5xx, network,
 * timeout) are retried with backoff; other 4xx fail at once. Logs carry counts and statuses only:
 * never the inputs, never the key.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../errors.js';
import type { Logger } from '../obs/logger.js';
import { l2Normalize } from './pooling.js';
import type { Embedder } from './port.js';

export interface HttpEmbedderOptions {
  /** Server base URL, with or without a trailing `/v1`. */
  url: string;
  model: string;
  apiKey?: string;
  batchSize: number;
  /** Prepended to queries (embedQuery) only. */
  queryPrefix?: string;
  logger: Logger;
  fetchImpl?: typeof fetch;
  /** Per request (default 60 s). */
  timeoutMs?: number;
  /** Retries after the first attempt for transient failures (default 4). */
  maxRetries?: number;
  /** First backoff delay; doubles per retry, with jitter (default 500 ms). */
  retryBaseMs?: number;
}

const PROBE_INPUT = 'dimension probe';
const MAX_BACKOFF_MS = 30_000;

/** `{url}/v1/embeddings`, whether or not `url` already ends in `/v1`. */
export function embeddingsEndpoint(url: string): string {
  const base = url.trim().replace(/\/+$/, '');
  return /\/v1$/.test(base) ? `${base}/embeddings` : `${base}/v1/embeddings`;
}

/** The endpoint without credentials or query string, fit for logs and error messages. */
function safeEndpoint(endpoint: string): string {
  try {
    const u = new URL(endpoint);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

export async function createHttpEmbedder(opts: HttpEmbedderOptions): Promise<Embedder> {
  if (!opts.model) throw new AppError('CONFIG_INVALID', 'an embedding model name is required for the HTTP embedder');
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) {
    throw new AppError('INVALID_INPUT', `batchSize must be a positive integer (got ${opts.batchSize})`);
  }
  const endpoint = embeddingsEndpoint(opts.url);
  try {
    new URL(endpoint);
  } catch (cause) {
    throw new AppError('CONFIG_INVALID', 'EMBEDDINGS_URL is not a valid URL', { cause });
  }
  const client = new EmbeddingsClient(endpoint, opts);
  const [probe] = await client.embed([PROBE_INPUT]);
  const dimension = probe.length;
  if (dimension === 0) throw new AppError('UPSTREAM_ERROR', 'embedding server returned an empty vector');
  opts.logger.info('embedder: http model ready', { modelId: `http:${opts.model}`, endpoint: safeEndpoint(endpoint), dimension });

  let closed = false;
  const embedAll = async (texts: string[]): Promise<Float32Array[]> => {
    if (closed) throw new AppError('UPSTREAM_ERROR', 'embedder is closed');
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += opts.batchSize) {
      const vectors = await client.embed(texts.slice(i, i + opts.batchSize));
      for (const v of vectors) {
        if (v.length !== dimension) {
          throw new AppError('UPSTREAM_ERROR', `embedding server returned ${v.length} dimensions, expected ${dimension}`, {
            details: { dimension: v.length, expected: dimension },
          });
        }
        out.push(v);
      }
    }
    return out;
  };
  return {
    modelId: `http:${opts.model}`,
    dimension,
    embedDocuments: embedAll,
    embedQuery: async (text) => (await embedAll([(opts.queryPrefix ?? '') + text]))[0],
    embedQueries: (texts) => embedAll(texts.map((t) => (opts.queryPrefix ?? '') + t)),
    close: async () => {
      closed = true;
    },
  };
}

class RetryableError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

class EmbeddingsClient {
  private readonly fetch: typeof fetch;
  private readonly log: Logger;

  constructor(
    private readonly endpoint: string,
    private readonly opts: HttpEmbedderOptions,
  ) {
    this.fetch = opts.fetchImpl ?? fetch;
    this.log = opts.logger.child({ component: 'embed-http', endpoint: safeEndpoint(endpoint), model: opts.model });
  }

  /** One request's worth of inputs -> unit vectors in input order, with retries. */
  async embed(inputs: string[]): Promise<Float32Array[]> {
    const maxRetries = this.opts.maxRetries ?? 4;
    const base = this.opts.retryBaseMs ?? 500;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt(inputs);
      } catch (err) {
        if (!(err instanceof RetryableError)) throw err;
        if (attempt >= maxRetries) {
          this.log.error('embedder: http request failed', { attempts: attempt + 1, status: err.status, reason: err.message });
          throw new AppError('UPSTREAM_ERROR', `embedding server failed after ${attempt + 1} attempts: ${err.message}`, {
            cause: err,
            details: { status: err.status, attempts: attempt + 1 },
          });
        }
        const backoff = Math.min(MAX_BACKOFF_MS, base * 2 ** attempt) * (0.5 + Math.random() / 2);
        const delayMs = Math.round(Math.max(backoff, Math.min(err.retryAfterMs ?? 0, MAX_BACKOFF_MS)));
        this.log.warn('embedder: http request failed, retrying', {
          attempt: attempt + 1,
          status: err.status,
          reason: err.message,
          delayMs,
        });
        await sleep(delayMs);
      }
    }
  }

  private async attempt(inputs: string[]): Promise<Float32Array[]> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.opts.apiKey) headers.authorization = `Bearer ${this.opts.apiKey}`;
    let res: Response;
    try {
      res = await this.fetch(this.endpoint, {
        method: 'POST',
        headers,
        body: JSON.stringify({ model: this.opts.model, input: inputs }),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 60_000),
      });
    } catch (err) {
      const name = (err as { name?: string }).name;
      const reason = name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : `network error (${describe(err)})`;
      throw new RetryableError(reason);
    }
    if (res.status === 429 || res.status >= 500) {
      await res.body?.cancel().catch(() => {});
      throw new RetryableError(`HTTP ${res.status}`, res.status, retryAfterMs(res.headers.get('retry-after')));
    }
    if (!res.ok) {
      // Only the error's short type/code is kept: a server's message may quote the input back.
      const code = errorCode(await res.json().catch(() => undefined));
      this.log.error('embedder: http request rejected', { status: res.status, upstreamCode: code });
      throw new AppError('UPSTREAM_ERROR', `embedding server rejected the request: HTTP ${res.status}${code ? ` (${code})` : ''}`, {
        details: { status: res.status, upstreamCode: code },
      });
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch (err) {
      throw new RetryableError(`unreadable response body (${describe(err)})`, res.status);
    }
    return parseEmbeddings(body, inputs.length);
  }
}

/** `error.code` or `error.type` of an OpenAI-style error body, when it is a short identifier. */
function errorCode(body: unknown): string | undefined {
  const error = (body as { error?: { code?: unknown; type?: unknown } } | undefined)?.error;
  const code = error?.code ?? error?.type;
  return typeof code === 'string' && /^[\w.-]{1,64}$/.test(code) ? code : undefined;
}

function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: string } }).cause;
  return cause?.code ?? (err as Error)?.message ?? String(err);
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** Validates `{data: [{index, embedding}]}`, orders it by index and normalises each vector. */
function parseEmbeddings(body: unknown, expected: number): Float32Array[] {
  const bad = (why: string) => new AppError('UPSTREAM_ERROR', `embedding server sent a malformed response: ${why}`);
  const data = (body as { data?: unknown })?.data;
  if (!Array.isArray(data)) throw bad('no data array');
  if (data.length !== expected) throw bad(`${data.length} embeddings for ${expected} inputs`);
  const out: (Float32Array | undefined)[] = new Array(expected);
  data.forEach((item: { index?: unknown; embedding?: unknown }, pos) => {
    // Servers that omit `index` return data in input order.
    const index = item?.index ?? pos;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= expected || out[index]) {
      throw bad(`bad or repeated index ${String(index)}`);
    }
    const e = item.embedding;
    if (!Array.isArray(e) || e.length === 0 || !e.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw bad(`embedding ${index} is not a list of numbers (base64 encoding is not supported)`);
    }
    out[index] = l2Normalize(Float32Array.from(e as number[]));
  });
  return out as Float32Array[];
}
