import { Counter, Histogram, collectDefaultMetrics, Registry } from 'prom-client';
import type { Embedder } from '../embed/port.js';
import type { JobOutcome } from '../domain/job-metrics.js';

/** A worker's own registry: process defaults plus the series of its task queue. */
export function createWorkerRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'srag_' });
  return registry;
}

export interface IngestMetrics {
  jobs: Counter<'origin' | 'outcome'>;
  documents: Counter<'outcome'>;
  documentErrors: Counter<'code'>;
  chunksIndexed: Counter;
  parseSeconds: Histogram<'type' | 'outcome'>;
  /** What the ingest workflows report when a job ends (a workflow sink: never during replay). */
  jobFinished(origin: string, outcome: JobOutcome): void;
}

export function createIngestMetrics(registry: Registry): IngestMetrics {
  const jobs = new Counter({ name: 'srag_ingest_jobs_total', help: 'Ingestion jobs that ended, by origin (submitted, or run from the store by a rebuild, rollout or restore) and outcome', labelNames: ['origin', 'outcome'], registers: [registry] });
  const documents = new Counter({
    name: 'srag_ingest_documents_total',
    help: 'Documents of ended jobs by outcome (indexed, unchanged, failed); each document counted once',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const documentErrors = new Counter({ name: 'srag_ingest_document_errors_total', help: 'Document errors of ended jobs by error code', labelNames: ['code'], registers: [registry] });
  // Present from the start, so a ratio over them is 0, not "no data", before the first failure.
  for (const outcome of ['indexed', 'unchanged', 'failed']) documents.inc({ outcome }, 0);
  return {
    jobs,
    documents,
    documentErrors,
    chunksIndexed: new Counter({ name: 'srag_chunks_indexed_total', help: 'Chunks written to the index (every live collection)', registers: [registry] }),
    parseSeconds: new Histogram({
      name: 'srag_parse_seconds',
      help: 'Time to parse one source, by detected type and outcome',
      labelNames: ['type', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    jobFinished(origin, outcome) {
      jobs.inc({ origin, outcome: outcome.status });
      documents.inc({ outcome: 'indexed' }, outcome.documents.done);
      documents.inc({ outcome: 'unchanged' }, outcome.documents.skipped);
      documents.inc({ outcome: 'failed' }, outcome.documents.failed);
      for (const [code, n] of Object.entries(outcome.errorCodes)) documentErrors.inc({ code }, n);
    },
  };
}

export interface EmbedMetrics {
  texts: Counter;
  tokens: Counter;
  batchSeconds: Histogram;
}

export function createEmbedMetrics(registry: Registry): EmbedMetrics {
  return {
    texts: new Counter({ name: 'srag_embedded_texts_total', help: 'Chunks embedded (throughput: rate of this)', registers: [registry] }),
    tokens: new Counter({ name: 'srag_embedded_characters_total', help: 'Characters of the chunks embedded', registers: [registry] }),
    batchSeconds: new Histogram({
      name: 'srag_embed_batch_seconds',
      help: 'Time of one model run over a batch of chunks',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  };
}

/** The embedder, timing each document batch it runs and counting what it embedded. */
export function measuredEmbedder(embedder: Embedder, metrics: EmbedMetrics): Embedder {
  return {
    get modelId() {
      return embedder.modelId;
    },
    get dimension() {
      return embedder.dimension;
    },
    async embedDocuments(texts) {
      const end = metrics.batchSeconds.startTimer();
      const vectors = await embedder.embedDocuments(texts);
      end();
      metrics.texts.inc(texts.length);
      metrics.tokens.inc(texts.reduce((n, t) => n + t.length, 0));
      return vectors;
    },
    embedQuery: (text) => embedder.embedQuery(text),
    close: () => embedder.close(),
  };
}
