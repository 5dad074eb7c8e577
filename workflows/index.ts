// The workflow bundle's entry: only deterministic code reachable from here.
export { ingestCorpus } from './ingest-corpus.js';
export { ingestDocument } from './ingest-document.js';
export { deleteDocument } from './delete-document.js';
export { rebuildCollection } from './maintenance/rebuild-collection.js';
export { snapshotIndex } from './maintenance/snapshot-index.js';
export { restoreDrill } from './maintenance/restore-drill.js';
export { restoreIndex } from './maintenance/restore-index.js';
export { rolloutPipeline } from './maintenance/rollout-pipeline.js';
