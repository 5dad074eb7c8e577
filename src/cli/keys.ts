import { AppError } from '../errors.js';
import { keyFileIn, openKeyStore, type KeyRecord } from '../http/gateway/keys.js';
import type { Scope } from '../http/gateway/principal.js';
import { isScope } from '../http/gateway/tokens.js';
import { stringFlag, type ParsedArgs } from './args.js';

/**
 * `srag keys create|list|revoke`: works on the key file directly, so keys can be issued before the
 * API starts or while it runs (the API notices the change on its own).
 */

const list = (s: string | undefined) => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);

function describe(r: KeyRecord): string {
  const state = r.revokedAt ? `revoked ${r.revokedAt}` : 'active';
  const groups = r.groups.length > 0 ? r.groups.join(',') : '-';
  return `${r.id}  ${r.user}  groups=${groups}  scopes=${r.scopes.join(',')}  ${state}  created ${r.createdAt}${r.name ? `  "${r.name}"` : ''}`;
}

export async function runKeys(dataDir: string, args: ParsedArgs, json: boolean, out: (s: string) => void): Promise<number> {
  const [sub, ...rest] = args.positionals;
  const usage = 'usage: srag keys create --user U [--groups g1,g2] [--scopes query,ingest] [--name N] | list | revoke <id>';
  if (sub !== 'create' && sub !== 'list' && sub !== 'revoke') throw new AppError('INVALID_INPUT', usage);
  const store = await openKeyStore(keyFileIn(dataDir));
  switch (sub) {
    case 'create': {
      const user = stringFlag(args, 'user');
      if (!user) throw new AppError('INVALID_INPUT', 'srag keys create needs --user NAME');
      const scopes = list(stringFlag(args, 'scopes'));
      const unknown = scopes.filter((s) => !isScope(s));
      if (unknown.length > 0) throw new AppError('INVALID_INPUT', `unknown scope(s) ${unknown.join(', ')}: use query, ingest, admin`);
      const { secret, record } = await store.create({
        user,
        groups: list(stringFlag(args, 'groups')),
        scopes: scopes.length > 0 ? (scopes as Scope[]) : undefined,
        name: stringFlag(args, 'name'),
      });
      if (json) out(JSON.stringify({ ...record, secret }));
      else {
        out(`created key ${describe(record)}`);
        out(secret);
        out('Store this secret now: it will not be shown again (only its salted hash is kept).');
      }
      return 0;
    }
    case 'list': {
      const keys = await store.list();
      if (json) out(JSON.stringify({ keys }));
      else if (keys.length === 0) out('no API keys (create one with: srag keys create --user NAME)');
      else for (const k of keys) out(describe(k));
      return 0;
    }
    case 'revoke': {
      const id = rest[0];
      if (!id) throw new AppError('INVALID_INPUT', 'srag keys revoke needs a key id (see srag keys list)');
      const record = await store.revoke(id);
      if (json) out(JSON.stringify(record));
      else out(`revoked ${describe(record)}`);
      return 0;
    }
  }
}
