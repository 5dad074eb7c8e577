import { Context } from '@temporalio/activity';
import type { ParseResult } from '../src/domain/types.js';
import type { Embedder, TokenCounter } from '../src/embed/port.js';
import type { VectorIndex } from '../src/index/port.js';
import { deleteDocumentEverywhere, documentSourceHashes, verifyDocumentGone } from '../src/ingest/delete-document.js';
import { embedStoredBatch } from '../src/ingest/embed-batch.js';
import { indexStoredBatch } from '../src/ingest/index-batch.js';
import { prepareStagedSource, type PrepareDeps } from '../src/ingest/prepare.js';
import { removeProbe, runProbe, writeCatchUpManifest, writeProbeBatch, writeRebuildManifest } from '../src/ingest/rebuild.js';
import { stageSource } from '../src/ingest/stage.js';
import type { PipelineRef } from '../src/domain/ingest.js';
import type { Logger } from '../src/obs/logger.js';
import { writeSourceErrors } from '../src/store/job-errors.js';
import { readManifestPage } from '../src/store/manifest.js';
import type { BlobStore } from '../src/store/port.js';
import type { RetentionPolicy } from '../src/domain/snapshots.js';
import { AppError } from '../src/errors.js';
import { compareWithLive, recordDrill, restoreForServing, restoreIntoScratch } from '../src/services/drill.js';
import { applyRetention, copySnapshotToBackup, takeSnapshot } from '../src/services/snapshots.js';
import { evaluateForGate, postSwitchCheck, prepareCandidate, switchAlias, type RolloutDeps } from '../src/services/rollout.js';
import { markBuilding, unmarkBuilding } from '../src/store/pipelines.js';
import { permanentOnBadInput } from './failures.js';
import type { EmbedActivities, IngestActivities } from './types.js';

export interface IngestActivityDeps {
  store: BlobStore;
  index: VectorIndex;
  counter: TokenCounter;
  parse: (bytes: Uint8Array, filename: string) => Promise<ParseResult>;
  pii?: PrepareDeps['pii'];
  maxFileBytes: number;
  /** Real roots server-side paths must stay under (checked again when staging). */
  pathRoots?: string[];
  /** The tokenizer of a pipeline's model (chunks are packed by the tokens that model sees); default `counter`. */
  counterFor?: (pipeline: PipelineRef) => Promise<TokenCounter>;
  /** The embedder of a pipeline's own model, for the rollout gate and its post-switch check. */
  embedderFor?: (pipeline: PipelineRef) => Promise<Embedder>;
  /** Snapshots and restore drills; absent: those activities fail with a configuration error. */
  lifecycle?: {
    alias: string;
    backend: 'embedded' | 'qdrant';
    snapshotDir: string;
    backupDir: string;
    retention: RetentionPolicy;
    drillTolerance: number;
  };
  /** Told how many points each indexed batch wrote (metrics). */
  onIndexed?: (points: number) => void;
  logger: Logger;
}

/** Activities of the ingest task queue; thin adapters from workflow steps to src/. */
export function createIngestActivities(deps: IngestActivityDeps): IngestActivities {
  return {
    readManifestPage: (input) => readManifestPage(deps.store, input.manifestKey, input.offset, input.limit),
    prepareSource: (input) =>
      permanentOnBadInput(async () => {
        const staged = await stageSource(deps.store, input.source, deps.maxFileBytes, deps.pathRoots);
        const counter = deps.counterFor ? await deps.counterFor(input.pipeline) : deps.counter;
        // Per-source settings (a rebuild restoring each catalog record as it was) count only in an
        // admin's job; the API never builds them from request fields.
        const own = input.source.kind === 'stored' && input.policy?.owner.admin ? input.source : undefined;
        const policy = own?.pii && input.policy ? { ...input.policy, pii: own.pii } : input.policy;
        const prepared = await prepareStagedSource({ ...deps, counter }, staged, own?.acl ?? input.acl, input.pipeline, policy, input.jobId, input.index, {
          only: own?.externalIds,
          owner: own?.owner,
        });
        deps.logger.info('ingest: source prepared', {
          jobId: input.jobId,
          hash: staged.hash.slice(0, 16),
          documents: prepared.documents.total,
          skipped: prepared.documents.skipped,
          batches: prepared.batches.length,
        });
        return prepared;
      }),
    writeRebuildProbe: ({ collection, key, size }) => writeProbeBatch(deps, collection, key, size),
    runRebuildProbe: ({ pipeline, probe }) => runProbe(deps, pipeline, probe),
    removeRebuildProbe: async ({ batch, vectorsKey }) => removeProbe(deps.store, batch, vectorsKey),
    planRebuild: ({ jobId }) => writeRebuildManifest(deps.store, jobId),
    resetCollection: async ({ collection, dimension }) => {
      await deps.index.dropCollection(collection);
      await deps.index.ensureCollection(collection, dimension);
      deps.logger.warn('rebuild: collection dropped and recreated empty', { collection });
    },
    recordSourceErrors: (input) => writeSourceErrors(deps.store, input.jobId, input.index, input.errors, input.from),
    indexBatch: async (input) => {
      const result = await indexStoredBatch(deps, input.batch, input.vectorsKey, input.pipeline);
      deps.onIndexed?.(result.points);
      return result;
    },
    deleteDocument: async ({ documentId }) => {
      const own = { ...deps, prefix: deps.lifecycle?.alias };
      const { hashes } = await documentSourceHashes(own, documentId);
      const result = await deleteDocumentEverywhere(own, documentId, hashes);
      deps.logger.info('delete: document removed', { ...result });
      return { ...result, removedHashes: hashes };
    },
    verifyDocumentGone: ({ documentId, removedHashes }) => verifyDocumentGone({ ...deps, prefix: deps.lifecycle?.alias }, documentId, removedHashes),
    takeSnapshot: ({ snapshotId }) =>
      permanentOnBadInput(async () => {
        const l = lifecycleOf(deps);
        const m = await takeSnapshot({ ...deps, ...l }, { alias: l.alias, id: snapshotId });
        return { id: m.id, collection: m.collection, points: m.points, bytes: m.files.reduce((n, f) => n + f.bytes, 0) };
      }),
    copySnapshotToBackup: ({ snapshotId }) => permanentOnBadInput(() => copySnapshotToBackup({ ...lifecycleOf(deps), logger: deps.logger }, snapshotId)),
    applySnapshotRetention: () =>
      permanentOnBadInput(async () => {
        const l = lifecycleOf(deps);
        return applyRetention({ ...l, logger: deps.logger }, l.retention);
      }),
    restoreForDrill: ({ snapshotId }) => permanentOnBadInput(() => restoreIntoScratch({ index: deps.index, backupDir: lifecycleOf(deps).backupDir, logger: deps.logger }, { snapshotId })),
    compareDrill: ({ restored, probes }) =>
      permanentOnBadInput(async () => {
        const l = lifecycleOf(deps);
        return compareWithLive(deps, restored, { alias: l.alias, probes, tolerance: l.drillTolerance });
      }),
    dropCollection: ({ collection }) => deps.index.dropCollection(collection),
    recordDrill: ({ report }) => recordDrill(deps.store, report),
    planCatchUp: ({ jobId, collection }) => writeCatchUpManifest(deps, jobId, collection),
    prepareCandidate: ({ candidate }) => permanentOnBadInput(() => prepareCandidate(deps, candidate, lifecycleOf(deps).alias)),
    evaluateForGate: ({ pipeline, evalSet }) => permanentOnBadInput(() => evaluateForGate(rolloutDeps(deps), pipeline, evalSet)),
    switchAlias: ({ to }) => permanentOnBadInput(() => switchAlias(deps.index, lifecycleOf(deps).alias, to)),
    postSwitchCheck: ({ pipeline, evalSet, rehearse }) =>
      permanentOnBadInput(() => postSwitchCheck(rolloutDeps(deps), { alias: lifecycleOf(deps).alias, pipeline, evalSet, rehearse })),
    setBuilding: async ({ collection, building }) => (building ? markBuilding(deps.store, collection) : unmarkBuilding(deps.store, collection)),
    restoreForServing: ({ snapshotId, collection }) =>
      permanentOnBadInput(async () => {
        const l = lifecycleOf(deps);
        return restoreForServing({ ...deps, backupDir: l.backupDir }, { snapshotId, collection, alias: l.alias });
      }),
  };
}

function rolloutDeps(deps: IngestActivityDeps): RolloutDeps {
  if (!deps.embedderFor) throw new AppError('INVALID_INPUT', 'this worker cannot embed for the rollout gate');
  return { store: deps.store, index: deps.index, embedderFor: deps.embedderFor, logger: deps.logger };
}

function lifecycleOf(deps: IngestActivityDeps): NonNullable<IngestActivityDeps['lifecycle']> {
  if (!deps.lifecycle) throw new AppError('INVALID_INPUT', 'this worker has no snapshot configuration');
  return deps.lifecycle;
}

/** Activities of the embedding task queue: heartbeats carry progress, cancellation stops between pieces. */
export function createEmbedActivities(deps: {
  store: BlobStore;
  embedder: Embedder;
  /** The embedder of a pipeline's own model (a served pipeline may predate the configured model); default `embedder`. */
  embedderFor?: (pipeline: PipelineRef) => Promise<Embedder>;
  logger: Logger;
}): EmbedActivities {
  return {
    embedBatch: (input) =>
      permanentOnBadInput(async () => {
        const ctx = Context.current();
        const embedder = deps.embedderFor ? await deps.embedderFor(input.pipeline) : deps.embedder;
        const resumed = (ctx.info.heartbeatDetails as { piecesDone?: number } | undefined)?.piecesDone;
        if (resumed) {
          // Pieces finished before the crash are in the store; embedStoredBatch skips them.
          deps.logger.info('embed: resuming batch after retry', { batch: input.batch.key, piecesDone: resumed, attempt: ctx.info.attempt });
        }
        return embedStoredBatch(
          { ...deps, embedder, signal: ctx.cancellationSignal, onPiece: (done, total) => ctx.heartbeat({ piecesDone: done, pieces: total }) },
          input.batch,
          input.pipeline,
        );
      }),
  };
}
