import { join } from 'node:path';
import { verifyAuditLog } from '../obs/audit.js';

/** The audit log's folder inside the data dir (where the API writes it). */
export function auditDir(dataDir: string): string {
  return join(dataDir, 'audit');
}

/** `srag audit verify`: exit 0 when the chain and checkpoint are intact, 1 at the first bad record. */
export async function runAuditVerify(dir: string, json: boolean, out: (s: string) => void): Promise<number> {
  const report = await verifyAuditLog(dir);
  if (json) {
    out(JSON.stringify(report));
  } else if (report.ok) {
    out(`audit log intact: ${report.records} records in ${report.segments} segment(s) (${dir})`);
    for (const w of report.warnings ?? []) out(`warning: ${w}`);
  } else {
    const bad = report.firstBad!;
    const seq = bad.seq === undefined ? '' : `, seq ${bad.seq}`;
    out(`audit log FAILED verification: ${bad.segment} line ${bad.line}${seq}: ${bad.reason}`);
    out(`${report.records} records checked before it (${dir})`);
  }
  return report.ok ? 0 : 1;
}
