import http from 'node:http';
import https from 'node:https';
import { QdrantHttpError } from './errors.js';

/** Where raw requests go: the same server and key the typed client uses. */
export interface HttpTarget {
  /** Scheme, host, port and any path prefix, without a trailing slash. */
  baseUrl: string;
  apiKey?: string;
}

/** Qdrant's convention (and its client's): a URL without a port means 6333. */
export function resolveBaseUrl(url: string): { baseUrl: string; origin: string; prefix?: string } {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError('the Qdrant URL must start with http:// or https://');
  }
  const origin = `${parsed.protocol}//${parsed.hostname}:${parsed.port || '6333'}`;
  const path = parsed.pathname.replace(/\/+$/, '');
  return { baseUrl: origin + path, origin, prefix: path || undefined };
}

export const enc = encodeURIComponent;

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text().catch(() => '');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * A request the typed client does not cover (snapshot download and upload). Non-2xx answers throw a
 * QdrantHttpError carrying the status, so retries and error mapping treat both paths alike.
 */
export async function qdrantFetch(target: HttpTarget, path: string, init: RequestInit & { timeoutMs: number }): Promise<Response> {
  const headers = new Headers(init.headers);
  if (target.apiKey) headers.set('api-key', target.apiKey);
  const response = await fetch(target.baseUrl + path, { ...init, headers, signal: AbortSignal.timeout(init.timeoutMs) });
  if (!response.ok) throw new QdrantHttpError(response.status, response.statusText, await readBody(response));
  return response;
}

/** A JSON POST over a kept-alive connection; resolves to the answer's `result`. */
export type QdrantPost = (path: string, body: unknown) => Promise<unknown>;

/**
 * The query hot path's transport. Node's fetch (which the typed client uses) sends a POST's headers and
 * body as separate writes, and against Qdrant each query then waits out a delayed ACK: about 44 ms
 * instead of 2 ms per search on loopback (bench/backends.ts shows both). node:http sends the request in
 * one write over a kept-alive socket. Non-2xx answers throw QdrantHttpError, network failures keep their
 * error codes, so retries and error mapping treat this path like the others.
 */
export function createQdrantPost(target: HttpTarget, timeoutMs: number): QdrantPost & { close(): void } {
  const url = new URL(target.baseUrl);
  const secure = url.protocol === 'https:';
  const agent = new (secure ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: 64 });
  const post = (path: string, body: unknown) =>
    new Promise<unknown>((resolve, reject) => {
      const payload = Buffer.from(JSON.stringify(body));
      const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': payload.length };
      if (target.apiKey) headers['api-key'] = target.apiKey;
      const req = (secure ? https : http).request(
        new URL(url.pathname.replace(/\/$/, '') + path, url.origin),
        { method: 'POST', agent, headers, timeout: timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let data: unknown = text;
            try {
              data = JSON.parse(text) as unknown;
            } catch {
              // not JSON: kept as text for the error message
            }
            const status = res.statusCode ?? 0;
            if (status < 200 || status >= 300) reject(new QdrantHttpError(status, res.statusMessage ?? '', data));
            else resolve((data as { result?: unknown } | undefined)?.result);
          });
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error(`Qdrant did not answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end(payload);
    });
  return Object.assign(post, { close: () => agent.destroy() });
}
