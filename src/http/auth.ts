import type { RequestHandler } from 'express';
import { authenticate as authenticateWith, type AuthenticateDeps } from './gateway/authenticate.js';
import type { Principal } from './gateway/principal.js';

/** The gateway lives in ./gateway/; this module keeps the older import path working. */
export { parseApiTokens } from './gateway/tokens.js';
export { requireScope, type AuthenticateDeps } from './gateway/authenticate.js';
export type { Principal } from './gateway/principal.js';

/** `authenticate(tokens)` is the static-token form from before API keys and JWTs. */
export function authenticate(tokens: Map<string, Principal>): RequestHandler;
export function authenticate(deps: AuthenticateDeps): RequestHandler;
export function authenticate(arg: Map<string, Principal> | AuthenticateDeps): RequestHandler {
  return authenticateWith(arg instanceof Map ? { tokens: arg } : arg);
}
