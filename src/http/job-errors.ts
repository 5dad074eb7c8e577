import type { Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import type { IngestError, JobProgress } from '../domain/ingest.js';
import { AppError } from '../errors.js';
import { readJobErrors } from '../store/job-errors.js';
import type { BlobStore } from '../store/port.js';
import type { JobService } from '../temporal/jobs.js';
import { auditNote } from './gateway/audit-trail.js';
import { requireScope } from './gateway/authenticate.js';
import { isAdmin, type Principal } from './gateway/principal.js';
import { publicMessage } from './redact.js';

export interface JobErrorsRouteDeps {
  jobs: JobService;
  store: BlobStore;
  /** How a source is shown to a non-admin (as in the job report); default: its file name only. */
  sourceView?: (source: string, principal: Principal) => string;
}

const JOB_ID = /^job_[0-9a-f]{20}$/;
export const MAX_ERRORS_PAGE = 1000;

const Page = z.object({
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(MAX_ERRORS_PAGE).default(100),
});

/** Errors of the job in all, from its histogram (older reports: the kept list plus the dropped). */
function totalErrors(job: JobProgress): number {
  if (job.errorCodes) return Object.values(job.errorCodes).reduce((a, b) => a + b, 0);
  return job.errors.length + job.errorsDropped;
}

function fileName(source: string): string {
  return source.slice(source.lastIndexOf('/') + 1) || source;
}

/**
 * `GET /v1/jobs/:jobId/errors?offset=&limit=`: every error of a job, a page at a time, from the
 * errors files its activities wrote (the report itself keeps only the first ones). A job the caller
 * may not see is 404, exactly as `GET /v1/jobs/:jobId`. Returns the scope check and the handler, to
 * mount as one route.
 */
export function createJobErrorsRoute(deps: JobErrorsRouteDeps): RequestHandler[] {
  const sourceView = deps.sourceView ?? ((source: string, principal: Principal) => (isAdmin(principal) ? source : fileName(source)));
  const handler: RequestHandler = async (req: Request, res: Response) => {
    const jobId = String(req.params.jobId);
    if (!JOB_ID.test(jobId)) throw new AppError('NOT_FOUND', 'no such job');
    const page = Page.safeParse(req.query);
    if (!page.success) {
      throw new AppError('INVALID_INPUT', `offset must be an integer >= 0 and limit an integer from 1 to ${MAX_ERRORS_PAGE}`);
    }
    const { offset, limit } = page.data;
    auditNote(res).jobId = jobId;
    const principal = res.locals.principal as Principal;
    const job = await deps.jobs.get(jobId, { user: principal.user, admin: isAdmin(principal) });
    const { errors, more } = await readJobErrors(deps.store, jobId, offset, limit);
    const shown: IngestError[] = isAdmin(principal)
      ? errors
      : errors.map((e) => ({ ...e, source: sourceView(e.source, principal), message: publicMessage(e.message, principal) }));
    res.json({
      jobId,
      status: job.status,
      offset,
      limit,
      total: totalErrors(job),
      errors: shown,
      ...(more ? { nextOffset: offset + errors.length } : {}),
    });
  };
  return [requireScope('ingest'), handler];
}
