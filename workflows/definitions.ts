import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { JobProgress, SourceProgress } from '../src/domain/ingest.js';

/** Live job report: documents total/done/failed, chunks, errors. */
export const progressQuery = defineQuery<JobProgress>('progress');

/** Sent by an ingestDocument child to its job while a large source (a JSONL corpus) is in flight. */
export const sourceProgressSignal = defineSignal<[SourceProgress]>('sourceProgress');
