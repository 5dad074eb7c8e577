/** Who is calling, and what they may do. Built by authentication, read by every route. */

export const SCOPES = ['query', 'ingest', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  /** Stable user name: owns jobs, uploads and text sources. */
  user: string;
  /** Groups matched against document ACLs inside the index query. */
  groups: string[];
  /** What the caller may do; `admin` implies the others. */
  scopes: Scope[];
  /** The local operator on a loopback-only deployment without credentials: sees every document. */
  unrestricted: boolean;
  /** How the caller authenticated (audit). */
  via: 'local' | 'token' | 'key' | 'jwt';
  /** API key id or token fingerprint (audit; never the secret). */
  credentialId?: string;
}

export const LOCAL_OPERATOR: Principal = Object.freeze({
  user: 'local',
  groups: [],
  scopes: ['query', 'ingest', 'admin'],
  unrestricted: true,
  via: 'local',
}) as Principal;

export function hasScope(p: Principal, scope: Scope): boolean {
  return p.scopes.includes('admin') || p.scopes.includes(scope);
}

export function isAdmin(p: Principal): boolean {
  return p.unrestricted || p.scopes.includes('admin');
}

/** True when the caller holds every group of `acl` (an empty ACL is public: everybody holds it). */
export function holdsAll(p: Principal, acl: readonly string[]): boolean {
  if (p.unrestricted) return true;
  return acl.every((g) => p.groups.includes(g));
}
