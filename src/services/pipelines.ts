import type { Config } from '../config.js';
import type { PipelineRef } from '../domain/ingest.js';
import type { Embedder, TokenCounter } from '../embed/port.js';
import { AppError } from '../errors.js';
import type { VectorIndex } from '../index/port.js';
import type { Logger } from '../obs/logger.js';
import { listBuilding, readPipeline, type PipelineRecord } from '../store/pipelines.js';
import type { BlobStore } from '../store/port.js';

/**
 * The served pipeline decides: alias -> collection -> pipeline record -> model. Queries are embedded
 * with the model of the collection the alias serves and new documents are written to it, so a model
 * configured today but not yet rolled out never changes what queries see (with two 384-d models the
 * results would be silently wrong, not an error).
 */
export interface PipelineResolver {
  /** The pipeline this deployment is configured for (built by a rollout, not served until then). */
  readonly configured: PipelineRecord;
  /** The pipeline the alias serves now; the configured one when no alias exists yet. */
  served(): Promise<PipelineRecord>;
  /** An embedder for a pipeline's model (cached per pipeline version). */
  embedderFor(ref: PipelineRef): Promise<Embedder>;
  /** Collections being built beside the served one (a rollout's candidates), with their pipeline records. */
  building(): Promise<PipelineRecord[]>;
  /** The served collection and the embedder for its model, resolved per call (an alias switch is seen at once). */
  servedTarget(): Promise<{ collection: string; embedder: Embedder; record: PipelineRecord }>;
  close(): Promise<void>;
}

export interface PipelineResolverDeps {
  store: BlobStore;
  index: Pick<VectorIndex, 'getAlias'>;
  alias: string;
  configured: PipelineRecord;
  /** The embedder already loaded for the configured model. */
  configuredEmbedder: Embedder;
  /** Builds an embedder for a recorded pipeline (the model dir or server recorded with it). */
  createEmbedder: (embedding: PipelineRecord['embedding']) => Promise<Embedder>;
  logger: Logger;
}

export function createPipelineResolver(deps: PipelineResolverDeps): PipelineResolver {
  const loaded: Embedder[] = [];
  let warned = '';
  const recordFor = async (collection: string): Promise<PipelineRecord> => {
    if (collection === deps.configured.ref.collection) return deps.configured;
    const record = await readPipeline(deps.store, collection);
    if (!record) {
      throw new AppError('PIPELINE_MISMATCH', `collection ${collection} has no pipeline record: cannot tell which model embeds for it`, {
        details: { collection },
      });
    }
    return record;
  };

  const embedderFor = createModelCache({
    store: deps.store,
    configuredModelId: deps.configured.ref.modelId,
    configured: deps.configuredEmbedder,
    load: async (record) => {
      const embedder = await deps.createEmbedder(record.embedding);
      const { ref } = record;
      if (embedder.modelId !== ref.modelId || embedder.dimension !== ref.dimension) {
        await embedder.close();
        throw new AppError('PIPELINE_MISMATCH', `the model recorded for ${ref.collection} is now ${embedder.modelId} (${embedder.dimension}d), not ${ref.modelId} (${ref.dimension}d)`, {
          details: { collection: ref.collection },
        });
      }
      loaded.push(embedder);
      return embedder;
    },
  });

  const served = async (): Promise<PipelineRecord> => {
    const collection = (await deps.index.getAlias(deps.alias)) ?? deps.configured.ref.collection;
    const record = await recordFor(collection);
    if (record.ref.version !== deps.configured.ref.version && warned !== record.ref.version) {
      warned = record.ref.version;
      deps.logger.warn('pipeline: the served pipeline differs from the configured one; queries and ingestion use the served model until a rollout moves the alias', {
        served: record.ref.version,
        servedModel: record.ref.modelId,
        configured: deps.configured.ref.version,
        configuredModel: deps.configured.ref.modelId,
      });
    }
    return record;
  };

  return {
    configured: deps.configured,
    served,
    async building() {
      const served = (await deps.index.getAlias(deps.alias)) ?? deps.configured.ref.collection;
      const out: PipelineRecord[] = [];
      for (const collection of await listBuilding(deps.store)) if (collection !== served) out.push(await recordFor(collection));
      return out;
    },
    embedderFor,
    async servedTarget() {
      const record = await served();
      return { collection: record.ref.collection, embedder: await embedderFor(record.ref), record };
    },
    async close() {
      for (const e of loaded.splice(0)) await e.close().catch(() => undefined);
    },
  };
}

/** How this deployment reaches its configured model, as recorded with the collections it creates. */
export function embeddingLocator(cfg: Config['embedding']): PipelineRecord['embedding'] {
  return cfg.url ? { url: cfg.url, model: cfg.model } : { modelDir: cfg.modelDir };
}

/** Config for createEmbedder that reaches a recorded model, keeping the local settings (device, batch, threads, key). */
export function embeddingConfigFor(base: Config['embedding'], embedding: PipelineRecord['embedding']): Config['embedding'] {
  return embedding.url
    ? { ...base, url: embedding.url, model: embedding.model }
    : { ...base, url: undefined, model: undefined, modelDir: embedding.modelDir ?? base.modelDir };
}

/**
 * Workers embed and chunk for whichever pipeline a job names: the configured model when it is that
 * pipeline's model, else the model recorded with the pipeline's collection (loaded once, kept).
 */
export function createModelCache<T>(deps: {
  store: BlobStore;
  configuredModelId: string;
  configured: T;
  load: (record: PipelineRecord) => Promise<T>;
}): (ref: PipelineRef) => Promise<T> {
  const cache = new Map<string, Promise<T>>();
  return async (ref) => {
    if (ref.modelId === deps.configuredModelId) return deps.configured;
    let hit = cache.get(ref.version);
    if (!hit) {
      hit = readPipeline(deps.store, ref.collection).then((record) => {
        if (!record) {
          throw new AppError('PIPELINE_MISMATCH', `no pipeline record for ${ref.collection}: this worker runs ${deps.configuredModelId}, the job needs ${ref.modelId}`);
        }
        return deps.load(record);
      });
      cache.set(ref.version, hit);
      hit.catch(() => cache.delete(ref.version));
    }
    return hit;
  };
}

export type { TokenCounter };
