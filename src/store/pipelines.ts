import type { PipelineRef } from '../domain/ingest.js';
import type { BlobStore } from './port.js';

/**
 * Which pipeline made a collection, and how to reach the model that embeds for it. Written once when
 * the collection is created; the serving alias points at a collection, this record says how to embed
 * queries and new documents for it, whatever model is configured today.
 */
export interface PipelineRecord {
  ref: PipelineRef;
  parser: string;
  /** A local ONNX model directory, or an OpenAI-compatible embeddings server and model name. */
  embedding: { modelDir?: string; url?: string; model?: string };
  createdAt: string;
}

const keyFor = (collection: string) => `pipelines/${collection}.json`;

/** Records a collection's pipeline unless it is already recorded (the first record wins: it made the vectors). */
export async function recordPipeline(store: BlobStore, record: PipelineRecord): Promise<PipelineRecord> {
  const existing = await readPipeline(store, record.ref.collection);
  if (existing) return existing;
  await store.put(keyFor(record.ref.collection), JSON.stringify(record, null, 2));
  return record;
}

export async function readPipeline(store: BlobStore, collection: string): Promise<PipelineRecord | undefined> {
  const raw = await store.tryGet(keyFor(collection));
  return raw ? (JSON.parse(raw.toString('utf8')) as PipelineRecord) : undefined;
}

export async function listPipelines(store: BlobStore): Promise<PipelineRecord[]> {
  const keys = await store.list('pipelines/');
  const out: PipelineRecord[] = [];
  for (const key of keys) {
    const raw = await store.tryGet(key);
    if (raw) out.push(JSON.parse(raw.toString('utf8')) as PipelineRecord);
  }
  return out;
}

/**
 * Collections being built (by a rollout) beside the served one. Ingestion writes every new document to
 * each of them too, so a candidate built from the catalog misses nothing that arrives meanwhile.
 */
const BUILDING_KEY = 'lifecycle/building.json';

export async function listBuilding(store: BlobStore): Promise<string[]> {
  const raw = await store.tryGet(BUILDING_KEY);
  return raw ? ((JSON.parse(raw.toString('utf8')) as { collections: string[] }).collections ?? []) : [];
}

/** Marks a recorded pipeline's collection as being built; idempotent. */
export async function markBuilding(store: BlobStore, collection: string): Promise<void> {
  if (!(await readPipeline(store, collection))) throw new Error(`no pipeline record for ${collection}: record the pipeline before building it`);
  const current = await listBuilding(store);
  if (current.includes(collection)) return;
  await store.put(BUILDING_KEY, JSON.stringify({ collections: [...current, collection].sort() }));
}

/** The collection is served or abandoned: ingestion stops writing to it as a candidate. Idempotent. */
export async function unmarkBuilding(store: BlobStore, collection: string): Promise<void> {
  const current = await listBuilding(store);
  if (!current.includes(collection)) return;
  await store.put(BUILDING_KEY, JSON.stringify({ collections: current.filter((c) => c !== collection) }));
}
