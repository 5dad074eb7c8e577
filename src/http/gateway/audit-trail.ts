import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { AuditLog, AuditRecord } from '../../obs/audit.js';
import type { Logger } from '../../obs/logger.js';
import type { Principal } from './principal.js';

/**
 * What a route adds to its request's audit record. Routes fill it in as they learn things (documents
 * returned, the job touched, the keyed question hash); the trail writes it once, at the end.
 */
export interface AuditNote {
  documentIds?: string[];
  jobId?: string;
  questionHmac?: string;
  k?: number;
  outcome?: string;
  detail?: Record<string, string | number | boolean>;
}

export function auditNote(res: Response): AuditNote {
  res.locals.audit ??= {};
  return res.locals.audit as AuditNote;
}

export function requestIdOf(res: Response): string {
  return (res.locals.requestId as string | undefined) ?? 'unknown';
}

function routeOf(req: Request): string {
  const pattern = req.route?.path as string | undefined;
  return pattern ? `${req.baseUrl}${pattern}` : `${req.baseUrl}${req.path}`.slice(0, 200);
}

/**
 * Every request under the mount point is audited before its response completes: `res.end` is held
 * until the record is durable. If the record cannot be written the response is replaced by a 503
 * (fail closed) or, when headers already left (a stream), the connection is cut.
 */
export function auditTrail(deps: { audit: AuditLog; logger: Logger }): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    // The app's first middleware assigned it (or took a caller's); the same id is in the logs.
    const requestId = (res.locals.requestId as string | undefined) ?? randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    const originalEnd = res.end.bind(res) as (...args: unknown[]) => Response;
    let ended = false;
    res.end = function auditedEnd(this: Response, ...args: unknown[]) {
      if (ended) return originalEnd(...args);
      ended = true;
      const principal = res.locals.principal as Principal | undefined;
      const note = auditNote(res);
      const record: AuditRecord = {
        requestId,
        user: principal?.user ?? 'anonymous',
        via: principal?.via,
        ip: req.ip ?? req.socket.remoteAddress ?? 'unknown',
        method: req.method,
        route: routeOf(req),
        status: res.statusCode,
        ms: Math.round(performance.now() - started),
      };
      if (note.documentIds) record.documentIds = [...new Set(note.documentIds)];
      if (note.jobId) record.jobId = note.jobId;
      if (note.questionHmac) record.questionHmac = note.questionHmac;
      if (note.k !== undefined) record.k = note.k;
      if (note.outcome) record.outcome = note.outcome;
      if (note.detail) record.detail = note.detail;
      deps.audit.append(record).then(
        () => originalEnd(...args),
        (err: unknown) => {
          deps.logger.error('audit: record could not be written; response withheld', { requestId, err: err as Error });
          if (res.headersSent) {
            res.destroy();
            return;
          }
          res.statusCode = 503;
          res.removeHeader('Content-Length');
          res.setHeader('Content-Type', 'application/json; charset=utf-8');
          originalEnd(JSON.stringify({ error: { code: 'AUDIT_UNAVAILABLE', message: 'the audit log cannot be written; the request was not served' } }));
        },
      );
      return res;
    } as Response['end'];
    next();
  };
}
