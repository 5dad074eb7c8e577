import type { CheckResult, CheckStatus, DoctorReport } from './check.js';

const LABEL: Record<CheckStatus, string> = { ok: 'ok', warn: 'warn', fail: 'FAIL', skipped: 'skip' };

/** Human output: one line per check, an indented `fix:` under each warning or failure, a summary. */
export function formatReport(report: DoctorReport): string[] {
  const width = Math.max(...report.checks.map((c) => c.name.length));
  const lines: string[] = [];
  for (const c of report.checks) {
    lines.push(`${LABEL[c.status].padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}`);
    if (c.fix && (c.status === 'warn' || c.status === 'fail')) lines.push(`${' '.repeat(6 + width)}  fix: ${c.fix}`);
  }
  lines.push(summaryLine(report.checks));
  return lines;
}

export function summaryLine(checks: CheckResult[]): string {
  const n = (s: CheckStatus) => checks.filter((c) => c.status === s).length;
  const [failed, warned, skippedCount] = [n('fail'), n('warn'), n('skipped')];
  const parts = [`${n('ok')} ok`, `${warned} warning${warned === 1 ? '' : 's'}`, `${failed} failed`];
  if (skippedCount > 0) parts.push(`${skippedCount} skipped`);
  return `${failed === 0 ? 'srag doctor: ready' : 'srag doctor: NOT ready'} (${parts.join(', ')})`;
}

/** `--json`: `{ ok, checks: [{ name, status, detail, fix? }] }`. */
export function reportJson(report: DoctorReport): string {
  return JSON.stringify({
    ok: report.ok,
    checks: report.checks.map((c) => ({ name: c.name, status: c.status, detail: c.detail, ...(c.fix ? { fix: c.fix } : {}) })),
  });
}

/** 0 when no check failed (warnings allowed), 1 otherwise. */
export function exitCodeOf(report: DoctorReport): number {
  return report.ok ? 0 : 1;
}
