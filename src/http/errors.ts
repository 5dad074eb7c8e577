import type { ErrorRequestHandler, RequestHandler } from 'express';
import multer from 'multer';
import { z } from 'zod';
import { AppError, type ErrorCode } from '../errors.js';
import type { Logger } from '../obs/logger.js';

const STATUS: Partial<Record<ErrorCode, number>> = {
  INVALID_INPUT: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  RATE_LIMITED: 429,
  RESOURCE_LIMIT: 413,
  AUDIT_UNAVAILABLE: 503,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_TYPE: 415,
  EMPTY_FILE: 400,
  FILE_TOO_LARGE: 413,
  TEMPORAL_UNAVAILABLE: 503,
  UPSTREAM_ERROR: 502,
};

// busboy reports a malformed multipart body with plain Errors whose fixed messages are its only
// signal (it has no codes); multer adds two for a body that stops early. All are the caller's doing.
const MALFORMED_MULTIPART = new Set([
  'Missing Content-Type',
  'Malformed content type',
  'Multipart: Boundary not found',
  'Malformed part header',
  'Unexpected end of form',
  'Unexpected end of file',
  'Request aborted',
  'Request closed',
]);

const MULTER_CODES: Record<string, { code: ErrorCode; message: string }> = {
  LIMIT_FILE_SIZE: { code: 'PAYLOAD_TOO_LARGE', message: 'an uploaded file is larger than the per-file limit' },
  LIMIT_FIELD_VALUE: { code: 'PAYLOAD_TOO_LARGE', message: 'a form field value is too long' },
  LIMIT_FILE_COUNT: { code: 'INVALID_INPUT', message: 'too many files in one upload' },
  LIMIT_PART_COUNT: { code: 'INVALID_INPUT', message: 'too many parts in one upload' },
  LIMIT_FIELD_COUNT: { code: 'INVALID_INPUT', message: 'too many form fields' },
  LIMIT_FIELD_KEY: { code: 'INVALID_INPUT', message: 'a form field name is too long' },
  LIMIT_UNEXPECTED_FILE: { code: 'INVALID_INPUT', message: 'unexpected file field; send files as `files`' },
};

/**
 * Maps multer and busboy failures to typed errors: a malformed body is 400 INVALID_INPUT, a size cap
 * is 413 PAYLOAD_TOO_LARGE, a count cap is 400. undefined for anything else (a storage failure
 * stays a 500). Client-supplied names are left out of the messages.
 */
export function multipartError(err: unknown): AppError | undefined {
  if (err instanceof multer.MulterError) {
    const known = MULTER_CODES[err.code];
    return new AppError(known?.code ?? 'INVALID_INPUT', known?.message ?? `upload rejected: ${err.message}`, { cause: err });
  }
  if (err instanceof Error && Object.getPrototypeOf(err) === Error.prototype) {
    if (MALFORMED_MULTIPART.has(err.message) || err.message.startsWith('Unsupported content type')) {
      return new AppError('INVALID_INPUT', `malformed multipart body: ${err.message.toLowerCase()}`, { cause: err });
    }
  }
  return undefined;
}

export function sendError(res: Parameters<RequestHandler>[1], status: number, code: string, message: string, details?: unknown): void {
  res.status(status).json({ error: details === undefined ? { code, message } : { code, message, details } });
}

export const notFound: RequestHandler = (req, res) => {
  sendError(res, 404, 'NOT_FOUND', `no route ${req.method} ${req.path}`);
};

/** Every error leaves as `{"error":{code,message}}`; internals and stacks stay in the log. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (res.headersSent) return;
    if (err instanceof z.ZodError) {
      sendError(res, 400, 'INVALID_INPUT', 'request does not match the schema', err.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
      return;
    }
    if (err instanceof AppError) {
      const status = STATUS[err.code] ?? 500;
      if (status >= 500) logger.error('http: request failed', { requestId: res.locals.requestId as string | undefined, route: req.path, code: err.code, err });
      sendError(res, status, err.code, err.message, err.details && status < 500 ? err.details : undefined);
      return;
    }
    const multipart = multipartError(err);
    if (multipart) {
      sendError(res, STATUS[multipart.code] ?? 400, multipart.code, multipart.message);
      return;
    }
    // body-parser errors
    const e = err as { type?: string; status?: number; code?: string; message?: string };
    if (e.type === 'entity.too.large') {
      sendError(res, 413, 'PAYLOAD_TOO_LARGE', 'request body is too large');
      return;
    }
    if (e.type === 'entity.parse.failed') {
      sendError(res, 400, 'INVALID_INPUT', 'request body is not valid JSON');
      return;
    }
    if (e.status && e.status >= 400 && e.status < 500) {
      sendError(res, e.status, 'INVALID_INPUT', 'bad request');
      return;
    }
    logger.error('http: unexpected error', { requestId: res.locals.requestId as string | undefined, route: req.path, err: err as Error });
    sendError(res, 500, 'INTERNAL', 'internal error');
  };
}
