import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson, GENESIS_MAC, hmacHex, sameMac } from './audit-crypto.js';
import { HEAD_FILE, replaceFileAtomically } from './audit-files.js';

/**
 * The checkpoint: the last record known durable. It lives outside the log files, so cutting records
 * from the end of the log leaves the checkpoint pointing past the end. It is itself keyed, so it
 * cannot be rewritten to match a shortened log without the key. seq -1 with the genesis mac means
 * "no record yet".
 */
export interface AuditHead {
  seq: number;
  mac: string;
  /** Segment that held the record when the checkpoint was written (informational: rotation renames it). */
  segment: string;
  time: string;
}

export function genesisHead(segment: string, time: string): AuditHead {
  return { seq: -1, mac: GENESIS_MAC, segment, time };
}

function body(h: AuditHead) {
  return { v: 1, seq: h.seq, mac: h.mac, segment: h.segment, time: h.time };
}

export async function writeAuditHead(dir: string, headKey: Buffer, h: AuditHead): Promise<void> {
  const b = body(h);
  await replaceFileAtomically(dir, HEAD_FILE, JSON.stringify({ ...b, hmac: hmacHex(headKey, canonicalJson(b)) }) + '\n');
}

export type HeadRead = { kind: 'absent' } | { kind: 'ok'; head: AuditHead } | { kind: 'bad'; reason: string };

export async function readAuditHead(dir: string, headKey: Buffer): Promise<HeadRead> {
  let text: string;
  try {
    text = await readFile(join(dir, HEAD_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent' };
    throw err;
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { kind: 'bad', reason: 'checkpoint is not valid JSON' };
  }
  const { seq, mac, segment, time, hmac } = raw ?? {};
  if (raw?.v !== 1 || !Number.isSafeInteger(seq) || (seq as number) < -1 || typeof mac !== 'string' || typeof segment !== 'string' || typeof time !== 'string' || typeof hmac !== 'string') {
    return { kind: 'bad', reason: 'checkpoint is malformed' };
  }
  const head: AuditHead = { seq: seq as number, mac, segment, time };
  if (!sameMac(hmac, hmacHex(headKey, canonicalJson(body(head))))) return { kind: 'bad', reason: 'checkpoint mac does not match: it was edited or written without the key' };
  return { kind: 'ok', head };
}
