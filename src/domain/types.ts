/** Pure domain types shared by every layer. No I/O here. */

export type DocType = 'pdf' | 'markdown' | 'html' | 'text' | 'jsonl';

/** A page's character range [start, end) inside ParsedDocument.text; pages are 1-based. */
export interface PageSpan {
  page: number;
  start: number;
  end: number;
}

/** A heading's position inside ParsedDocument.text. */
export interface HeadingSpan {
  start: number;
  end: number;
  level: number;
  text: string;
}

/** The extracted text of one document. Every chunk and citation offset points into `text`. */
export interface ParsedDocument {
  type: DocType;
  text: string;
  title?: string;
  /** Empty for formats without pages. Pages are contiguous and cover `text`. */
  pages: PageSpan[];
  headings: HeadingSpan[];
}

/** One line of a BEIR-layout JSONL corpus (`_id`, `title`, `text`). */
export interface CorpusRecord {
  externalId: string;
  title: string;
  text: string;
}

export interface RecordError {
  line: number;
  code: string;
  message: string;
}

export type ParseResult =
  | { kind: 'document'; document: ParsedDocument }
  | { kind: 'records'; records: CorpusRecord[]; errors: RecordError[] };

export interface ChunkSettings {
  /** Upper bound on model tokens per chunk (special tokens excluded). */
  maxTokens: number;
  /** Tokens of trailing context repeated at the start of the next chunk. */
  overlapTokens: number;
}

export interface ChunkDraft {
  index: number;
  /** Exactly `document.text.slice(start, end)`. */
  text: string;
  start: number;
  end: number;
  page?: number;
  heading?: string;
  tokens: number;
}

export interface Chunk extends ChunkDraft {
  id: string;
  documentId: string;
}

export interface EmbeddingSettings {
  modelId: string;
  dimension: number;
}

/** Everything that changes the vectors; hashed into the pipeline version. */
export interface PipelineSettings {
  parser: string;
  chunk: ChunkSettings;
  embedding: EmbeddingSettings;
}

/** What the index stores beside each vector; enough to cite without touching the source store. */
export interface ChunkPayload {
  documentId: string;
  contentHash: string;
  chunkIndex: number;
  chunkCount: number;
  text: string;
  start: number;
  end: number;
  page?: number;
  heading?: string;
  title: string;
  source: string;
  type: DocType;
  acl: string[];
  externalId?: string;
  /** The user who first ingested the document (uploads and text sources are namespaced by it). */
  owner?: string;
}

export interface Citation {
  n: number;
  documentId: string;
  title: string;
  source: string;
  page?: number;
  start: number;
  end: number;
  quote: string;
  score: number;
  /** 0-1 relevance of the cited chunk (domain/relevance.ts), when retrieval knows it. */
  relevance?: number;
}
