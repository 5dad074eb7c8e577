import { collectionName, pipelineVersion } from './ids.js';
import type { PipelineRef } from './ingest.js';
import type { ChunkSettings } from './types.js';

/** The pipeline a deployment runs: parser id, chunk settings and model identity fix the version. */
export function pipelineRef(parser: string, chunk: ChunkSettings, modelId: string, dimension: number, prefix: string): PipelineRef {
  const version = pipelineVersion({ parser, chunk, embedding: { modelId, dimension } });
  return { version, collection: collectionName(prefix, version), modelId, dimension, chunk: { ...chunk } };
}
