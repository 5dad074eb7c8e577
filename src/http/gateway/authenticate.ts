import type { Request, RequestHandler } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { sendError } from '../errors.js';
import type { JwtVerifier } from './jwt.js';
import { KEY_PREFIX, type KeyStore } from './keys.js';
import { hasScope, LOCAL_OPERATOR, type Principal, type Scope } from './principal.js';
import { clientIp, type AuthFailureGuard } from './rate-limit.js';

export type AuthFailureReason =
  | 'missing credentials'
  | 'malformed authorization header'
  | 'unknown token'
  | 'invalid api key'
  | 'invalid jwt'
  | 'unrecognised credential';

export interface AuthenticateDeps {
  /** Static tokens from SRAG_API_TOKENS (parseApiTokens). */
  tokens: Map<string, Principal>;
  keys?: KeyStore;
  jwt?: JwtVerifier;
  /** Told about every 401 (the app audits them); a rejection here fails the request. */
  onFailure?: (req: Request, reason: AuthFailureReason) => void | Promise<void>;
  /** Counts failures per address and turns an address away once it has failed too often. */
  guardFailures?: AuthFailureGuard;
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Digests have one length whatever was presented, and every token is compared, so neither the
 * length nor the position of a configured token shows in the response time.
 */
function tokenMatcher(tokens: Map<string, Principal>): (presented: string) => Principal | undefined {
  const known = [...tokens].map(([token, principal]) => ({ digest: sha256(token), principal }));
  return (presented) => {
    const digest = sha256(presented);
    let found: Principal | undefined;
    for (const k of known) if (timingSafeEqual(k.digest, digest)) found = k.principal;
    return found;
  };
}

const BEARER = /^Bearer +(\S+) *$/i;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Sets `res.locals.principal`. Without any credential configured the caller is the local operator
 * (the server allows that on loopback only). Once credentials exist, even if every key is later
 * revoked or the key file removed, this process keeps requiring them: a lost file must not open the API.
 */
export function authenticate(deps: AuthenticateDeps): RequestHandler {
  const { keys, jwt, guardFailures: guard } = deps;
  const matchToken = tokenMatcher(deps.tokens);
  let credentialed = deps.tokens.size > 0 || jwt !== undefined;

  async function requiresCredentials(): Promise<boolean> {
    if (!credentialed && keys) {
      await keys.refresh();
      credentialed = keys.size() > 0;
    }
    return credentialed;
  }

  async function identify(credential: string): Promise<Principal | AuthFailureReason> {
    const token = matchToken(credential);
    if (token) return token;
    if (credential.startsWith(KEY_PREFIX)) return (keys && (await keys.verify(credential))) || 'invalid api key';
    if (JWT_SHAPE.test(credential)) return (jwt && (await jwt.verify(credential))) || 'invalid jwt';
    return deps.tokens.size > 0 ? 'unknown token' : 'unrecognised credential';
  }

  return async (req, res, next) => {
    if (!(await requiresCredentials())) {
      res.locals.principal = LOCAL_OPERATOR;
      return next();
    }
    const ip = clientIp(req);
    const waitMs = guard ? await guard.authBlocked(ip) : undefined;
    if (waitMs !== undefined) {
      const seconds = String(Math.max(1, Math.ceil(waitMs / 1000)));
      res.set('Retry-After', seconds);
      return sendError(res, 429, 'RATE_LIMITED', `too many failed authentication attempts from this address; retry in ${seconds} s`);
    }
    const header = req.get('authorization');
    const match = header === undefined ? undefined : BEARER.exec(header);
    const result: Principal | AuthFailureReason =
      header === undefined ? 'missing credentials' : !match ? 'malformed authorization header' : await identify(match[1]);
    if (typeof result !== 'string') {
      res.locals.principal = result;
      return next();
    }
    // Only a presented credential counts towards the throttle: a client that sends none is not guessing.
    if (result !== 'missing credentials') await guard?.authFailure(ip);
    await deps.onFailure?.(req, result);
    res.set('WWW-Authenticate', result === 'missing credentials' ? 'Bearer' : 'Bearer error="invalid_token"');
    sendError(
      res,
      401,
      'UNAUTHORIZED',
      result === 'missing credentials' ? 'a bearer credential is required (Authorization: Bearer <token>)' : 'the bearer credential is not valid',
    );
  };
}

/** After authenticate: 403 unless the principal holds `scope` (admin holds every scope). */
export function requireScope(scope: Scope): RequestHandler {
  return (_req, res, next) => {
    const p = res.locals.principal as Principal | undefined;
    if (!p) throw new Error('requireScope mounted before authenticate');
    if (!hasScope(p, scope)) return sendError(res, 403, 'FORBIDDEN', `this credential lacks the ${scope} scope`);
    next();
  };
}
