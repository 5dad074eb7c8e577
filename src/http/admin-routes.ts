import { Router } from 'express';
import { z } from 'zod';
import { AppError } from '../errors.js';
import type { RebuildService } from '../services/rebuild.js';
import { auditNote } from './gateway/audit-trail.js';
import { requireScope } from './gateway/authenticate.js';

const RebuildRequest = z.object({ collection: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/).optional() }).strict();

/** Index maintenance for admins: rebuild a collection from the store (a workflow, visible in the Temporal UI). */
export function createAdminRouter(deps: { rebuild: RebuildService }): Router {
  const router = Router();
  router.post('/admin/index/rebuild', requireScope('admin'), async (req, res) => {
    const body = RebuildRequest.parse(req.body ?? {});
    const started = await deps.rebuild.start(body.collection);
    auditNote(res).outcome = 'rebuild_started';
    res.status(202).json(started);
  });
  router.get('/admin/index/rebuild/:collection', requireScope('admin'), async (req, res) => {
    const collection = String(req.params.collection);
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(collection)) throw new AppError('NOT_FOUND', 'no such collection');
    res.json(await deps.rebuild.status(collection));
  });
  return router;
}
