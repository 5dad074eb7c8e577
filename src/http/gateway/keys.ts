import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { AppError, ConfigError } from '../../errors.js';
import { removeQuietly, writeFileAtomic } from '../../store/atomic.js';
import type { Principal, Scope } from './principal.js';
import { isScope, isValidName } from './tokens.js';

/**
 * Scoped API keys, kept in one JSON file in the data dir (`<dataDir>/keys.json`, mode 0600).
 * Only a salted SHA-256 of each secret is stored: secrets are 32 random bytes, so a slow KDF would
 * add latency to every request without making a guess any likelier. The CLI and the API may both
 * have the file open; each notices the other's writes through the file's identity (a rename makes a
 * new inode) and serialises its own writes with a lock file.
 */

export interface KeyRecord {
  id: string;
  user: string;
  groups: string[];
  scopes: Scope[];
  name?: string;
  createdAt: string;
  revokedAt?: string;
  /** Last successful use seen by this process (not persisted: a write per request is not worth it). */
  lastUsed?: string;
}

export interface NewKey {
  user: string;
  groups?: string[];
  /** Default: `query` only; ask for more explicitly. */
  scopes?: Scope[];
  name?: string;
}

export interface KeyStore {
  /** The secret is returned here once and never stored. */
  create(input: NewKey): Promise<{ id: string; secret: string; record: KeyRecord }>;
  list(): Promise<KeyRecord[]>;
  /** Idempotent; throws NOT_FOUND for an unknown id. */
  revoke(id: string): Promise<KeyRecord>;
  verify(presented: string): Promise<Principal | undefined>;
  /** Records on file, revoked ones included: once keys exist the API requires credentials for good. */
  size(): number;
  /** Re-reads the file if another process changed it (throttled like `verify`). */
  refresh(): Promise<void>;
}

export interface KeyStoreOptions {
  /** How often to stat the file for changes by another process; 0: on every call. */
  statIntervalMs?: number;
  now?: () => Date;
}

interface StoredKey extends Omit<KeyRecord, 'lastUsed'> {
  salt: string;
  hash: string;
}

interface KeyFile {
  version: 1;
  keys: StoredKey[];
}

export const KEY_PREFIX = 'srag_';

/** Where the API and the CLI both look for keys. */
export function keyFileIn(dataDir: string): string {
  return path.join(dataDir, 'keys.json');
}
const SECRET = /^srag_([0-9a-f]{16})_([A-Za-z0-9_-]{43,128})$/;
const ID = /^[0-9a-f]{16}$/;
const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 10_000;

function hashSecret(salt: Buffer, secret: string): Buffer {
  return createHash('sha256').update(salt).update(secret, 'utf8').digest();
}

function publicRecord(k: StoredKey, lastUsed: string | undefined): KeyRecord {
  const r: KeyRecord = { id: k.id, user: k.user, groups: [...k.groups], scopes: [...k.scopes], createdAt: k.createdAt };
  if (k.name !== undefined) r.name = k.name;
  if (k.revokedAt !== undefined) r.revokedAt = k.revokedAt;
  if (lastUsed !== undefined) r.lastUsed = lastUsed;
  return r;
}

function parseKeyFile(file: string, text: string): StoredKey[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file} is not valid JSON: fix or remove it (keys in it stop working)`, { cause: err });
  }
  const keys = (data as Partial<KeyFile> | null)?.keys;
  if ((data as Partial<KeyFile> | null)?.version !== 1 || !Array.isArray(keys)) {
    throw new ConfigError(`${file} is not a key file this version understands`);
  }
  for (const k of keys as StoredKey[]) {
    const ok =
      typeof k?.id === 'string' && ID.test(k.id) && typeof k.user === 'string' && Array.isArray(k.groups) &&
      Array.isArray(k.scopes) && k.scopes.every((s) => isScope(s)) && typeof k.salt === 'string' && typeof k.hash === 'string';
    if (!ok) throw new ConfigError(`${file} holds a malformed key record`);
  }
  return keys as StoredKey[];
}

/** Identity of the file as it is now; a rename-over gives a new inode even within one mtime tick. */
async function fileSignature(file: string): Promise<string> {
  try {
    const st = await fsp.stat(file, { bigint: true });
    return `${st.ino}:${st.size}:${st.mtimeNs}`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
}

/** A lock file across processes (the CLI and the API); a lock older than LOCK_STALE_MS is a crashed writer's. */
async function withFileLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${file}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const h = await fsp.open(lock, 'wx', 0o600);
      await h.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const st = await fsp.stat(lock).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > LOCK_STALE_MS) await removeQuietly(lock);
      else if (Date.now() > deadline) throw new AppError('RESOURCE_LIMIT', `${lock} is held by another process; try again`);
      else await new Promise((r) => setTimeout(r, 25));
    }
  }
  try {
    return await fn();
  } finally {
    await removeQuietly(lock);
  }
}

export async function openKeyStore(file: string, opts: KeyStoreOptions = {}): Promise<KeyStore> {
  const statIntervalMs = opts.statIntervalMs ?? 1000;
  const now = opts.now ?? (() => new Date());
  let keys: StoredKey[] = [];
  let byId = new Map<string, StoredKey>();
  let signature = '';
  let lastStat = 0;
  let reloading: Promise<void> | undefined;
  const lastUsed = new Map<string, string>();
  // Writes within this process queue here; across processes the lock file orders them.
  let writes: Promise<unknown> = Promise.resolve();

  async function load(): Promise<void> {
    const sig = await fileSignature(file);
    if (sig === signature) return;
    let text: string | undefined;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    keys = text === undefined ? [] : parseKeyFile(file, text);
    byId = new Map(keys.map((k) => [k.id, k]));
    signature = sig;
  }

  async function refresh(): Promise<void> {
    const t = Date.now();
    if (statIntervalMs > 0 && t - lastStat < statIntervalMs) return;
    lastStat = t;
    reloading ??= load().finally(() => {
      reloading = undefined;
    });
    await reloading;
  }

  /** Read the latest file, change it, write it back: all under the lock so no writer loses another's change. */
  function mutate<T>(change: (current: StoredKey[]) => { next: StoredKey[]; result: T }): Promise<T> {
    const run = writes.then(() =>
      withFileLock(file, async () => {
        await load();
        const { next, result } = change(keys);
        if (next !== keys) {
          await writeFileAtomic(file, JSON.stringify({ version: 1, keys: next } satisfies KeyFile, null, 2) + '\n');
          signature = '';
          await load();
        }
        return result;
      }),
    );
    writes = run.catch(() => undefined);
    return run;
  }

  await fsp.mkdir(path.dirname(file), { recursive: true });
  await load();
  lastStat = Date.now();

  return {
    async create(input) {
      if (!isValidName(input.user)) throw new AppError('INVALID_INPUT', 'user must be 1 to 128 characters of letters, digits and _.@-');
      const groups = [...new Set(input.groups ?? [])];
      for (const g of groups) if (!isValidName(g)) throw new AppError('INVALID_INPUT', 'each group must be 1 to 128 characters of letters, digits and _.@-');
      const scopes = [...new Set(input.scopes ?? ['query'])];
      if (scopes.length === 0 || !scopes.every((s) => isScope(s))) throw new AppError('INVALID_INPUT', 'scopes must be one or more of query, ingest, admin');
      const name = input.name?.trim();
      if (name !== undefined && (name.length === 0 || name.length > 100 || /\p{Cc}/u.test(name))) {
        throw new AppError('INVALID_INPUT', 'name must be 1 to 100 printable characters');
      }
      return mutate((current) => {
        let id: string;
        do id = randomBytes(8).toString('hex');
        while (current.some((k) => k.id === id));
        const secret = `${KEY_PREFIX}${id}_${randomBytes(32).toString('base64url')}`;
        const salt = randomBytes(16);
        const stored: StoredKey = {
          id,
          user: input.user,
          groups,
          scopes,
          ...(name !== undefined ? { name } : {}),
          createdAt: now().toISOString(),
          salt: salt.toString('base64url'),
          hash: hashSecret(salt, secret).toString('base64url'),
        };
        return { next: [...current, stored], result: { id, secret, record: publicRecord(stored, undefined) } };
      });
    },

    async list() {
      await refresh();
      return keys.map((k) => publicRecord(k, lastUsed.get(k.id)));
    },

    async revoke(id) {
      return mutate((current) => {
        const found = current.find((k) => k.id === id);
        if (!found) throw new AppError('NOT_FOUND', `no API key with id ${ID.test(id) ? id : '(malformed id)'}`);
        if (found.revokedAt !== undefined) return { next: current, result: publicRecord(found, lastUsed.get(id)) };
        const revoked = { ...found, revokedAt: now().toISOString() };
        return { next: current.map((k) => (k === found ? revoked : k)), result: publicRecord(revoked, lastUsed.get(id)) };
      });
    },

    async verify(presented) {
      const m = SECRET.exec(presented);
      if (!m) return undefined;
      await refresh();
      const k = byId.get(m[1]);
      if (!k || k.revokedAt !== undefined) return undefined;
      const expected = Buffer.from(k.hash, 'base64url');
      const actual = hashSecret(Buffer.from(k.salt, 'base64url'), presented);
      if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
      lastUsed.set(k.id, now().toISOString());
      return { user: k.user, groups: [...k.groups], scopes: [...k.scopes], unrestricted: false, via: 'key', credentialId: k.id };
    },

    size: () => keys.length,
    refresh,
  };
}
