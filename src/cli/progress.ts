import type { JobProgress } from '../domain/ingest.js';

/** One line of job progress: a bar on a terminal, plain periodic lines otherwise. */
export function renderProgress(p: JobProgress, seconds: number, width = 28): string {
  const total = Math.max(p.sources.total, 1);
  const frac = Math.min(p.sources.done / total, 1);
  const filled = Math.round(frac * width);
  const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
  // Each document is counted once: indexed (done), unchanged (skipped) or failed.
  const docs = `${p.documents.done + p.documents.skipped}/${p.documents.total} documents`;
  const failed = p.documents.failed ? ` · ${p.documents.failed} failed` : '';
  const skipped = p.documents.skipped ? ` · ${p.documents.skipped} unchanged` : '';
  return `[${bar}] ${p.sources.done}/${p.sources.total} sources · ${docs}${failed}${skipped} · ${p.chunks} chunks · ${seconds.toFixed(1)}s`;
}

export function renderSummary(p: JobProgress, seconds: number): string {
  const lines = [
    `job ${p.jobId} ${p.status} in ${seconds.toFixed(1)}s`,
    `  documents: ${p.documents.done} indexed, ${p.documents.skipped} unchanged, ${p.documents.failed} failed, ${p.documents.total} total`,
    `  chunks indexed: ${p.chunks}`,
  ];
  for (const e of p.errors) lines.push(`  ✗ ${e.source}: ${e.code} ${e.message}`);
  if (p.errorCodes && Object.keys(p.errorCodes).length > 0) {
    lines.push(`  errors by code: ${Object.entries(p.errorCodes).map(([code, n]) => `${code} ${n}`).join(', ')}`);
  }
  if (p.errorsDropped) lines.push(`  … and ${p.errorsDropped} more errors: GET /v1/jobs/${p.jobId}/errors pages through all of them`);
  return lines.join('\n');
}
