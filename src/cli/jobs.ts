import type { JobProgress } from '../domain/ingest.js';
import type { JobSummary } from '../temporal/jobs.js';
import type { ApiClient } from './api-client.js';
import { renderSummary } from './progress.js';

export async function runJobs(api: ApiClient, jobId: string | undefined, json: boolean, out: (s: string) => void): Promise<number> {
  if (jobId) {
    const report = await api.get<JobProgress>(`/v1/jobs/${encodeURIComponent(jobId)}`);
    out(json ? JSON.stringify(report) : renderSummary(report, report.finishedAt && report.startedAt ? (Date.parse(report.finishedAt) - Date.parse(report.startedAt)) / 1000 : 0));
    return 0;
  }
  const { jobs } = await api.get<{ jobs: JobSummary[] }>('/v1/jobs?limit=50');
  if (json) out(JSON.stringify({ jobs }));
  else if (jobs.length === 0) out('no jobs yet: srag ingest <path>');
  else for (const j of jobs) out(`${j.jobId}  ${j.status.padEnd(10)} started ${j.startedAt ?? '?'}${j.closedAt ? `  closed ${j.closedAt}` : ''}`);
  return 0;
}
