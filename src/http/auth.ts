import type { RequestHandler } from 'express';
import { timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { sendError } from './errors.js';

export interface Principal {
  user: string;
  /** Groups matched against document ACLs inside the index query. */
  groups: string[];
  /** The local operator on a loopback-only deployment without tokens: sees every document. */
  unrestricted: boolean;
}

const LOCAL: Principal = { user: 'local', groups: [], unrestricted: true };

/**
 * SRAG_API_TOKENS="token=user:group1|group2,token2=user2". Tokens are compared in constant time
 * and never logged.
 */
export function parseApiTokens(spec: string | undefined): Map<string, Principal> {
  const out = new Map<string, Principal>();
  if (!spec) return out;
  for (const entry of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    if (eq < 16) throw new ConfigError('SRAG_API_TOKENS: each entry is token=user[:group|group], with tokens of 16+ characters');
    const [user, groups = ''] = entry.slice(eq + 1).split(':');
    if (!user) throw new ConfigError('SRAG_API_TOKENS: an entry has no user name');
    out.set(entry.slice(0, eq), { user, groups: groups.split('|').filter(Boolean), unrestricted: false });
  }
  return out;
}

function findToken(tokens: Map<string, Principal>, presented: string): Principal | undefined {
  const p = Buffer.from(presented);
  for (const [token, principal] of tokens) {
    const t = Buffer.from(token);
    if (t.length === p.length && timingSafeEqual(t, p)) return principal;
  }
  return undefined;
}

/** Bearer-token auth once tokens are configured; loopback-only without tokens serves the local operator. */
export function authenticate(tokens: Map<string, Principal>): RequestHandler {
  return (req, res, next) => {
    if (tokens.size === 0) {
      res.locals.principal = LOCAL;
      return next();
    }
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const principal = match ? findToken(tokens, match[1]) : undefined;
    if (!principal) {
      res.set('WWW-Authenticate', 'Bearer');
      return sendError(res, 401, 'UNAUTHORIZED', 'a valid bearer token is required');
    }
    res.locals.principal = principal;
    next();
  };
}
