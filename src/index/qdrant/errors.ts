import { AppError } from '../../errors.js';

/** A non-2xx answer from the raw HTTP calls (snapshot transfer); shaped like the client's own ApiError. */
export class QdrantHttpError extends Error {
  readonly status: number;
  readonly data: unknown;

  constructor(status: number, statusText: string, data: unknown) {
    super(statusText || `HTTP ${status}`);
    this.name = 'QdrantHttpError';
    this.status = status;
    this.data = data;
  }
}

/** The HTTP status of a failed call, when the server answered at all. */
export function statusOf(err: unknown): number | undefined {
  const status = (err as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' ? status : undefined;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

function isNetworkError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    const name = (e as { name?: unknown }).name;
    // fetch reports a dropped connection as `TypeError: fetch failed`; the client reports its own timeout.
    if (name === 'QdrantClientTimeoutError' || name === 'TimeoutError' || name === 'AbortError') return true;
    if (e instanceof TypeError && e.message === 'fetch failed') return true;
  }
  return false;
}

/** Worth another try: the server was unreachable, overloaded (429) or failing (5xx). A 4xx never is. */
export function isTransient(err: unknown): boolean {
  const status = statusOf(err);
  if (status !== undefined) return status === 429 || status >= 500;
  if ((err as { name?: unknown } | undefined)?.name === 'QdrantClientResourceExhaustedError') return true;
  return isNetworkError(err);
}

/**
 * For a snapshot recovery: the server never got to it (network, 429, a gateway's 502/503/504). A 500
 * means Qdrant tried and failed on these bytes (a malformed archive, say); uploading them again would
 * fail the same way, and a snapshot can be gigabytes.
 */
export function isTransientBeforeRecovery(err: unknown): boolean {
  const status = statusOf(err);
  if (status !== undefined) return status === 429 || status === 502 || status === 503 || status === 504;
  return isTransient(err);
}

/** Seconds the server asked us to wait (429 Retry-After), when it said. */
export function retryAfterMs(err: unknown): number | undefined {
  const seconds = (err as { retry_after?: unknown } | undefined)?.retry_after;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/** The server's own explanation, from `{"status":{"error":"..."}}` bodies, else the error message. */
function serverMessage(err: unknown): string {
  const data = (err as { data?: unknown } | undefined)?.data;
  const reported = (data as { status?: { error?: unknown } } | undefined)?.status?.error;
  if (typeof reported === 'string' && reported) return reported;
  if (typeof data === 'string' && data.trim()) return data.trim().slice(0, 500);
  const message = err instanceof Error ? err.message : String(err);
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  const detail = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : '';
  return detail ? `${message} (${detail})` : message;
}

/** Removes a secret from text that reached us from elsewhere (a server message, a proxy's page). */
export function redact(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join('[redacted]') : text;
}

/**
 * Maps a failed Qdrant call to the port's errors: 404 is NOT_FOUND, everything else INDEX_ERROR. The
 * original error is not kept as `cause` (it carries request details); its text is, with the key removed.
 */
export function toAppError(err: unknown, ctx: { operation: string; collection?: string; apiKey?: string }): AppError {
  if (err instanceof AppError) return err;
  const status = statusOf(err);
  const reason = redact(serverMessage(err), ctx.apiKey);
  const where = ctx.collection === undefined ? '' : ` on ${ctx.collection}`;
  const details: Record<string, unknown> = { operation: ctx.operation };
  if (ctx.collection !== undefined) details.collection = ctx.collection;
  if (status !== undefined) details.status = status;
  const message = `Qdrant ${ctx.operation}${where} failed${status === undefined ? '' : ` (${status})`}: ${reason}`;
  const cause = new Error(reason);
  if (status === 404) return new AppError('NOT_FOUND', message, { details, cause });
  return new AppError('INDEX_ERROR', message, { details, cause });
}
