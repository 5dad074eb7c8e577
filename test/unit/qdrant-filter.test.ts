import { describe, expect, it } from 'vitest';
import type { PointFilter } from '../../src/index/port.js';
import { toQdrantFilter, type QdrantFilter } from '../../src/index/qdrant/filter.js';

const publicOnly = { is_empty: { key: 'acl' } };
const aclOf = (...groups: string[]) => ({ should: [publicOnly, { key: 'acl', match: { any: groups } }] });

describe('toQdrantFilter', () => {
  it.each<[string, PointFilter | undefined, QdrantFilter | undefined]>([
    ['no filter', undefined, undefined],
    ['empty filter', {}, undefined],
    ['documentId', { documentId: 'doc_a' }, { must: [{ key: 'documentId', match: { value: 'doc_a' } }] }],
    ['documentIds', { documentIds: ['doc_a', 'doc_b'] }, { must: [{ key: 'documentId', match: { any: ['doc_a', 'doc_b'] } }] }],
    ['documentIds empty: matches nothing', { documentIds: [] }, { must: [{ key: 'documentId', match: { any: [] } }] }],
    [
      'documentId and documentIds both hold',
      { documentId: 'doc_a', documentIds: ['doc_a', 'doc_b'] },
      {
        must: [
          { key: 'documentId', match: { value: 'doc_a' } },
          { key: 'documentId', match: { any: ['doc_a', 'doc_b'] } },
        ],
      },
    ],
    ['contentHash', { contentHash: 'h1' }, { must: [{ key: 'contentHash', match: { value: 'h1' } }] }],
    ['notContentHash alone', { notContentHash: 'h1' }, { must_not: [{ key: 'contentHash', match: { value: 'h1' } }] }],
    [
      'notContentHash within a document',
      { documentId: 'doc_b', notContentHash: 'h2' },
      { must: [{ key: 'documentId', match: { value: 'doc_b' } }], must_not: [{ key: 'contentHash', match: { value: 'h2' } }] },
    ],
    ['aclAny with no groups: public points only', { aclAny: [] }, { must: [publicOnly] }],
    ['aclAny with one group: public or that group', { aclAny: ['hr'] }, { must: [aclOf('hr')] }],
    ['aclAny with several groups', { aclAny: ['eng', 'hr'] }, { must: [aclOf('eng', 'hr')] }],
    [
      'every field together',
      { documentId: 'doc_a', documentIds: ['doc_a'], contentHash: 'h1', notContentHash: 'h0', aclAny: ['g'] },
      {
        must: [
          { key: 'documentId', match: { value: 'doc_a' } },
          { key: 'documentId', match: { any: ['doc_a'] } },
          { key: 'contentHash', match: { value: 'h1' } },
          aclOf('g'),
        ],
        must_not: [{ key: 'contentHash', match: { value: 'h0' } }],
      },
    ],
    ['undefined fields are ignored', { documentId: undefined, aclAny: undefined }, undefined],
  ])('%s', (_label, input, expected) => {
    expect(toQdrantFilter(input)).toEqual(expected);
  });

  it('keeps the ACL condition a must clause whatever else is asked', () => {
    for (const extra of [{}, { documentIds: ['d'] }, { notContentHash: 'h' }, { contentHash: 'h', documentId: 'd' }]) {
      const filter = toQdrantFilter({ ...extra, aclAny: ['g'] });
      expect(filter?.must).toContainEqual(aclOf('g'));
      expect(filter?.should).toBeUndefined();
    }
  });

  it('does not share the caller\u2019s arrays', () => {
    const groups = ['g'];
    const filter = toQdrantFilter({ aclAny: groups });
    groups.push('mutated');
    expect(filter).toEqual({ must: [aclOf('g')] });
  });

  it.each<[string, PointFilter]>([
    ['documentIds not an array', { documentIds: 'doc_a' as unknown as string[] }],
    ['aclAny with a non-string', { aclAny: ['g', 7 as unknown as string] }],
  ])('rejects %s as INVALID_INPUT', (_label, input) => {
    expect(() => toQdrantFilter(input)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});
