import { constants } from 'node:fs';
import { chmod, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditKeys } from './audit-crypto.js';
import { auditUnavailable, createAuditKey, CURRENT_SEGMENT, fsyncDir, HEAD_FILE, KEY_FILE, listSegments, pathExists, readAuditKey } from './audit-files.js';
import { genesisHead, readAuditHead, writeAuditHead } from './audit-head.js';
import { walkChain } from './audit-verify.js';
import type { ChainState } from './audit-writer.js';

async function firstLine(path: string): Promise<string> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString('utf8').split('\n')[0];
  } finally {
    await fh.close();
  }
}

function looksChained(line: string): boolean {
  try {
    const obj = JSON.parse(line) as Record<string, unknown> | null;
    return typeof obj === 'object' && obj !== null && 'mac' in obj && 'prev' in obj;
  } catch {
    return false;
  }
}

/**
 * The key, creating it on first use. Without a key, a plain `queries.jsonl` from before the chain
 * existed is moved aside (kept, never deleted) so the chain starts clean; but a keyed log without its
 * key is refused: starting over there would hide whatever removed the key.
 */
export async function prepareAuditKey(dir: string, now: () => Date): Promise<Buffer> {
  const existing = await readAuditKey(dir);
  if (existing) {
    await chmod(join(dir, KEY_FILE), 0o600);
    return existing;
  }
  const segments = await listSegments(dir);
  const keyedLeftovers = segments.some((s) => s.firstSeq !== undefined) || (await pathExists(join(dir, HEAD_FILE)));
  const current = join(dir, CURRENT_SEGMENT);
  if (keyedLeftovers || (segments.length > 0 && looksChained(await firstLine(current)))) {
    throw auditUnavailable(`the audit key ${KEY_FILE} is missing but a keyed log exists in ${dir}; restore the key (run srag audit verify)`);
  }
  if (segments.length > 0) {
    await rename(current, join(dir, `queries.legacy-${now().getTime()}.jsonl`));
    await fsyncDir(dir);
  }
  return createAuditKey(dir);
}

/**
 * Find where the chain stands, refusing to continue a log that fails verification: appending and
 * moving the checkpoint forward would otherwise bury a truncation. Only the segments from the one
 * holding the checkpoint onward are checked, so opening stays cheap however long the history is.
 */
export async function recoverChain(dir: string, keys: AuditKeys, now: () => Date): Promise<ChainState> {
  const h = await readAuditHead(dir, keys.head);
  if (h.kind === 'bad') throw auditUnavailable(`the audit checkpoint ${HEAD_FILE} is unusable (${h.reason}); run srag audit verify`);
  const segments = await listSegments(dir);
  if (h.kind === 'absent' && segments.length > 0) throw auditUnavailable(`the audit checkpoint ${HEAD_FILE} is missing while log segments exist; run srag audit verify`);
  const head = h.kind === 'ok' ? h.head : undefined;
  let start = 0;
  if (head) {
    for (let i = segments.length - 1; i >= 0; i--) {
      const first = segments[i].firstSeq;
      if (first !== undefined && first <= head.seq) {
        start = i;
        break;
      }
    }
  }
  const walk = await walkChain(dir, keys.chain, head, segments.slice(start), start === 0);
  if (!walk.report.ok) {
    const bad = walk.report.firstBad!;
    throw auditUnavailable(`the audit log fails verification at ${bad.segment} line ${bad.line}: ${bad.reason}; run srag audit verify`);
  }
  if (walk.tornTail) {
    // A group whose write was cut short was never acknowledged: dropping its remains loses nothing.
    const fh = await open(join(dir, CURRENT_SEGMENT), constants.O_WRONLY | constants.O_NOFOLLOW);
    try {
      await fh.truncate(walk.currentBytes);
      await fh.datasync();
    } finally {
      await fh.close();
    }
  }
  if (!head) await writeAuditHead(dir, keys.head, genesisHead(CURRENT_SEGMENT, now().toISOString()));
  return {
    nextSeq: walk.lastSeq + 1,
    lastMac: walk.lastMac,
    size: walk.currentBytes,
    segmentFirstSeq: walk.currentFirstSeq ?? walk.lastSeq + 1,
    headSegment: walk.lastSegment,
    headDirty: head !== undefined && head.seq !== walk.lastSeq,
  };
}
