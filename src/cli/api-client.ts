import { AppError } from '../errors.js';

export interface ApiClient {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
  readonly baseUrl: string;
}

/** The CLI is a client of the API that `srag up` serves. */
export function createApiClient(baseUrl: string, token: string | undefined, fetchImpl: typeof fetch = fetch): ApiClient {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    let res: Response;
    try {
      res = await fetchImpl(`${baseUrl}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new AppError('TEMPORAL_UNAVAILABLE', `srag is not reachable at ${baseUrl}: start it with \`srag up\` (or set SRAG_HOST/SRAG_PORT)`, { cause: err });
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      throw new AppError('UPSTREAM_ERROR', `unexpected response from ${baseUrl}${path} (HTTP ${res.status})`);
    }
    if (!res.ok) {
      const e = (parsed as { error?: { code?: string; message?: string } }).error;
      throw new AppError((e?.code as never) ?? 'UPSTREAM_ERROR', e?.message ?? `HTTP ${res.status}`, { details: { status: res.status } });
    }
    return parsed as T;
  };
  return { baseUrl, get: (p) => call('GET', p), post: (p, b) => call('POST', p, b) };
}

export function apiBaseUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
}
