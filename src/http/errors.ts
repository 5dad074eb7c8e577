import type { ErrorRequestHandler, RequestHandler } from 'express';
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
      if (status >= 500) logger.error('http: request failed', { route: req.path, code: err.code, err });
      sendError(res, status, err.code, err.message, err.details && status < 500 ? err.details : undefined);
      return;
    }
    // body-parser and multer errors
    const e = err as { type?: string; status?: number; code?: string; message?: string };
    if (e.type === 'entity.too.large' || e.code === 'LIMIT_FILE_SIZE' || e.code === 'LIMIT_FIELD_VALUE') {
      sendError(res, 413, 'PAYLOAD_TOO_LARGE', 'request body is too large');
      return;
    }
    if (e.type === 'entity.parse.failed') {
      sendError(res, 400, 'INVALID_INPUT', 'request body is not valid JSON');
      return;
    }
    if (typeof e.code === 'string' && e.code.startsWith('LIMIT_')) {
      sendError(res, 400, 'INVALID_INPUT', `upload rejected: ${e.message ?? e.code}`);
      return;
    }
    if (e.status && e.status >= 400 && e.status < 500) {
      sendError(res, e.status, 'INVALID_INPUT', 'bad request');
      return;
    }
    logger.error('http: unexpected error', { route: req.path, err: err as Error });
    sendError(res, 500, 'INTERNAL', 'internal error');
  };
}
