import { createHmac, timingSafeEqual } from 'node:crypto';

/** The `prev` of the very first record: no record has this mac, so the chain has one fixed start. */
export const GENESIS_MAC = '0'.repeat(64);

export const AUDIT_KEY_BYTES = 32;

/** One purpose per key, all derived from the single secret in `audit.key`. */
export interface AuditKeys {
  chain: Buffer;
  question: Buffer;
  head: Buffer;
}

/**
 * Domain separation matters here: if questions were hashed with the chain key, anyone allowed to ask
 * could submit the canonical JSON of a forged record as a question and read a valid mac for it back
 * out of the log. Deriving a key per purpose closes that.
 */
export function deriveAuditKeys(master: Buffer): AuditKeys {
  const sub = (label: string) => createHmac('sha256', master).update(label).digest();
  return { chain: sub('srag audit chain v1'), question: sub('srag audit question v1'), head: sub('srag audit head v1') };
}

export function hmacHex(key: Buffer, data: string): string {
  return createHmac('sha256', key).update(data, 'utf8').digest('hex');
}

export function sameMac(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * JSON with object keys sorted and undefined members dropped, so a record hashes the same whether it
 * is freshly built or parsed back from its line (key order and spacing of the line do not matter).
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
    }
    default:
      throw new TypeError(`canonicalJson: cannot encode a ${typeof value}`);
  }
}
