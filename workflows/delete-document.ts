import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { IngestActivities } from '../activities/types.js';

const { deleteDocument: removeEverywhere, verifyDocumentGone } = proxyActivities<IngestActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 10 },
});

export interface DeleteDocumentResult {
  documentId: string;
  pointsRemoved: number;
  sourcesRemoved: number;
  sourcesRetained: number;
  verified: boolean;
}

/** Removes a document from the index and the source store, then proves it is gone. */
export async function deleteDocument(documentId: string): Promise<DeleteDocumentResult> {
  const removed = await removeEverywhere({ documentId });
  const check = await verifyDocumentGone({ documentId, removedHashes: removed.removedHashes });
  if (!check.gone) {
    throw ApplicationFailure.nonRetryable(
      `document ${documentId} still has ${check.remainingPoints} chunks and ${check.remainingSources} sources after deletion`,
      'DELETE_NOT_VERIFIED',
    );
  }
  return { documentId, pointsRemoved: removed.pointsRemoved, sourcesRemoved: removed.sourcesRemoved, sourcesRetained: removed.sourcesRetained, verified: true };
}
