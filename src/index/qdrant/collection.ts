import type { Schemas } from '@qdrant/js-client-rest';

/** Payload fields every query filters on; keyword indexes keep those filters cheap inside the graph walk. */
export const INDEXED_FIELDS = ['documentId', 'contentHash', 'acl'] as const;

/**
 * The one place a collection's shape is decided. Dense vectors stay the unnamed default vector, so a
 * later `sparse_vectors` entry (BM25 with the IDF modifier) can be added here without renaming them.
 */
export function collectionSpec(dimension: number): Schemas['CreateCollection'] {
  return {
    vectors: { size: dimension, distance: 'Cosine' },
  };
}

/** The dense dimension of an existing collection, or undefined when it is not one of ours (named vectors). */
export function denseDimension(info: Schemas['CollectionInfo']): number | undefined {
  const vectors = info.config.params.vectors as { size?: unknown } | undefined;
  return typeof vectors?.size === 'number' ? vectors.size : undefined;
}

/** Indexed fields missing from a collection (e.g. one created by another tool, or by an older srag). */
export function missingIndexes(info: Schemas['CollectionInfo']): string[] {
  const schema = info.payload_schema ?? {};
  return INDEXED_FIELDS.filter((field) => schema[field]?.data_type !== 'keyword');
}
