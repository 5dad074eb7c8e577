import { Router, type Request, type RequestHandler, type Response } from 'express';
import { documentIdFor } from '../domain/ids.js';
import type { IngestPolicy, JobProgress, PiiPolicy, SourceSpec } from '../domain/ingest.js';
import { AppError } from '../errors.js';
import type { VectorIndex } from '../index/port.js';
import { canWriteDocument, existingDocuments, verdictMessage } from '../ingest/rights.js';
import type { Logger } from '../obs/logger.js';
import { stageSource } from '../ingest/stage.js';
import { resolveUnderRoots } from '../store/safe-paths.js';
import type { BlobStore } from '../store/port.js';
import type { JobService, JobViewer } from '../temporal/jobs.js';
import { auditNote } from './gateway/audit-trail.js';
import { requireScope } from './gateway/authenticate.js';
import { isAdmin, type Principal } from './gateway/principal.js';
import { publicMessage } from './redact.js';
import { IngestRequest } from './schemas.js';

export interface IngestRoutesDeps {
  jobs: JobService;
  store: BlobStore;
  /** The served collection and its index: documents named in a request are checked against it. */
  index: VectorIndex & { refresh?: () => Promise<void> };
  collection: () => Promise<string>;
  logger: Logger;
  /** Multipart parsing that streams `files` into the content store (see upload.ts). */
  upload: RequestHandler;
  /** Server-side paths: allowed under these roots only (none: path sources are refused). */
  pathRoots: string[];
  cwd: string;
  maxFiles: number;
  /** Per-file limit; with it, path sources are staged into the store by the API before the job starts. */
  maxFileBytes?: number;
  /** The operator's PII policy: the least a job runs with; a request may ask for stricter. */
  piiDefault: PiiPolicy;
  /** Rate limit for ingestion, per principal (applied after authentication). */
  limit?: RequestHandler;
  sourceView: (source: string, principal: Principal) => string;
}

const JOB_ID = /^job_[0-9a-f]{20}$/;
const PII_ORDER: PiiPolicy[] = ['off', 'flag', 'redact'];

function principalOf(res: Response): Principal {
  return res.locals.principal as Principal;
}

function viewerOf(res: Response): JobViewer {
  const p = principalOf(res);
  return { user: p.user, admin: isAdmin(p) };
}

function cleanName(name: string, max: number): string {
  return name.replace(/[\\/\u0000-\u001f]/g, '_').slice(0, max) || 'upload';
}

function stricterPii(base: PiiPolicy, asked: PiiPolicy | undefined): PiiPolicy {
  if (!asked) return base;
  return PII_ORDER.indexOf(asked) > PII_ORDER.indexOf(base) ? asked : base;
}

/** One source per document key: identical repeats collapse, conflicting ones are refused. */
function dedupe(sources: SourceSpec[]): SourceSpec[] {
  const byKey = new Map<string, SourceSpec>();
  for (const s of sources) {
    const key = documentKey(s);
    const prior = byKey.get(key);
    if (prior && prior.kind === 'stored' && s.kind === 'stored' && prior.hash !== s.hash) {
      throw new AppError('INVALID_INPUT', `two sources in one request have the same name but different content: ${s.name}`);
    }
    byKey.set(key, s);
  }
  return [...byKey.values()];
}

function documentKey(s: SourceSpec): string {
  return s.kind === 'path' ? `file:${s.path}` : s.sourceKey;
}

/** POST /ingest, GET /jobs, GET /jobs/:id, DELETE /jobs/:id. Jobs belong to their submitter. */
export function createIngestRouter(deps: IngestRoutesDeps): Router {
  const router = Router();
  const limit: RequestHandler = deps.limit ?? ((_req, _res, next) => next());

  const jobView = (res: Response, job: JobProgress): JobProgress => {
    const p = principalOf(res);
    if (isAdmin(p)) return job;
    return {
      ...job,
      errors: job.errors.map((e) => ({ ...e, source: deps.sourceView(e.source, p), message: publicMessage(e.message, p) })),
    };
  };

  const ingest: RequestHandler = async (req: Request, res: Response) => {
    const principal = principalOf(res);
    const note = auditNote(res);
    const owner = principal.user;
    // Encoded so a user name with a colon cannot reach into another user's namespace.
    const ownerKey = encodeURIComponent(owner);
    let sources: SourceSpec[] = [];
    let acl: string[] = [];
    let replaceAcl = false;
    let pii: PiiPolicy | undefined;
    if (req.is('multipart/form-data')) {
      const files = (req.files as Array<{ originalname: string; hash: string; size: number }> | undefined) ?? [];
      if (files.length === 0) throw new AppError('INVALID_INPUT', 'multipart ingest needs one or more `files` parts');
      const body = (req.body ?? {}) as Record<string, unknown>;
      acl = typeof body.acl === 'string' ? body.acl.split(',').map((s) => s.trim()).filter(Boolean) : [];
      replaceAcl = body.replaceAcl === 'true';
      if (typeof body.pii === 'string') {
        if (!PII_ORDER.includes(body.pii as PiiPolicy)) throw new AppError('INVALID_INPUT', 'pii must be off, flag or redact');
        pii = body.pii as PiiPolicy;
      }
      for (const f of files) {
        const name = cleanName(f.originalname, 255);
        // Namespaced by owner: one user's upload never replaces another's document of the same name.
        sources.push({ kind: 'stored', hash: f.hash, name, sourceKey: `upload:${ownerKey}:${name}` });
      }
    } else {
      const body = IngestRequest.parse(req.body);
      acl = body.acl ?? [];
      replaceAcl = body.replaceAcl ?? false;
      pii = body.pii;
      const paths: string[] = [];
      for (const s of body.sources) {
        if ('text' in s) {
          const { hash } = await deps.store.putContent(Buffer.from(s.text, 'utf8'));
          const name = `${cleanName(s.title ?? 'text', 200)}.txt`;
          sources.push({ kind: 'stored', hash, name, sourceKey: `text:${ownerKey}:${s.title ?? hash}`, title: s.title });
        } else {
          paths.push(s.path);
        }
      }
      if (paths.length > 0) {
        if (deps.pathRoots.length === 0) {
          throw new AppError('FORBIDDEN', 'server-side paths are not accepted here (set SRAG_INGEST_ROOTS to allow some); upload the files instead');
        }
        for (const path of await resolveUnderRoots(paths, deps.pathRoots, deps.cwd, { maxFiles: 100_000 })) sources.push({ kind: 'path', path });
      }
    }
    acl = [...new Set(acl)].sort();
    if (!isAdmin(principal)) {
      const foreign = acl.filter((g) => !principal.groups.includes(g));
      if (foreign.length > 0) {
        note.outcome = 'denied';
        throw new AppError('FORBIDDEN', 'an ACL may name only groups you belong to', { details: { groups: foreign } });
      }
    }
    if (replaceAcl && !isAdmin(principal)) {
      note.outcome = 'denied';
      throw new AppError('FORBIDDEN', "changing a document's ACL (replaceAcl) needs the admin scope");
    }
    sources = dedupe(sources);
    const policy: IngestPolicy = {
      owner: { user: owner, groups: [...principal.groups], admin: isAdmin(principal) },
      replaceAcl,
      pii: stricterPii(deps.piiDefault, pii),
    };

    // Fast refusal for the documents this request names; ingestion checks every document again.
    await deps.index.refresh?.();
    const ids = sources.map((s) => documentIdFor(documentKey(s)));
    const existing = await existingDocuments(deps, await deps.collection(), ids);
    for (const id of ids) {
      const verdict = canWriteDocument(policy, existing.get(id), acl);
      if (!verdict.ok) {
        note.outcome = 'denied';
        note.documentIds = [id];
        throw new AppError('FORBIDDEN', verdictMessage(verdict.reason), { details: { documentId: id } });
      }
    }

    // Path sources are staged into the content store here, so workers on other machines never need
    // this machine's filesystem. A file that cannot be staged (gone, too large) stays a path source:
    // the job then reports it with its code, alone.
    sources = await Promise.all(
      sources.map(async (s): Promise<SourceSpec> => {
        if (s.kind !== 'path' || deps.maxFileBytes === undefined) return s;
        try {
          const staged = await stageSource(deps.store, s, deps.maxFileBytes, deps.pathRoots);
          return { kind: 'stored', hash: staged.hash, name: staged.name, sourceKey: staged.sourceKey };
        } catch (err) {
          if (err instanceof AppError && err.code === 'FORBIDDEN') throw err;
          if (err instanceof AppError) return s;
          throw err;
        }
      }),
    );
    const { jobId } = await deps.jobs.submit(sources, acl, policy);
    note.jobId = jobId;
    note.detail = { sources: sources.length };
    deps.logger.info('http: job submitted', { jobId, sources: sources.length, user: owner });
    res.status(202).json({ jobId, sources: sources.length });
  };

  router.post(
    '/ingest',
    requireScope('ingest'),
    limit,
    (req, res, next) => (req.is('multipart/form-data') ? deps.upload(req, res, next) : next()),
    ingest,
  );

  router.get('/jobs', requireScope('ingest'), async (req, res) => {
    const n = Math.min(Math.max(Number(req.query.limit ?? 20) || 20, 1), 200);
    res.json({ jobs: await deps.jobs.list(n, viewerOf(res)) });
  });
  router.get('/jobs/:jobId', requireScope('ingest'), async (req, res) => {
    if (!JOB_ID.test(String(req.params.jobId))) throw new AppError('NOT_FOUND', 'no such job');
    auditNote(res).jobId = String(req.params.jobId);
    res.json(jobView(res, await deps.jobs.get(String(req.params.jobId), viewerOf(res))));
  });
  router.delete('/jobs/:jobId', requireScope('ingest'), async (req, res) => {
    if (!JOB_ID.test(String(req.params.jobId))) throw new AppError('NOT_FOUND', 'no such job');
    auditNote(res).jobId = String(req.params.jobId);
    await deps.jobs.cancel(String(req.params.jobId), viewerOf(res));
    res.status(202).json({ jobId: String(req.params.jobId), status: 'cancelling' });
  });
  return router;
}
