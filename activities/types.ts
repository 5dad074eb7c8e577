import type { DeletionResult } from '../src/ingest/delete-document.js';
import type { ProbeResult } from '../src/domain/probe.js';
import type { RebuildPlan } from '../src/ingest/rebuild.js';
import type { DrillReport, RestoredScratch, RestoreReport } from '../src/domain/snapshots.js';
import type { GateScores } from '../src/domain/rollout.js';
import type { GateEvalSet } from '../src/services/rollout.js';
import type { PipelineRecord } from '../src/store/pipelines.js';
import type { ChunkBatchRef, IngestError, IngestPolicy, PipelineRef, PreparedSource, SourceSpec } from '../src/domain/ingest.js';

/** Activities on the ingest task queue (I/O: store, parsing, the index). */
export interface IngestActivities {
  readManifestPage(input: { manifestKey: string; offset: number; limit: number }): Promise<SourceSpec[]>;
  /**
   * Stage into the store, parse, chunk, and write batches of chunks to embed. Skips unchanged documents.
   * With `index` (the source's place in the job), writes all its errors to the job's errors file.
   */
  prepareSource(input: { jobId: string; source: SourceSpec; acl: string[]; policy?: IngestPolicy; pipeline: PipelineRef; index?: number }): Promise<PreparedSource>;
  /**
   * Writes errors of one source to the job's errors file (claim-check: the workflow keeps only the
   * first few). `from`: the file keeps its first `from` errors, then these; a retry writes the same
   * file. Without it they are appended unless the file already ends with them.
   */
  recordSourceErrors(input: { jobId: string; index: number; errors: IngestError[]; from?: number }): Promise<{ stored: number }>;
  /** Upsert a batch's chunks with their vectors, then drop the chunks of older versions of those documents. */
  indexBatch(input: { batch: ChunkBatchRef; vectorsKey: string; pipeline: PipelineRef }): Promise<{ points: number }>;
  /** Removes a document's chunks from every collection and its source bytes unless shared. */
  deleteDocument(input: { documentId: string }): Promise<DeletionResult & { removedHashes: string[] }>;
  verifyDocumentGone(input: { documentId: string; removedHashes: string[] }): Promise<{ gone: boolean; remainingPoints: number; remainingSources: number }>;
  /** Rebuild from the store: fixed probe chunks of a collection, written as a batch to embed (none when empty). */
  writeRebuildProbe(input: { collection: string; key: string; size: number }): Promise<ChunkBatchRef | undefined>;
  /** Point ids (digest) and, with probe vectors, the top-10 per probe. */
  runRebuildProbe(input: { pipeline: PipelineRef; probe?: { batch: ChunkBatchRef; vectorsKey: string } }): Promise<ProbeResult>;
  removeRebuildProbe(input: { batch: ChunkBatchRef; vectorsKey: string }): Promise<void>;
  /** Writes a job manifest with one source per catalog record (claim-check: the workflow holds the key). */
  planRebuild(input: { jobId: string }): Promise<RebuildPlan>;
  /** Drops the collection and creates it empty. */
  resetCollection(input: { collection: string; dimension: number }): Promise<void>;
  /** Snapshot of the served collection with the catalog and alias map, under the data dir; idempotent per id. */
  takeSnapshot(input: { snapshotId: string }): Promise<{ id: string; collection: string; points: number; bytes: number }>;
  /** Copies a snapshot to the backup location and verifies the copy's checksums there. */
  copySnapshotToBackup(input: { snapshotId: string }): Promise<{ bytes: number }>;
  /** Retention over both locations, applied only when a backed-up snapshot exists. */
  applySnapshotRetention(input: Record<string, never>): Promise<{ removed: string[] }>;
  /** Verifies a backed-up snapshot (the newest, or the one named) and restores it into a scratch collection. */
  restoreForDrill(input: { snapshotId?: string }): Promise<RestoredScratch>;
  /** Fixed drill queries on the scratch copy and the live collection. */
  compareDrill(input: { restored: RestoredScratch; probes: number }): Promise<DrillReport>;
  /** Drops a collection (a drill's scratch copy); absent is fine. */
  dropCollection(input: { collection: string }): Promise<void>;
  /** The real restore: a backed-up snapshot into a new collection, then the alias switched to it. */
  restoreForServing(input: { snapshotId: string; collection: string }): Promise<RestoreReport>;
  /** After a restore: a job manifest of the catalog records the collection lacks. */
  planCatchUp(input: { jobId: string; collection: string }): Promise<RebuildPlan>;
  /** Rollout: records the candidate pipeline, creates its collection, marks it as being built; returns the served pipeline. */
  prepareCandidate(input: { candidate: PipelineRecord }): Promise<{ served: PipelineRef }>;
  /** Rollout gate: one collection scored on the eval set with its own model. */
  evaluateForGate(input: { pipeline: PipelineRef; evalSet: GateEvalSet }): Promise<GateScores>;
  /** Points the served alias at a collection; returns the previous target. */
  switchAlias(input: { to: string }): Promise<{ previous?: string }>;
  /** After a switch: the alias, the catalog's documents and drill queries on the new collection. */
  postSwitchCheck(input: { pipeline: PipelineRef; evalSet: GateEvalSet; rehearse?: boolean }): Promise<{ documents: number; queries: number }>;
  /** Marks a collection as being built (ingestion writes there too) or not. */
  setBuilding(input: { collection: string; building: boolean }): Promise<void>;
  /** Writes the drill's outcome to the store, where the API's metrics read it. */
  recordDrill(input: { report: DrillReport }): Promise<void>;
}

/** Activities on the embedding task queue, so GPU workers can serve them. */
export interface EmbedActivities {
  /** Embeds a stored batch and writes its vectors to the store; heartbeats and resumes by piece. */
  embedBatch(input: { batch: ChunkBatchRef; pipeline: PipelineRef }): Promise<{ vectorsKey: string; count: number }>;
}
