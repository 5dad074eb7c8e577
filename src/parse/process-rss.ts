/** Resident memory of another process, read from procfs; undefined where there is none (not Linux). */
import { readFileSync } from 'node:fs';

const VM_RSS = /^VmRSS:[ \t]*(\d+) kB$/m;

export function readRssBytes(pid: number): number | undefined {
  try {
    const match = VM_RSS.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    // Not Linux, or the process is gone: the child's own guard thread still enforces the cap.
    return undefined;
  }
}
