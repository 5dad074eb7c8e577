import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson, deriveAuditKeys, GENESIS_MAC, hmacHex, sameMac } from './audit-crypto.js';
import { CURRENT_SEGMENT, HEAD_FILE, KEY_FILE, listSegments, pathExists, readAuditKey, type Segment } from './audit-files.js';
import { readAuditHead, type AuditHead } from './audit-head.js';

export interface AuditVerifyProblem {
  segment: string;
  /** 1-based line in the segment (one past the last line when records are missing from the end). */
  line: number;
  seq?: number;
  reason: string;
}

export interface AuditVerifyReport {
  ok: boolean;
  records: number;
  segments: number;
  firstBad?: AuditVerifyProblem;
  /** Not tampering, but worth knowing (an incomplete last line left by a crash mid-write). */
  warnings?: string[];
}

/** Where a walk ended: what a writer needs to continue the chain. */
export interface ChainWalk {
  report: AuditVerifyReport;
  lastSeq: number;
  lastMac: string;
  /** The segment holding the last record (the current one when the log is empty). */
  lastSegment: string;
  /** Bytes of complete lines in the current segment, and the seq of its first record. */
  currentBytes: number;
  currentFirstSeq?: number;
  /** The current segment ends in a partial line that a crashed write left behind. */
  tornTail: boolean;
}

type Parsed = { seq: number; prev: string; mac: string } | { seq?: number; error: string };

function parseRecord(line: string, chainKey: Buffer): Parsed {
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch {
    return { error: 'not valid JSON' };
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return { error: 'not a JSON object' };
  const { mac, ...rest } = obj as Record<string, unknown>;
  const seq = Number.isSafeInteger(rest.seq) && (rest.seq as number) >= 0 ? (rest.seq as number) : undefined;
  if (seq === undefined) return { error: 'no valid seq' };
  if (typeof mac !== 'string' || typeof rest.prev !== 'string' || typeof rest.time !== 'string') return { seq, error: 'mac, prev or time missing' };
  let expected: string;
  try {
    expected = hmacHex(chainKey, canonicalJson(rest));
  } catch {
    return { seq, error: 'record cannot be encoded canonically' };
  }
  if (!sameMac(mac, expected)) return { seq, error: 'mac does not match: the record was altered, or written without the key' };
  return { seq, prev: rest.prev, mac };
}

/**
 * Walk segments in order, checking each record's mac, that seqs run without gaps and that every prev
 * is the mac before it; then check the end against the checkpoint. `fromGenesis` false starts mid-chain
 * (trusting the first record's prev), which is how an opening writer checks just the recent segments.
 * Stops at the first problem.
 */
export async function walkChain(dir: string, chainKey: Buffer, head: AuditHead | undefined, segments: Segment[], fromGenesis: boolean): Promise<ChainWalk> {
  let expectSeq: number | undefined = fromGenesis ? 0 : undefined;
  let prev: string | undefined = fromGenesis ? GENESIS_MAC : undefined;
  let records = 0;
  let headSeen = false;
  const warnings: string[] = [];
  const walk: ChainWalk = { report: { ok: true, records: 0, segments: segments.length }, lastSeq: -1, lastMac: GENESIS_MAC, lastSegment: CURRENT_SEGMENT, currentBytes: 0, tornTail: false };
  const fail = (problem: AuditVerifyProblem): ChainWalk => {
    walk.report = { ok: false, records, segments: segments.length, firstBad: problem, ...(warnings.length ? { warnings } : {}) };
    return walk;
  };
  let endLine = 1;
  for (const [i, seg] of segments.entries()) {
    const isCurrent = seg.name === CURRENT_SEGMENT && i === segments.length - 1;
    const text = await readFile(join(dir, seg.name), 'utf8');
    const lines = text.split('\n');
    const partial = lines.pop()!;
    if (partial !== '') {
      if (!isCurrent) return fail({ segment: seg.name, line: lines.length + 1, reason: 'incomplete line (no newline) inside a closed segment' });
      walk.tornTail = true;
      warnings.push(`${seg.name}: incomplete last line ignored (a write cut short by a crash; removed when the log is next opened)`);
    }
    if (lines.length === 0 && !isCurrent) return fail({ segment: seg.name, line: 1, reason: 'empty segment' });
    for (const [n, line] of lines.entries()) {
      const at = { segment: seg.name, line: n + 1 };
      const r = parseRecord(line, chainKey);
      if ('error' in r) return fail({ ...at, seq: r.seq, reason: r.error });
      if (expectSeq !== undefined && r.seq !== expectSeq) {
        return fail({ ...at, seq: r.seq, reason: `seq ${r.seq} where ${expectSeq} was expected: records ${r.seq > expectSeq ? 'missing' : 'reordered or repeated'}` });
      }
      if (prev !== undefined && r.prev !== prev) return fail({ ...at, seq: r.seq, reason: 'prev does not match the mac of the record before it: the chain is broken' });
      if (n === 0 && seg.firstSeq !== undefined && r.seq !== seg.firstSeq) return fail({ ...at, seq: r.seq, reason: `segment name says it starts at seq ${seg.firstSeq}` });
      if (head && r.seq === head.seq) {
        if (r.mac !== head.mac) return fail({ ...at, seq: r.seq, reason: 'differs from the checkpoint: the chain was rewritten from here' });
        headSeen = true;
      }
      if (n === 0 && isCurrent) walk.currentFirstSeq = r.seq;
      expectSeq = r.seq + 1;
      prev = r.mac;
      records++;
    }
    if (isCurrent) walk.currentBytes = Buffer.byteLength(text, 'utf8') - Buffer.byteLength(partial, 'utf8');
    if (lines.length > 0) walk.lastSegment = seg.name;
    endLine = lines.length + 1;
  }
  walk.lastSeq = expectSeq === undefined ? -1 : expectSeq - 1;
  walk.lastMac = prev ?? GENESIS_MAC;
  if (head && head.seq > walk.lastSeq) {
    return fail({
      segment: segments.length ? segments[segments.length - 1].name : head.segment,
      line: endLine,
      seq: walk.lastSeq + 1,
      reason: `the log ends at seq ${walk.lastSeq} but the checkpoint records seq ${head.seq}: records were cut from the end`,
    });
  }
  // Only reachable when a walk starts mid-chain past the checkpoint: the caller chose the wrong start.
  if (head && head.seq >= 0 && !headSeen) return fail({ segment: head.segment, line: 1, seq: head.seq, reason: 'the checkpoint record is not in the log' });
  walk.report = { ok: true, records, segments: segments.length, ...(warnings.length ? { warnings } : {}) };
  return walk;
}

/** Check the whole log in `dir`, read-only: every segment, every record, and the end against the checkpoint. */
export async function verifyAuditLog(dir: string): Promise<AuditVerifyReport> {
  const segments = await listSegments(dir);
  const bad = (segment: string, reason: string): AuditVerifyReport => ({ ok: false, records: 0, segments: segments.length, firstBad: { segment, line: 1, reason } });
  let master: Buffer | undefined;
  try {
    master = await readAuditKey(dir);
  } catch (err) {
    return bad(KEY_FILE, (err as Error).message);
  }
  const headExists = await pathExists(join(dir, HEAD_FILE));
  if (!master) {
    // Nothing was ever written here: an empty log is intact.
    if (segments.length === 0 && !headExists) return { ok: true, records: 0, segments: 0 };
    return bad(KEY_FILE, 'the audit key is missing: records cannot be checked');
  }
  const keys = deriveAuditKeys(master);
  const h = await readAuditHead(dir, keys.head);
  if (h.kind === 'bad') return bad(HEAD_FILE, h.reason);
  if (h.kind === 'absent' && segments.length > 0) return bad(HEAD_FILE, 'the checkpoint is missing while log segments exist');
  return (await walkChain(dir, keys.chain, h.kind === 'ok' ? h.head : undefined, segments, true)).report;
}
