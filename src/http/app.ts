import express, { type Request, type RequestHandler, type Response } from 'express';
import multer from 'multer';
import { isAbsolute, relative, resolve } from 'node:path';
import type { SourceSpec } from '../domain/ingest.js';
import { AppError } from '../errors.js';
import type { AuditSink } from '../obs/audit.js';
import { hashQuestion } from '../obs/audit.js';
import type { Logger } from '../obs/logger.js';
import type { Metrics } from '../obs/metrics.js';
import type { SearchService } from '../query/search.js';
import { expandPaths } from '../store/expand.js';
import type { BlobStore } from '../store/port.js';
import type { JobService } from '../temporal/jobs.js';
import { authenticate, type Principal } from './auth.js';
import { createDocumentRouter, type DocumentRoutesDeps } from './document-routes.js';
import { errorHandler, notFound } from './errors.js';
import { buildOpenApi } from './openapi.js';
import { createQueryRouter, type QueryFeature } from './query-routes.js';
import { IngestRequest, SearchRequest, type SearchHitT } from './schemas.js';

export interface ReadinessCheck {
  ok: boolean;
  detail?: string;
}

export interface AppDeps {
  jobs: JobService;
  documents: DocumentRoutesDeps;
  store: BlobStore;
  search: SearchService;
  /** POST /v1/query, the OpenAI-compatible /v1/chat/completions and /v1/models. */
  query: QueryFeature;
  readiness: () => Promise<Record<string, ReadinessCheck>>;
  tokens: Map<string, Principal>;
  audit: AuditSink;
  metrics: Metrics;
  logger: Logger;
  limits: { maxFileBytes: number; maxJsonBytes: number; maxFiles: number };
  /** Server-side paths: allowed under these roots only (none: path sources are refused). */
  pathRoots: string[];
  cwd: string;
}

function principalOf(res: Response): Principal {
  return res.locals.principal as Principal;
}

function underRoots(path: string, roots: string[]): boolean {
  return roots.some((root) => {
    const rel = relative(root, path);
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
  });
}

/** Express app over injected services; no I/O happens at construction. */
export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  app.use((req, res, next) => {
    const end = deps.metrics.httpDuration.startTimer({ method: req.method });
    res.on('finish', () => end({ route: (req.route?.path as string | undefined) ?? 'unmatched', status: String(res.statusCode) }));
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks = await deps.readiness();
    const ok = Object.values(checks).every((c) => c.ok);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not_ready', checks });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(buildOpenApi());
  });

  const v1 = express.Router();
  v1.use(authenticate(deps.tokens));
  v1.use(express.json({ limit: deps.limits.maxJsonBytes }));
  const upload = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: deps.limits.maxFileBytes, files: deps.limits.maxFiles, fields: 20, fieldSize: 64 * 1024 },
  });

  const ingest: RequestHandler = async (req, res) => {
    let sources: SourceSpec[] = [];
    let acl: string[] = [];
    if (req.is('multipart/form-data')) {
      const files = (req.files as Express.Multer.File[] | undefined) ?? [];
      if (files.length === 0) throw new AppError('INVALID_INPUT', 'multipart ingest needs one or more `files` parts');
      acl = typeof req.body?.acl === 'string' ? req.body.acl.split(',').map((s: string) => s.trim()).filter(Boolean) : [];
      for (const f of files) {
        const { hash } = await deps.store.putContent(f.buffer);
        const name = f.originalname.replace(/[\\/]/g, '_').slice(0, 255) || 'upload';
        sources.push({ kind: 'stored', hash, name, sourceKey: `upload:${name}` });
      }
    } else {
      const body = IngestRequest.parse(req.body);
      acl = body.acl ?? [];
      const paths: string[] = [];
      for (const s of body.sources) {
        if ('text' in s) {
          const { hash } = await deps.store.putContent(Buffer.from(s.text, 'utf8'));
          const name = `${(s.title ?? 'text').replace(/[\\/]/g, '_').slice(0, 200)}.txt`;
          sources.push({ kind: 'stored', hash, name, sourceKey: `text:${s.title ?? hash}`, title: s.title });
        } else {
          const abs = resolve(deps.cwd, s.path);
          if (!underRoots(abs, deps.pathRoots)) {
            throw new AppError('INVALID_INPUT', `path sources are allowed only under the configured roots (SRAG_INGEST_ROOTS); upload the file instead`);
          }
          paths.push(abs);
        }
      }
      for (const path of await expandPaths(paths, deps.cwd)) sources.push({ kind: 'path', path });
    }
    const { jobId } = await deps.jobs.submit(sources, [...new Set(acl)].sort());
    deps.logger.info('http: job submitted', { jobId, sources: sources.length, user: principalOf(res).user });
    res.status(202).json({ jobId, sources: sources.length });
  };
  v1.post('/ingest', (req, res, next) => (req.is('multipart/form-data') ? upload.array('files')(req, res, next) : next()), ingest);

  v1.get('/jobs', async (req, res) => {
    const limit = Math.min(Math.max(Number(req.query.limit ?? 20) || 20, 1), 200);
    res.json({ jobs: await deps.jobs.list(limit) });
  });
  v1.get('/jobs/:jobId', async (req, res) => {
    if (!/^job_[0-9a-f]{20}$/.test(req.params.jobId)) throw new AppError('NOT_FOUND', `no job ${req.params.jobId}`);
    res.json(await deps.jobs.get(req.params.jobId));
  });
  v1.delete('/jobs/:jobId', async (req, res) => {
    if (!/^job_[0-9a-f]{20}$/.test(req.params.jobId)) throw new AppError('NOT_FOUND', `no job ${req.params.jobId}`);
    await deps.jobs.cancel(req.params.jobId);
    res.status(202).json({ jobId: req.params.jobId, status: 'cancelling' });
  });

  v1.post('/search', async (req: Request, res: Response) => {
    const started = performance.now();
    const body = SearchRequest.parse(req.body);
    const principal = principalOf(res);
    const { hits, timings } = await deps.search.search(body.query, body.k, principal);
    deps.metrics.queryStage.observe({ stage: 'embed' }, timings.embedMs / 1000);
    deps.metrics.queryStage.observe({ stage: 'retrieve' }, timings.retrieveMs / 1000);
    const out: SearchHitT[] = hits.map((h) => ({
      chunkId: h.id,
      documentId: h.payload.documentId,
      title: h.payload.title,
      source: h.payload.source,
      page: h.payload.page,
      start: h.payload.start,
      end: h.payload.end,
      text: h.payload.text,
      score: h.score,
    }));
    res.json({ hits: out });
    deps.metrics.audited.inc({ route: 'search' });
    await deps.audit({
      route: 'search',
      user: principal.user,
      questionSha256: hashQuestion(body.query),
      k: body.k,
      documentIds: [...new Set(out.map((h) => h.documentId))],
      status: 200,
      ms: Math.round(performance.now() - started),
    });
  });

  v1.use(createDocumentRouter(deps.documents));
  v1.use(createQueryRouter({ ...deps.query, search: deps.search, audit: deps.audit, metrics: deps.metrics, logger: deps.logger }));

  app.use('/v1', v1);
  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}
