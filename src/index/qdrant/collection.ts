import type { Schemas } from '@qdrant/js-client-rest';

/** Payload fields every query filters on; keyword indexes keep those filters cheap inside the graph walk. */
export const INDEXED_FIELDS = ['documentId', 'contentHash', 'acl'] as const;

/** The named sparse vector holding BM25 term weights (see domain/sparse-bm25.ts). */
export const SPARSE_VECTOR = 'bm25';

/**
 * The one place a collection's shape is decided. Dense vectors stay the unnamed default vector (every
 * dense call leaves `using` out); BM25 is the named sparse vector `bm25`, whose IDF Qdrant computes
 * from the collection itself (`modifier: idf`), so no corpus statistics live in the API.
 */
export function collectionSpec(dimension: number): Schemas['CreateCollection'] {
  return {
    vectors: { size: dimension, distance: 'Cosine' },
    sparse_vectors: { [SPARSE_VECTOR]: { modifier: 'idf' } },
  };
}

/**
 * Whether the collection has the BM25 sparse vector. Collections created before it existed do not;
 * Qdrant cannot add a sparse vector to an existing collection, so they stay dense-only until rebuilt.
 */
export function hasSparseBm25(info: Schemas['CollectionInfo']): boolean {
  const sparse = info.config.params.sparse_vectors as Record<string, { modifier?: unknown } | undefined> | null | undefined;
  return sparse?.[SPARSE_VECTOR]?.modifier === 'idf';
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
