import type { Request, RequestHandler, Response } from 'express';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../../config.js';
import { sendError } from '../errors.js';
import type { Principal } from './principal.js';

/**
 * Fixed one-minute budgets, in memory (one API process; a cluster would swap in a shared store).
 * Responses carry the IETF RateLimit-* fields so well-behaved clients can slow down before a 429.
 */

export interface AuthFailureGuard {
  /** Counts one failed authentication from `ip`. */
  authFailure(ip: string): Promise<void>;
  /** Milliseconds until `ip` may try again, or undefined when it is not blocked. */
  authBlocked(ip: string): Promise<number | undefined>;
}

export interface RateLimits extends AuthFailureGuard {
  /** Before authentication: every request, keyed by client address. */
  perIp: RequestHandler;
  /** After authentication: keyed by the principal; the local operator is not limited. */
  perPrincipal(kind: 'query' | 'ingest'): RequestHandler;
}

const WINDOW_SEC = 60;

function resetSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** When two limiters answer one request, the client should see the tighter one. */
function setRateHeaders(res: Response, limit: number, r: RateLimiterRes): void {
  const remaining = Math.max(0, r.remainingPoints);
  const shown = Number(res.getHeader('RateLimit-Remaining'));
  if (res.getHeader('RateLimit-Remaining') !== undefined && shown <= remaining) return;
  res.setHeader('RateLimit-Limit', String(limit));
  res.setHeader('RateLimit-Remaining', String(remaining));
  res.setHeader('RateLimit-Reset', String(resetSeconds(r.msBeforeNext)));
}

function limiterMiddleware(limiter: RateLimiterMemory, limit: number, keyOf: (req: Request, res: Response) => string | undefined, what: string): RequestHandler {
  return async (req, res, next) => {
    const key = keyOf(req, res);
    if (key === undefined) return next();
    try {
      setRateHeaders(res, limit, await limiter.consume(key));
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      // Over budget: the headers describe the window that has to pass.
      res.setHeader('RateLimit-Limit', String(limit));
      res.setHeader('RateLimit-Remaining', '0');
      res.setHeader('RateLimit-Reset', String(resetSeconds(err.msBeforeNext)));
      res.setHeader('Retry-After', String(resetSeconds(err.msBeforeNext)));
      return sendError(res, 429, 'RATE_LIMITED', `too many ${what}; retry in ${resetSeconds(err.msBeforeNext)} s`);
    }
    next();
  };
}

/** The address Express settled on (it honours `trust proxy` when the app sets it). */
export function clientIp(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

export function createRateLimits(cfg: Config['rateLimits']): RateLimits {
  const ip = new RateLimiterMemory({ keyPrefix: 'ip', points: cfg.ipPerMin, duration: WINDOW_SEC });
  const byKind = {
    query: { limiter: new RateLimiterMemory({ keyPrefix: 'query', points: cfg.queryPerMin, duration: WINDOW_SEC }), limit: cfg.queryPerMin },
    ingest: { limiter: new RateLimiterMemory({ keyPrefix: 'ingest', points: cfg.ingestPerMin, duration: WINDOW_SEC }), limit: cfg.ingestPerMin },
  };
  const failures = new RateLimiterMemory({ keyPrefix: 'authfail', points: cfg.authFailuresPerMin, duration: WINDOW_SEC });

  return {
    perIp: limiterMiddleware(ip, cfg.ipPerMin, (req) => clientIp(req), 'requests from this address'),
    perPrincipal(kind) {
      const { limiter, limit } = byKind[kind];
      return limiterMiddleware(
        limiter,
        limit,
        (_req, res) => {
          const p = res.locals.principal as Principal | undefined;
          if (!p) throw new Error('perPrincipal rate limit mounted before authenticate');
          if (p.unrestricted) return undefined;
          // `via` keeps a JWT subject and a same-named key user from sharing (or draining) one budget.
          return `${p.via}:${p.user}`;
        },
        `${kind} requests from this credential`,
      );
    },
    async authFailure(addr) {
      try {
        await failures.consume(addr);
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) throw err;
      }
    },
    async authBlocked(addr) {
      const r = await failures.get(addr);
      if (!r || r.consumedPoints < cfg.authFailuresPerMin) return undefined;
      return Math.max(1, r.msBeforeNext);
    },
  };
}
