import { createHash } from 'node:crypto';
import { ConfigError } from '../../errors.js';
import { SCOPES, type Principal, type Scope } from './principal.js';

/**
 * Static bearer tokens from SRAG_API_TOKENS:
 *   "<token>=<user>[:<group>|<group>[:<scope>+<scope>]],…"
 * Parsing is strict because a typo here silently changes who may do what. Error messages name the
 * entry by position only: the entry holds a secret and configuration errors end up in logs.
 */

/** Letters, digits and `-_.~+/`: base64, base64url and hex tokens all fit; `=`, `,` and `:` would not parse. */
const TOKEN = /^[A-Za-z0-9\-_.~+/]{16,512}$/;
/** User and group names: they reach job ownership, ACLs and audit lines, so no separators or spaces. */
export const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,127}$/;
/** What entries without a scope list get, so that setups from before scopes keep working. */
export const DEFAULT_TOKEN_SCOPES: readonly Scope[] = ['query', 'ingest'];

export function isValidName(s: string): boolean {
  return NAME.test(s);
}

export function isScope(s: string): s is Scope {
  return (SCOPES as readonly string[]).includes(s);
}

/** Audit id of a static token: enough to tell tokens apart, useless for guessing one. */
export function tokenFingerprint(token: string): string {
  return `tok-${createHash('sha256').update(token).digest('hex').slice(0, 12)}`;
}

export function parseApiTokens(spec: string | undefined): Map<string, Principal> {
  const out = new Map<string, Principal>();
  const positions = new Map<string, number>();
  if (!spec) return out;
  const entries = spec.split(',').map((s) => s.trim());
  entries.forEach((entry, i) => {
    const n = i + 1;
    const fail = (why: string): never => {
      throw new ConfigError(`SRAG_API_TOKENS entry ${n}: ${why}`, { details: { entry: n } });
    };
    if (entry === '') {
      // A trailing comma is harmless; an empty entry between two others is probably a lost token.
      if (i === entries.length - 1 && i > 0) return;
      fail('is empty');
    }
    const eq = entry.indexOf('=');
    if (eq < 0) fail('must be <token>=<user>[:<group>|<group>[:<scope>+<scope>]]');
    if (entry.indexOf('=', eq + 1) >= 0) fail("has more than one '=': a token must not contain '=' (drop base64 padding)");
    const token = entry.slice(0, eq);
    if (!TOKEN.test(token)) fail('the token must be 16 to 512 characters of letters, digits and -_.~+/');
    const parts = entry.slice(eq + 1).split(':');
    if (parts.length > 3) fail('has more than three colon-separated parts after the token');
    const [user, groupPart = '', scopePart] = parts;
    if (!isValidName(user)) fail('the user name must be 1 to 128 characters of letters, digits and _.@- (not starting with . @ or -)');
    const groups = groupPart === '' ? [] : groupPart.split('|');
    for (const g of groups) if (!isValidName(g)) fail('a group name must be 1 to 128 characters of letters, digits and _.@-');
    let scopes: Scope[] = [...DEFAULT_TOKEN_SCOPES];
    if (scopePart !== undefined) {
      if (scopePart === '') fail('the scope list after the second colon is empty');
      const named = scopePart.split('+');
      for (const s of named) if (!isScope(s)) fail(`unknown scope (expected ${SCOPES.join(', ')})`);
      scopes = [...new Set(named as Scope[])];
    }
    const earlier = positions.get(token);
    if (earlier !== undefined) fail(`repeats the token of entry ${earlier}`);
    positions.set(token, n);
    out.set(token, {
      user,
      groups: [...new Set(groups)],
      scopes,
      unrestricted: false,
      via: 'token',
      credentialId: tokenFingerprint(token),
    });
  });
  return out;
}
