import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Config } from '../../config.js';
import { AppError, ConfigError } from '../../errors.js';
import type { Principal, Scope } from './principal.js';
import { isScope } from './tokens.js';

/**
 * Bearer JWTs from an OIDC identity provider, checked against its JWKS or one configured public key.
 * Only asymmetric algorithms are accepted: a shared-secret (HS*) token could be forged by anybody who
 * holds the public key, and `none` is never a signature.
 */

export interface JwtVerifier {
  verify(token: string): Promise<Principal | undefined>;
}

export type JwtVerifierOptions = NonNullable<Config['jwt']> & {
  /** Seconds of clock skew tolerated on exp/nbf/iat. */
  clockToleranceSec?: number;
  /** Narrows the accepted algorithms further (never widens past the asymmetric set). */
  algorithms?: string[];
  /** JWKS fetch timeout, ms. */
  jwksTimeoutMs?: number;
};

const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

/** The algorithms a given public key can honestly verify; anything else is refused before any crypto. */
function algorithmsFor(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512'];
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1' || curve === 'P-256') return ['ES256'];
      if (curve === 'secp384r1' || curve === 'P-384') return ['ES384'];
      if (curve === 'secp521r1' || curve === 'P-521') return ['ES512'];
      break;
    }
    case 'ed25519':
      return ['EdDSA', 'Ed25519'];
  }
  throw new ConfigError(`SRAG_JWT_PUBLIC_KEY: unsupported key type ${key.asymmetricKeyType ?? 'unknown'}`);
}

function loadPublicKey(spec: string): KeyObject {
  let pem = spec;
  if (!spec.includes('-----BEGIN')) {
    try {
      pem = readFileSync(spec, 'utf8');
    } catch (err) {
      throw new ConfigError('SRAG_JWT_PUBLIC_KEY is neither PEM text nor a readable PEM file', { cause: err });
    }
  }
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new ConfigError('SRAG_JWT_PUBLIC_KEY holds a private key: give the API the public key only');
  }
  try {
    return createPublicKey(pem);
  } catch (err) {
    throw new ConfigError('SRAG_JWT_PUBLIC_KEY is not a PEM public key', { cause: err });
  }
}

/** Keys fetched over plain HTTP could be swapped in transit; loopback is the one place that is safe. */
function jwksUrl(spec: string): URL {
  let url: URL;
  try {
    url = new URL(spec);
  } catch (err) {
    throw new ConfigError('SRAG_JWT_JWKS_URL is not a URL', { cause: err });
  }
  const loopback = url.hostname === 'localhost' || url.hostname === '[::1]' || url.hostname.startsWith('127.');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new ConfigError('SRAG_JWT_JWKS_URL must use https (plain http only on loopback)');
  }
  return url;
}

/** Marks a failure to reach the identity provider, which is not the caller's fault. */
class JwksUnavailable extends Error {}

/** Exact claim name first (namespaced claims contain dots), then a dotted path (`realm_access.roles`). */
function claim(payload: JWTPayload, name: string): unknown {
  // Own properties only: a claim name like `constructor` must not reach the prototype.
  if (Object.hasOwn(payload, name)) return payload[name];
  let v: unknown = payload;
  for (const part of name.split('.')) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, part)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

function stringList(value: unknown, separators: RegExp): string[] {
  const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(separators) : [];
  return items.filter((s): s is string => typeof s === 'string').map((s) => s.trim()).filter((s) => s.length > 0);
}

const PRINTABLE = /^[^\p{Cc}]{1,256}$/u;

/** `srag:query` or `query`, as an array or a space-separated `scope` string; none recognised: `query` only. */
export function scopesFromClaim(value: unknown): Scope[] {
  const found = stringList(value, /\s+/)
    .map((s) => (s.startsWith('srag:') ? s.slice(5) : s))
    .filter(isScope);
  return found.length > 0 ? [...new Set(found)] : ['query'];
}

export function createJwtVerifier(opts: JwtVerifierOptions): JwtVerifier {
  if (opts.jwksUrl && opts.publicKey) throw new ConfigError('set SRAG_JWT_JWKS_URL or SRAG_JWT_PUBLIC_KEY, not both');
  let getKey: KeyObject | JWTVerifyGetKey;
  let algorithms: string[];
  if (opts.jwksUrl) {
    const remote = createRemoteJWKSet(jwksUrl(opts.jwksUrl), { timeoutDuration: opts.jwksTimeoutMs ?? 5000 });
    algorithms = ASYMMETRIC;
    getKey = async (header, token) => {
      try {
        return await remote(header, token);
      } catch (err) {
        // No key for this `kid` is the token's problem; a timeout, a non-200 or bad JSON is the provider's.
        if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys || err instanceof errors.JOSENotSupported) throw err;
        throw new JwksUnavailable('JWKS unavailable', { cause: err });
      }
    };
  } else if (opts.publicKey) {
    const key = loadPublicKey(opts.publicKey);
    getKey = key;
    algorithms = algorithmsFor(key);
  } else {
    throw new ConfigError('JWT verification needs SRAG_JWT_JWKS_URL or SRAG_JWT_PUBLIC_KEY');
  }
  if (opts.algorithms) algorithms = algorithms.filter((a) => opts.algorithms!.includes(a));
  if (algorithms.length === 0) throw new ConfigError('no JWT algorithm left to accept for this key');

  const verifyOptions = {
    algorithms,
    issuer: opts.issuer,
    audience: opts.audience,
    clockTolerance: opts.clockToleranceSec ?? 30,
    // A token without an expiry would be a credential for life.
    requiredClaims: ['exp'],
  };

  return {
    async verify(token) {
      let payload: JWTPayload;
      try {
        // Two overloads (key vs. key function) make TypeScript want the branches apart.
        payload = typeof getKey === 'function' ? (await jwtVerify(token, getKey, verifyOptions)).payload : (await jwtVerify(token, getKey, verifyOptions)).payload;
      } catch (err) {
        if (err instanceof JwksUnavailable) {
          throw new AppError('UPSTREAM_ERROR', "the identity provider's signing keys could not be fetched", { cause: err.cause });
        }
        // Everything else (bad signature, expired, wrong issuer/audience, malformed, key/alg mismatch) is a bad token.
        return undefined;
      }
      const user = claim(payload, opts.userClaim);
      if (typeof user !== 'string' || !PRINTABLE.test(user)) return undefined;
      const groups = [...new Set(stringList(claim(payload, opts.groupsClaim), /[\s,]+/).filter((g) => PRINTABLE.test(g)))];
      return {
        user,
        groups,
        scopes: scopesFromClaim(claim(payload, opts.scopesClaim)),
        unrestricted: false,
        via: 'jwt',
        // The IdP's token id lets an auditor find the login; without one, a fingerprint still tells tokens apart.
        credentialId: typeof payload.jti === 'string' && PRINTABLE.test(payload.jti) ? `jwt:${payload.jti.slice(0, 64)}` : `jwt-${createHash('sha256').update(token).digest('hex').slice(0, 12)}`,
      };
    },
  };
}
