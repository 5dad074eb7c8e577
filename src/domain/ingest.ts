/**
 * Shapes that cross the workflow boundary. Claim-check: ids, keys, hashes and counts only; document
 * text and vectors stay in the store and the index.
 */

/** A source to ingest: a path the workers can read, or bytes already in the content store. */
export type SourceSpec =
  | { kind: 'path'; path: string }
  | { kind: 'stored'; hash: string; name: string; sourceKey: string; title?: string };

/** Which pipeline a job runs: the version fixes parser, chunker and model; the collection is its index. */
export interface PipelineRef {
  version: string;
  collection: string;
  modelId: string;
  dimension: number;
  chunk: { maxTokens: number; overlapTokens: number };
}

export interface IngestError {
  source: string;
  code: string;
  message: string;
}

export interface DocumentCounts {
  total: number;
  done: number;
  failed: number;
  /** Unchanged since the last ingestion (same content hash and pipeline): nothing re-embedded. */
  skipped: number;
}

export type JobStatus = 'running' | 'completed' | 'failed' | 'cancelled' | 'terminated' | 'timed_out';

export interface JobProgress {
  jobId: string;
  status: JobStatus;
  sources: { total: number; done: number };
  documents: DocumentCounts;
  chunks: number;
  errors: IngestError[];
  /** Errors beyond the ones kept in `errors` (the list is capped to keep workflow history small). */
  errorsDropped: number;
  /** PII detections by type across the job (policy flag or redact). */
  pii?: Record<string, number>;
  startedAt?: string;
  finishedAt?: string;
}

/** Who submitted a job, as far as ingestion needs to know: checked again for every document it touches. */
export interface IngestOwner {
  user: string;
  groups: string[];
  /** Admin scope: may touch documents whose ACL it does not hold. */
  admin: boolean;
}

import type { PiiPolicy } from './pii.js';

export type { PiiPolicy };

/** Rules a job runs under; small, so it rides in workflow inputs. */
export interface IngestPolicy {
  owner: IngestOwner;
  /** Re-ingesting with a different ACL changes the document's ACL: an explicit admin action. */
  replaceAcl: boolean;
  pii: PiiPolicy;
}

export interface IngestCorpusInput {
  jobId: string;
  manifestKey: string;
  sourceCount: number;
  acl: string[];
  /** Absent in jobs submitted before ownership existed: treated as the local operator's. */
  policy?: IngestPolicy;
  pipeline: PipelineRef;
  concurrency: number;
  /** Set by continue-as-new. */
  resume?: { offset: number; progress: JobProgress };
  /** Sources read per manifest page, and the history length after which the job continues-as-new. */
  tuning?: { pageSize?: number; historyBudget?: number };
}

export interface IngestDocumentInput {
  jobId: string;
  source: SourceSpec;
  acl: string[];
  policy?: IngestPolicy;
  pipeline: PipelineRef;
}

export interface SourceResult {
  source: string;
  documents: DocumentCounts;
  chunks: number;
  errors: IngestError[];
  errorsDropped: number;
  /** PII detections by type (counts only, never the matches). */
  pii?: Record<string, number>;
}

/** Live progress of one source, sent by its child workflow to the job. */
export interface SourceProgress {
  index: number;
  documents: DocumentCounts;
  chunks: number;
}

export interface StagedSource {
  hash: string;
  size: number;
  name: string;
  sourceKey: string;
  title?: string;
}

/** A batch of chunks written to the store, to embed then index. */
export interface ChunkBatchRef {
  key: string;
  chunks: number;
  /** Documents whose last chunk is in this batch: done once this batch is indexed. */
  documentsCompleted: number;
}

export interface PreparedSource {
  documents: DocumentCounts;
  errors: IngestError[];
  errorsDropped: number;
  batches: ChunkBatchRef[];
  pii?: Record<string, number>;
}

/** The policy of a job that carries none (submitted before ownership existed). */
export const LEGACY_POLICY: IngestPolicy = { owner: { user: 'local', groups: [], admin: true }, replaceAcl: true, pii: 'off' };

export const MAX_ERRORS_KEPT = 200;

export function emptyCounts(): DocumentCounts {
  return { total: 0, done: 0, failed: 0, skipped: 0 };
}
