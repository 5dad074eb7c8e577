import type { DocumentCounts } from './ingest.js';

/**
 * How an ingestion job ended, as the job workflow reports it to its worker's metrics (a workflow
 * sink: no history events, not called on replay). The counts are the job report's own, so the
 * metrics agree with `GET /v1/jobs/:id` document for document.
 */
export interface JobOutcome {
  status: 'completed' | 'completed_with_errors' | 'failed' | 'cancelled';
  documents: DocumentCounts;
  chunks: number;
  errorCodes: Record<string, number>;
}
