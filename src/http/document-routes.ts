import { Router, type Response } from 'express';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { AppError } from '../errors.js';
import type { VectorIndex } from '../index/port.js';
import type { BlobStore } from '../store/port.js';
import { listDocuments, type DocumentSummary } from '../query/documents.js';
import { auditNote } from './gateway/audit-trail.js';
import { requireScope } from './gateway/authenticate.js';
import { holdsAll, isAdmin, type Principal } from './gateway/principal.js';

export interface DocumentRoutesDeps {
  /** The store: its catalog lists the documents. */
  store: BlobStore;
  index: VectorIndex & { refresh?: () => Promise<void> };
  collection: () => Promise<string>;
  /** The served pipeline version: catalog entries are matched by it when the collection was renamed by a restore. */
  version?: () => Promise<string | undefined>;
  client: Client;
  taskQueue: string;
  /** How a source path is shown to this caller (absolute server paths only to admins). */
  sourceView?: (source: string, principal: Principal) => string;
}

const DOC_ID = /^doc_[0-9a-f]{24}$/;

function principalOf(res: Response): Principal {
  return res.locals.principal as Principal;
}

/**
 * A document may be deleted by an admin, or by its owner while they still hold every group of its
 * ACL. Seeing a document (a public one, say) is not enough to delete it.
 */
export function mayDelete(principal: Principal, doc: Pick<DocumentSummary, 'acl' | 'owner'>): boolean {
  if (isAdmin(principal)) return true;
  return doc.owner === principal.user && holdsAll(principal, doc.acl);
}

function servedOf(deps: Pick<DocumentRoutesDeps, 'collection' | 'version'>) {
  return async () => ({ collection: await deps.collection(), version: await deps.version?.() });
}

/** The document as this caller may see it in the served collection; NOT_FOUND otherwise. */
export function findReadableDocument(deps: Pick<DocumentRoutesDeps, 'store' | 'collection' | 'version'>): (res: Response, id: string) => Promise<DocumentSummary> {
  const served = servedOf(deps);
  return async (res, id) => {
    if (!DOC_ID.test(id)) throw new AppError('NOT_FOUND', `no document ${id}`);
    // A document the caller may not read is "not found", exactly like one that does not exist.
    const [doc] = await listDocuments(deps.store, await served(), principalOf(res), id);
    if (!doc) throw new AppError('NOT_FOUND', `no document ${id}`);
    return doc;
  };
}

/** GET /documents, GET /documents/:id, DELETE /documents/:id (a workflow that removes and verifies). */
export function createDocumentRouter(deps: DocumentRoutesDeps): Router {
  const router = Router();
  const view = (res: Response, doc: DocumentSummary): DocumentSummary => {
    const principal = principalOf(res);
    const out = { ...doc, source: deps.sourceView ? deps.sourceView(doc.source, principal) : doc.source };
    return out;
  };
  const served = servedOf(deps);
  const find = findReadableDocument(deps);

  router.get('/documents', requireScope('query'), async (_req, res) => {
    const documents = await listDocuments(deps.store, await served(), principalOf(res));
    auditNote(res).documentIds = documents.map((d) => d.documentId);
    res.json({ documents: documents.map((d) => view(res, d)) });
  });

  router.get('/documents/:documentId', requireScope('query'), async (req, res) => {
    const doc = await find(res, String(req.params.documentId));
    auditNote(res).documentIds = [doc.documentId];
    res.json(view(res, doc));
  });

  router.delete('/documents/:documentId', requireScope('ingest'), async (req, res) => {
    const doc = await find(res, String(req.params.documentId));
    const note = auditNote(res);
    note.documentIds = [doc.documentId];
    if (!mayDelete(principalOf(res), doc)) {
      note.outcome = 'denied';
      throw new AppError('FORBIDDEN', 'only an admin, or the owner holding every group of its ACL, may delete this document');
    }
    const handle = await deps.client.workflow.start('deleteDocument', {
      workflowId: `delete-${doc.documentId}`,
      taskQueue: deps.taskQueue,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      args: [doc.documentId],
    });
    const result = await handle.result();
    await deps.index.refresh?.();
    note.outcome = 'deleted';
    res.json(result);
  });
  return router;
}
