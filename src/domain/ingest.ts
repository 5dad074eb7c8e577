/**
 * Shapes that cross the workflow boundary. Claim-check: ids, keys, hashes and counts only; document
 * text and vectors stay in the store and the index.
 */

/** A source to ingest: a path the workers can read, or bytes already in the content store. */
export type SourceSpec =
  | { kind: 'path'; path: string }
  | {
      kind: 'stored';
      hash: string;
      name: string;
      sourceKey: string;
      title?: string;
      /**
       * Per-source settings that win over the job's: a rebuild from the catalog restores each
       * document with its own ACL, owner and PII policy.
       */
      acl?: string[];
      owner?: string;
      pii?: PiiPolicy;
      /** Only these records of a corpus file (a rebuild of the documents the catalog still lists). */
      externalIds?: string[];
    };

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

/**
 * Documents of a job (or of one source). Each document is counted in exactly one of `done`, `failed`
 * and `skipped`, so a finished job has `total = done + failed + skipped`; while it runs, the
 * difference is the documents still in flight.
 */
export interface DocumentCounts {
  total: number;
  /** Indexed by this job. Unchanged documents are not in here: they are `skipped`. */
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
  /**
   * Every error of the job by code, dropped ones included: the counts sum to
   * `errors.length + errorsDropped`. The full list is in the store (see src/store/job-errors.ts).
   * Absent in reports of jobs that finished before it existed.
   */
  errorCodes?: Record<string, number>;
  /** PII detections by type across the job (policy flag or redact). */
  pii?: Record<string, number>;
  /** Per collection being built (see IngestCorpusInput.also): its own counts, apart from the served ones above. */
  building?: Record<string, { version: string; documents: DocumentCounts; chunks: number; errorCodes: Record<string, number> }>;
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
  /**
   * Collections being built beside the served one (a rollout's candidate): every source is written to
   * each of them too, after the served pipeline, each chunked and embedded by its own model.
   */
  also?: PipelineRef[];
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
  /** Every error of the source by code, dropped ones included. */
  errorCodes: Record<string, number>;
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
  /**
   * The batch's last chunk is not its document's last: that document goes on in the next batch, and
   * a failure of this batch fails it too. Absent (false) in batches written before it existed.
   */
  endsMidDocument?: boolean;
}

export interface PreparedSource {
  documents: DocumentCounts;
  /** The first errors; all of them are in the source's errors file when the job gave its index. */
  errors: IngestError[];
  errorsDropped: number;
  /** Every error by code, dropped ones included. */
  errorCodes: Record<string, number>;
  batches: ChunkBatchRef[];
  pii?: Record<string, number>;
}

/** The policy of a job that carries none (submitted before ownership existed). */
export const LEGACY_POLICY: IngestPolicy = { owner: { user: 'local', groups: [], admin: true }, replaceAcl: true, pii: 'off' };

export const MAX_ERRORS_KEPT = 200;

export function emptyCounts(): DocumentCounts {
  return { total: 0, done: 0, failed: 0, skipped: 0 };
}

/** Adds one error per code into a histogram. */
export function countErrorCodes(into: Record<string, number>, errors: readonly IngestError[]): Record<string, number> {
  for (const e of errors) into[e.code] = (into[e.code] ?? 0) + 1;
  return into;
}

/** Adds histogram `add` into `into`. */
export function mergeCounts(into: Record<string, number>, add: Record<string, number> | undefined): Record<string, number> {
  for (const [k, n] of Object.entries(add ?? {})) into[k] = (into[k] ?? 0) + n;
  return into;
}
