import type { RequestHandler } from 'express';
import { sendError } from '../errors.js';

/**
 * Without credentials the API trusts whoever reaches it on loopback. A web page the operator visits
 * can reach loopback too: through DNS rebinding (its own host name resolving to 127.0.0.1) or a
 * cross-origin form post. So in that mode the Host must be a loopback name (or one the operator
 * allowed), and a browser request must come from a loopback origin.
 */

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** The host name of a Host header or an origin, lower-cased, without port; undefined when unparsable. */
function hostName(hostHeader: string): string | undefined {
  const h = hostHeader.trim().toLowerCase();
  if (h === '') return undefined;
  if (h.startsWith('[')) {
    const close = h.indexOf(']');
    return close === -1 ? undefined : h.slice(0, close + 1);
  }
  const colon = h.indexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

function isLoopbackName(name: string, allowed: ReadonlySet<string>): boolean {
  return LOOPBACK_NAMES.has(name) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name) || allowed.has(name);
}

export function loopbackGuard(opts: { allowedHosts: readonly string[] }): RequestHandler {
  const allowed = new Set(opts.allowedHosts.map((h) => h.toLowerCase()));
  return (req, res, next) => {
    const host = hostName(req.get('host') ?? '');
    if (!host || !isLoopbackName(host, allowed)) {
      return sendError(res, 403, 'FORBIDDEN', 'unexpected Host header: this API answers loopback names only (set SRAG_ALLOWED_HOSTS to add one)');
    }
    const origin = req.get('origin');
    if (origin !== undefined) {
      let originHost: string | undefined;
      try {
        originHost = origin === 'null' ? undefined : hostName(new URL(origin).host);
      } catch {
        originHost = undefined;
      }
      if (!originHost || !isLoopbackName(originHost, allowed)) {
        return sendError(res, 403, 'FORBIDDEN', 'cross-origin requests are refused');
      }
    }
    // Browsers label requests from other sites even when they omit Origin (e.g. some navigations).
    if (req.get('sec-fetch-site') === 'cross-site') return sendError(res, 403, 'FORBIDDEN', 'cross-origin requests are refused');
    next();
  };
}
