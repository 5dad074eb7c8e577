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
