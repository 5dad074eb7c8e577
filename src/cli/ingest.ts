import { resolve } from 'node:path';
import type { JobProgress } from '../domain/ingest.js';
import type { ApiClient } from './api-client.js';
import { renderProgress, renderSummary } from './progress.js';

export interface IngestOptions {
  paths: string[];
  acl: string[];
  /** Admin only: give re-ingested documents this ACL even if they had another. */
  replaceAcl?: boolean;
  pii?: 'off' | 'flag' | 'redact';
  wait: boolean;
  json: boolean;
  pollMs?: number;
}

/** Submits a job, shows live progress, and returns the exit code (1 when any document failed). */
export async function runIngest(api: ApiClient, opts: IngestOptions, io: { out: (s: string) => void; err: NodeJS.WriteStream }): Promise<number> {
  const { jobId, sources } = await api.post<{ jobId: string; sources: number }>('/v1/ingest', {
    sources: opts.paths.map((p) => ({ path: resolve(p) })),
    acl: opts.acl,
    ...(opts.replaceAcl ? { replaceAcl: true } : {}),
    ...(opts.pii ? { pii: opts.pii } : {}),
  });
  if (!opts.wait) {
    io.out(opts.json ? JSON.stringify({ jobId, sources }) : `submitted job ${jobId} (${sources} sources); follow it with: srag jobs ${jobId}`);
    return 0;
  }
  const started = Date.now();
  const tty = io.err.isTTY && !opts.json;
  let lastPlain = 0;
  let report: JobProgress;
  for (;;) {
    report = await api.get<JobProgress>(`/v1/jobs/${jobId}`);
    const secs = (Date.now() - started) / 1000;
    if (tty) io.err.write(`\r${renderProgress(report, secs)}\x1b[K`);
    else if (!opts.json && Date.now() - lastPlain > 5000) {
      io.err.write(renderProgress(report, secs) + '\n');
      lastPlain = Date.now();
    }
    if (report.status !== 'running') break;
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 500));
  }
  if (tty) io.err.write('\n');
  const secs = (Date.now() - started) / 1000;
  io.out(opts.json ? JSON.stringify({ ...report, seconds: secs }) : renderSummary(report, secs));
  return report.status === 'completed' && report.documents.failed === 0 ? 0 : 1;
}
