import { AppError } from '../errors.js';

// Segments are restricted to a portable, shell-safe alphabet. A leading dot is refused so that temp
// files (which start with a dot) can never collide with, or be listed as, a real key.
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._=+-]{0,254}$/;
const MAX_KEY_LENGTH = 1024;

/** Splits a store key into validated segments; throws INVALID_INPUT on anything that could escape the root. */
export function keySegments(key: string): string[] {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new AppError('INVALID_INPUT', 'store key must be a non-empty string of at most 1024 characters');
  }
  const segments = key.split('/');
  for (const segment of segments) {
    if (segment === '' || segment === '.' || segment === '..' || !SEGMENT.test(segment)) {
      throw new AppError('INVALID_INPUT', 'store key has an empty, relative or unsupported segment', {
        details: { key },
      });
    }
  }
  return segments;
}

/**
 * Validates a list prefix. It may be empty (everything) and may end in '/' or in a partial segment
 * (`sources/a` matches `sources/ab/...`); every complete segment must be a valid key segment.
 */
export function prefixSegments(prefix: string): { dirSegments: string[]; prefix: string } {
  if (typeof prefix !== 'string' || prefix.length > MAX_KEY_LENGTH) {
    throw new AppError('INVALID_INPUT', 'store prefix must be a string of at most 1024 characters');
  }
  if (prefix === '') return { dirSegments: [], prefix };
  const parts = prefix.split('/');
  const partial = parts.pop() ?? '';
  if (partial !== '' && !/^[A-Za-z0-9._=+-]+$/.test(partial)) {
    throw new AppError('INVALID_INPUT', 'store prefix has unsupported characters', { details: { prefix } });
  }
  if (parts.length > 0) keySegments(parts.join('/'));
  return { dirSegments: parts, prefix };
}

const HASH = /^[0-9a-f]{64}$/;

/** `sources/<first 2 hex>/<sha256>`: the fan-out keeps directories small at millions of sources. */
export function contentKeyFor(hash: string): string {
  if (!HASH.test(hash)) throw new AppError('INVALID_INPUT', 'content hash must be 64 lowercase hex characters');
  return `sources/${hash.slice(0, 2)}/${hash}`;
}
