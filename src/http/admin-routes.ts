import { Router } from 'express';
import { z } from 'zod';
import { AppError } from '../errors.js';
import type { RebuildService } from '../services/rebuild.js';
import type { KeyStore } from './gateway/keys.js';
import { auditNote } from './gateway/audit-trail.js';
import { requireScope } from './gateway/authenticate.js';

const Name = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,127}$/);
export const NewKeyRequest = z
  .object({
    user: Name,
    groups: z.array(Name).max(100).default([]),
    scopes: z.array(z.enum(['query', 'ingest', 'admin'])).min(1).max(3).default(['query']),
    name: z.string().max(200).regex(/^[^\u0000-\u001f]*$/).optional(),
  })
  .strict();

export const RebuildRequest = z.object({ collection: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/).optional() }).strict();

/**
 * Admin actions over HTTP, each audited by the trail like every /v1 request: API keys (create, list,
 * revoke) and index maintenance (rebuild a collection from the store, a workflow visible in the
 * Temporal UI). `srag keys` on the host edits the key file directly, for bootstrapping.
 */
export function createAdminRouter(deps: { rebuild?: RebuildService; keys?: KeyStore }): Router {
  const router = Router();
  const { keys } = deps;
  if (keys) {
    router.get('/admin/keys', requireScope('admin'), async (_req, res) => {
      res.json({ keys: await keys.list() });
    });
    router.post('/admin/keys', requireScope('admin'), async (req, res) => {
      const body = NewKeyRequest.parse(req.body ?? {});
      const created = await keys.create(body);
      const note = auditNote(res);
      note.outcome = 'key_created';
      note.detail = { keyId: created.id, forUser: body.user, scopes: body.scopes.join('+') };
      // The secret leaves once, in this response; it is stored only as a salted hash.
      res.status(201).json({ id: created.id, secret: created.secret, key: created.record });
    });
    router.delete('/admin/keys/:id', requireScope('admin'), async (req, res) => {
      const id = String(req.params.id);
      if (!/^[0-9a-f]{16}$/.test(id)) throw new AppError('NOT_FOUND', 'no such key');
      const revoked = await keys.revoke(id);
      const note = auditNote(res);
      note.outcome = 'key_revoked';
      note.detail = { keyId: id };
      res.json({ key: revoked });
    });
  }
  const rebuild = deps.rebuild;
  if (!rebuild) return router;
  router.post('/admin/index/rebuild', requireScope('admin'), async (req, res) => {
    const body = RebuildRequest.parse(req.body ?? {});
    const started = await rebuild.start(body.collection);
    auditNote(res).outcome = 'rebuild_started';
    res.status(202).json(started);
  });
  router.get('/admin/index/rebuild/:collection', requireScope('admin'), async (req, res) => {
    const collection = String(req.params.collection);
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(collection)) throw new AppError('NOT_FOUND', 'no such collection');
    res.json(await rebuild.status(collection));
  });
  return router;
}
