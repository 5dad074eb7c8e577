import { Router, type Response } from 'express';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { AppError } from '../errors.js';
import type { VectorIndex } from '../index/port.js';
import { listDocuments } from '../query/documents.js';
import type { Principal } from './auth.js';

export interface DocumentRoutesDeps {
  index: VectorIndex & { refresh?: () => Promise<void> };
  collection: () => Promise<string>;
  client: Client;
  taskQueue: string;
}

const DOC_ID = /^doc_[0-9a-f]{24}$/;

function principalOf(res: Response): Principal {
  return res.locals.principal as Principal;
}

/** GET /documents, GET /documents/:id, DELETE /documents/:id (a workflow that removes and verifies). */
export function createDocumentRouter(deps: DocumentRoutesDeps): Router {
  const router = Router();
  const find = async (res: Response, id: string) => {
    if (!DOC_ID.test(id)) throw new AppError('NOT_FOUND', `no document ${id}`);
    await deps.index.refresh?.();
    const [doc] = await listDocuments(deps.index, await deps.collection(), principalOf(res), id);
    if (!doc) throw new AppError('NOT_FOUND', `no document ${id}`);
    return doc;
  };

  router.get('/documents', async (_req, res) => {
    await deps.index.refresh?.();
    const documents = await listDocuments(deps.index, await deps.collection(), principalOf(res));
    res.json({ documents });
  });

  router.get('/documents/:documentId', async (req, res) => {
    res.json(await find(res, req.params.documentId));
  });

  router.delete('/documents/:documentId', async (req, res) => {
    // Only someone who can see a document may delete it.
    const doc = await find(res, req.params.documentId);
    const handle = await deps.client.workflow.start('deleteDocument', {
      workflowId: `delete-${doc.documentId}`,
      taskQueue: deps.taskQueue,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      args: [doc.documentId],
    });
    const result = await handle.result();
    await deps.index.refresh?.();
    res.json(result);
  });
  return router;
}
