import { AppError } from '../errors.js';
import type { ChunkPayload } from '../domain/types.js';
import type { PointFilter } from './port.js';

export type PayloadPredicate = (payload: ChunkPayload) => boolean;

export interface CompiledFilter {
  /** Documents that bound the candidate set (undefined: every point is a candidate). */
  documentIds?: string[];
  /** Remaining conditions, checked per candidate before its vector is touched; undefined: none. */
  predicate?: PayloadPredicate;
}

function stringList(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new AppError('INVALID_INPUT', `filter.${field} must be an array of strings`);
  }
  return value as string[];
}

/** Turns a PointFilter into a candidate bound plus one predicate; an empty filter matches every point. */
export function compileFilter(filter: PointFilter | undefined): CompiledFilter {
  if (!filter) return {};
  const tests: PayloadPredicate[] = [];
  let documentIds: string[] | undefined;
  if (filter.documentId !== undefined) documentIds = [filter.documentId];
  if (filter.documentIds !== undefined) {
    const allowed = new Set(stringList(filter.documentIds, 'documentIds'));
    documentIds = documentIds ? documentIds.filter((d) => allowed.has(d)) : [...allowed];
  }
  if (filter.contentHash !== undefined) {
    const hash = filter.contentHash;
    tests.push((p) => p.contentHash === hash);
  }
  if (filter.notContentHash !== undefined) {
    const hash = filter.notContentHash;
    tests.push((p) => p.contentHash !== hash);
  }
  if (filter.aclAny !== undefined) {
    const groups = new Set(stringList(filter.aclAny, 'aclAny'));
    tests.push((p) => {
      const acl = p.acl;
      if (!acl || acl.length === 0) return true;
      for (let i = 0; i < acl.length; i++) if (groups.has(acl[i])) return true;
      return false;
    });
  }
  const predicate: PayloadPredicate | undefined =
    tests.length === 0 ? undefined : tests.length === 1 ? tests[0] : (p) => tests.every((t) => t(p));
  return { documentIds, predicate };
}
