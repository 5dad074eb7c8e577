import { randomUUID } from 'node:crypto';
import express, { type Request, type RequestHandler, type Response } from 'express';
import helmet from 'helmet';
import type { PiiPolicy } from '../domain/ingest.js';
import type { AuditLog } from '../obs/audit.js';
import type { Logger } from '../obs/logger.js';
import type { Metrics } from '../obs/metrics.js';
import type { SearchService } from '../query/search.js';
import type { BlobStore } from '../store/port.js';
import type { JobService } from '../temporal/jobs.js';
import type { ParseResult } from '../domain/types.js';
import { createDocumentRouter, findReadableDocument, type DocumentRoutesDeps } from './document-routes.js';
import { createDocumentSourceRouter } from './document-source-routes.js';
import { errorHandler, notFound } from './errors.js';
import { auditNote, auditTrail } from './gateway/audit-trail.js';
import { authenticate, requireScope } from './gateway/authenticate.js';
import type { JwtVerifier } from './gateway/jwt.js';
import type { KeyStore } from './gateway/keys.js';
import { loopbackGuard } from './gateway/loopback-guard.js';
import type { Principal } from './gateway/principal.js';
import type { RateLimits } from './gateway/rate-limit.js';
import type { RebuildService } from '../services/rebuild.js';
import { createAdminRouter } from './admin-routes.js';
import { createIngestRouter } from './ingest-routes.js';
import { createEmbeddingsRouter, type EmbeddingsFeature } from './embeddings-routes.js';
import { createJobErrorsRoute } from './job-errors.js';
import { buildOpenApi } from './openapi.js';
import { createQueryRouter, type QueryFeature } from './query-routes.js';
import { publicSource } from './redact.js';
import { SearchRequest, type SearchHitT } from './schemas.js';
import { createUploadMiddleware } from './upload.js';
import { createWebRouter } from './web-routes.js';

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
  /** Cheap: the host caches the underlying checks (no model inference per call). */
  readiness: () => Promise<Record<string, ReadinessCheck>>;
  /** Credentials: static tokens, API keys, JWT. None of them: the loopback operator, no auth. */
  auth: { tokens: Map<string, Principal>; keys?: KeyStore; jwt?: JwtVerifier };
  rateLimits?: RateLimits;
  audit: AuditLog;
  metrics: Metrics;
  logger: Logger;
  limits: { maxFileBytes: number; maxJsonBytes: number; maxFiles: number; maxUploadBytes: number };
  /** Server-side paths: allowed under these (real) roots only; none: path sources are refused. */
  pathRoots: string[];
  cwd: string;
  /** Extra Host names the loopback operator mode accepts. */
  allowedHosts?: string[];
  piiDefault?: PiiPolicy;
  /**
   * The ingest parser, for GET /documents/:id/content and /source (citation offsets point into its
   * output); absent: those routes are not mounted.
   */
  parse?: (bytes: Uint8Array, filename: string) => Promise<ParseResult>;
  /** The answer page at `/`; false: not served (an API-only deployment). Default: served. */
  webPage?: boolean;
  /** POST /v1/embeddings (OpenAI-compatible, query scope); absent: not mounted. */
  embeddings?: EmbeddingsFeature;
  /** Index maintenance (admin scope); absent: the routes are not mounted. */
  rebuild?: RebuildService;
}

function principalOf(res: Response): Principal {
  return res.locals.principal as Principal;
}

/** Ids a caller (a gateway) may hand in: printable tokens only, so they are safe in logs and the audit chain. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;
/** Probes and scrapes: frequent, and no one's request. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

const passThrough: RequestHandler = (_req, _res, next) => next();

/** Express app over injected services; no I/O happens at construction. */
export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  const { tokens, keys, jwt } = deps.auth;
  // Without any credential the API serves the local operator, and only on loopback names.
  const open = () => tokens.size === 0 && !jwt && (keys?.size() ?? 0) === 0;
  const guard = loopbackGuard({ allowedHosts: deps.allowedHosts ?? [] });
  const openGuard: RequestHandler = (req, res, next) => (open() ? guard(req, res, next) : next());
  const authn = authenticate({
    tokens,
    keys,
    jwt,
    guardFailures: deps.rateLimits,
    onFailure: (req) => {
      deps.metrics.authFailures.inc();
      if (req.res) auditNote(req.res).outcome = 'auth_failed';
    },
  });
  const limit = (kind: 'query' | 'ingest'): RequestHandler => deps.rateLimits?.perPrincipal(kind) ?? passThrough;
  const sourceView = (source: string, principal: Principal) => publicSource(source, principal, deps.pathRoots);

  app.use(
    helmet({
      contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] } },
      crossOriginResourcePolicy: { policy: 'same-origin' },
    }),
  );
  app.use((req, res, next) => {
    // One id per request, in the response header, every log line and the audit record; a gateway's
    // own X-Request-Id is kept when it is a plain token, so a request can be followed across hops.
    const given = req.get('x-request-id');
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    const started = performance.now();
    const end = deps.metrics.httpDuration.startTimer({ method: req.method });
    res.on('finish', () => {
      const route = (req.route?.path as string | undefined) ?? 'unmatched';
      end({ route, status: String(res.statusCode) });
      if (QUIET_PATHS.has(req.path)) return;
      deps.logger.info('http: request', {
        requestId,
        method: req.method,
        route: `${req.baseUrl}${route}`,
        status: res.statusCode,
        ms: Math.round(performance.now() - started),
        user: (res.locals.principal as Principal | undefined)?.user,
      });
    });
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', openGuard, async (_req, res) => {
    const checks = await deps.readiness();
    const ok = Object.values(checks).every((c) => c.ok);
    // Details (addresses, error text) only for the local operator; others learn up or not.
    const shown = open() ? checks : Object.fromEntries(Object.entries(checks).map(([k, c]) => [k, { ok: c.ok }]));
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not_ready', checks: shown });
  });
  // Operational data: behind a credential once there are credentials.
  const ops = [openGuard, (req: Request, res: Response, next: () => void) => (open() ? next() : authn(req, res, next))];
  app.get('/metrics', ...ops, async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  app.get('/openapi.json', ...ops, (_req, res) => {
    res.json(buildOpenApi());
  });
  if (deps.webPage !== false) app.use(createWebRouter({ guard: openGuard }));

  const v1 = express.Router();
  v1.use(auditTrail({ audit: deps.audit, logger: deps.logger }));
  v1.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  v1.use(openGuard);
  v1.use(deps.rateLimits?.perIp ?? passThrough);
  v1.use(authn);
  v1.use(express.json({ limit: deps.limits.maxJsonBytes }));

  v1.use(
    createIngestRouter({
      jobs: deps.jobs,
      store: deps.store,
      index: deps.documents.index,
      collection: deps.documents.collection,
      logger: deps.logger,
      upload: createUploadMiddleware({
        store: deps.store,
        maxFileBytes: deps.limits.maxFileBytes,
        maxUploadBytes: deps.limits.maxUploadBytes,
        maxFiles: deps.limits.maxFiles,
      }),
      pathRoots: deps.pathRoots,
      cwd: deps.cwd,
      maxFiles: deps.limits.maxFiles,
      maxFileBytes: deps.limits.maxFileBytes,
      piiDefault: deps.piiDefault ?? 'off',
      limit: limit('ingest'),
      sourceView,
    }),
  );

  v1.get('/jobs/:jobId/errors', ...createJobErrorsRoute({ jobs: deps.jobs, store: deps.store, sourceView }));

  v1.post('/search', requireScope('query'), limit('query'), async (req: Request, res: Response) => {
    const body = SearchRequest.parse(req.body);
    const principal = principalOf(res);
    const note = auditNote(res);
    note.questionHmac = deps.audit.hashQuestion(body.query);
    note.k = body.k;
    const { hits, timings } = await deps.search.search(body.query, body.k, principal, { mode: body.mode });
    deps.metrics.queryStage.observe({ stage: 'embed' }, timings.embedMs / 1000);
    deps.metrics.queryStage.observe({ stage: 'retrieve' }, timings.retrieveMs / 1000);
    const out: SearchHitT[] = hits.map((h) => ({
      chunkId: h.id,
      documentId: h.payload.documentId,
      title: h.payload.title,
      source: sourceView(h.payload.source, principal),
      page: h.payload.page,
      start: h.payload.start,
      end: h.payload.end,
      text: h.payload.text,
      score: h.score,
      ...(h.relevance !== undefined ? { relevance: h.relevance } : {}),
    }));
    note.documentIds = out.map((h) => h.documentId);
    deps.metrics.audited.inc({ route: 'search' });
    res.json({ hits: out });
  });

  // Who the caller is and what it may do: the answer page shows upload only to callers who may ingest.
  v1.get('/me', (_req, res) => {
    const p = principalOf(res);
    res.json({ user: p.user, groups: p.groups, scopes: p.scopes, unrestricted: p.unrestricted });
  });

  v1.use('/documents', limit('query'));
  v1.use(createDocumentRouter({ ...deps.documents, sourceView }));
  if (deps.parse) v1.use(createDocumentSourceRouter({ store: deps.documents.store, findReadable: findReadableDocument(deps.documents), parse: deps.parse }));
  v1.use(['/query', '/chat/completions', '/models'], requireScope('query'), limit('query'));
  v1.use(
    createQueryRouter({
      ...deps.query,
      search: deps.search,
      audit: deps.audit,
      metrics: deps.metrics,
      logger: deps.logger,
      sourceView,
    }),
  );

  if (deps.embeddings) {
    v1.use('/embeddings', requireScope('query'), limit('query'));
    v1.use(createEmbeddingsRouter(deps.embeddings));
  }

  v1.use(createAdminRouter({ rebuild: deps.rebuild, keys }));

  app.use('/v1', v1);
  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}
