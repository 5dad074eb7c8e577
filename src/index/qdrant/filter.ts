import type { Schemas } from '@qdrant/js-client-rest';
import { AppError } from '../../errors.js';
import type { PointFilter } from '../port.js';

export type QdrantFilter = Schemas['Filter'];
export type QdrantCondition = Schemas['Condition'];

function stringList(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new AppError('INVALID_INPUT', `filter.${field} must be an array of strings`);
  }
  // A copy: the filter may be built once and sent later, after the caller reused its array.
  return [...(value as string[])];
}

const matchValue = (key: string, value: string): QdrantCondition => ({ key, match: { value } });
const matchAny = (key: string, values: string[]): QdrantCondition => ({ key, match: { any: values } });

/**
 * The ACL condition: public points (empty acl) or points sharing a group. It is a `must` clause of its
 * own so the engine applies it while it walks the graph, never to an unfiltered top-k.
 */
function aclCondition(groups: string[]): QdrantCondition {
  const isPublic: QdrantCondition = { is_empty: { key: 'acl' } };
  if (groups.length === 0) return isPublic;
  return { should: [isPublic, matchAny('acl', groups)] };
}

/**
 * Translates the port's PointFilter into a Qdrant filter with the same meaning as the embedded
 * adapter's compileFilter; undefined when nothing constrains the points.
 */
export function toQdrantFilter(filter: PointFilter | undefined): QdrantFilter | undefined {
  if (!filter) return undefined;
  const must: QdrantCondition[] = [];
  const mustNot: QdrantCondition[] = [];
  if (filter.documentId !== undefined) must.push(matchValue('documentId', filter.documentId));
  if (filter.documentIds !== undefined) must.push(matchAny('documentId', stringList(filter.documentIds, 'documentIds')));
  if (filter.contentHash !== undefined) must.push(matchValue('contentHash', filter.contentHash));
  if (filter.notContentHash !== undefined) mustNot.push(matchValue('contentHash', filter.notContentHash));
  if (filter.aclAny !== undefined) must.push(aclCondition(stringList(filter.aclAny, 'aclAny')));
  if (must.length === 0 && mustNot.length === 0) return undefined;
  const out: QdrantFilter = {};
  if (must.length > 0) out.must = must;
  if (mustNot.length > 0) out.must_not = mustNot;
  return out;
}
