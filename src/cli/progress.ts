import type { JobProgress } from '../domain/ingest.js';

/** One line of job progress: a bar on a terminal, plain periodic lines otherwise. */
export function renderProgress(p: JobProgress, seconds: number, width = 28): string {
  const total = Math.max(p.sources.total, 1);
  const frac = Math.min(p.sources.done / total, 1);
  const filled = Math.round(frac * width);
  const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
  const docs = `${p.documents.done}/${p.documents.total} documents`;
  const failed = p.documents.failed ? ` · ${p.documents.failed} failed` : '';
  const skipped = p.documents.skipped ? ` · ${p.documents.skipped} unchanged` : '';
  return `[${bar}] ${p.sources.done}/${p.sources.total} sources · ${docs}${failed}${skipped} · ${p.chunks} chunks · ${seconds.toFixed(1)}s`;
}

export function renderSummary(p: JobProgress, seconds: number): string {
  const lines = [
    `job ${p.jobId} ${p.status} in ${seconds.toFixed(1)}s`,
    `  documents: ${p.documents.done} ok (${p.documents.skipped} unchanged), ${p.documents.failed} failed, ${p.documents.total} total`,
    `  chunks indexed: ${p.chunks}`,
  ];
  for (const e of p.errors) lines.push(`  ✗ ${e.source}: ${e.code} ${e.message}`);
  if (p.errorsDropped) lines.push(`  … and ${p.errorsDropped} more errors`);
  return lines.join('\n');
}
