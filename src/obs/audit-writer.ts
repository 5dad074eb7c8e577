import { constants } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import { canonicalJson, hmacHex, type AuditKeys } from './audit-crypto.js';
import { auditUnavailable, CURRENT_SEGMENT, fsyncDir, pathExists, rotatedSegmentName } from './audit-files.js';
import { writeAuditHead } from './audit-head.js';
import type { AuditRecord } from './audit-record.js';

/** Where the chain stands; owned by one writer, changed only after a write is durable. */
export interface ChainState {
  nextSeq: number;
  lastMac: string;
  /** Bytes in the current segment, and the seq its first record has (or will have). */
  size: number;
  segmentFirstSeq: number;
  /** Segment holding the last record, and whether the checkpoint on disk is behind the chain. */
  headSegment: string;
  headDirty: boolean;
}

export interface AuditWriterDeps {
  dir: string;
  keys: AuditKeys;
  state: ChainState;
  rotateBytes: number;
  now: () => Date;
}

interface Pending {
  rec: AuditRecord;
  resolve: () => void;
  reject: (err: unknown) => void;
}

// One write + fsync per group; the cap keeps a burst from building one huge buffer and keeps
// segments near rotateBytes.
const MAX_GROUP_BYTES = 1 << 20;

/**
 * Serializes appends through one queue so every record's prev is the record before it, and groups
 * whatever queued while the previous fsync ran into the next write: one fsync then acknowledges many
 * records. Callers are resolved only after their group is durable and rejected if it is not.
 */
export function createAuditWriter(deps: AuditWriterDeps) {
  const { dir, keys, rotateBytes, now } = deps;
  const s: ChainState = { ...deps.state };
  const currentPath = join(dir, CURRENT_SEGMENT);
  const queue: Pending[] = [];
  let draining: Promise<void> | undefined;
  // A failed write may have left part of a group past `s.size`; the next write cuts it off first.
  let tailDirty = false;

  async function saveHead(): Promise<void> {
    if (!s.headDirty) return;
    await writeAuditHead(dir, keys.head, { seq: s.nextSeq - 1, mac: s.lastMac, segment: s.headSegment, time: now().toISOString() });
    s.headDirty = false;
  }

  async function rotateIfFull(): Promise<void> {
    if (s.size <= rotateBytes) return;
    const name = rotatedSegmentName(s.segmentFirstSeq);
    // rename would silently replace an existing segment: that would destroy records.
    if (await pathExists(join(dir, name))) throw auditUnavailable(`cannot rotate the audit log: ${name} already exists`);
    await rename(currentPath, join(dir, name));
    await fsyncDir(dir);
    s.size = 0;
    s.segmentFirstSeq = s.nextSeq;
    s.headSegment = name;
    s.headDirty = true;
  }

  async function upkeep(): Promise<void> {
    await saveHead();
    await rotateIfFull();
    await saveHead();
  }

  function buildGroup(): { group: Pending[]; buf: Buffer; nextSeq: number; lastMac: string } {
    let seq = s.nextSeq;
    let prev = s.lastMac;
    let bytes = 0;
    let taken = 0;
    const lines: string[] = [];
    while (taken < queue.length && bytes < MAX_GROUP_BYTES) {
      const body = { seq, time: now().toISOString(), ...queue[taken].rec, prev };
      const mac = hmacHex(keys.chain, canonicalJson(body));
      const line = JSON.stringify({ ...body, mac }) + '\n';
      lines.push(line);
      bytes += Buffer.byteLength(line, 'utf8');
      prev = mac;
      seq++;
      taken++;
    }
    return { group: queue.splice(0, taken), buf: Buffer.from(lines.join(''), 'utf8'), nextSeq: seq, lastMac: prev };
  }

  async function appendDurably(buf: Buffer): Promise<void> {
    // Opened per group, not held: a file swapped, removed or replaced under us is noticed at once
    // instead of writes going on into an unlinked inode.
    const fh = await open(currentPath, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw auditUnavailable(`${CURRENT_SEGMENT} is not a regular file`);
      if (st.size !== s.size) {
        if (st.size > s.size && tailDirty) await fh.truncate(s.size);
        else throw auditUnavailable(`${CURRENT_SEGMENT} is ${st.size} bytes where ${s.size} were written: it was changed by someone else`);
      }
      if ((st.mode & 0o077) !== 0) await fh.chmod(0o600);
      let off = 0;
      while (off < buf.length) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
      await fh.datasync();
    } finally {
      await fh.close();
    }
    if (s.size === 0) await fsyncDir(dir);
  }

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      let group: Pending[] = [];
      try {
        // Before the group is taken: records queued meanwhile join this group.
        await upkeep();
        const built = buildGroup();
        group = built.group;
        await appendDurably(built.buf);
        tailDirty = false;
        Object.assign(s, { nextSeq: built.nextSeq, lastMac: built.lastMac, size: s.size + built.buf.length, headSegment: CURRENT_SEGMENT, headDirty: true });
      } catch (err) {
        // If upkeep failed nothing was taken yet: fail everyone waiting rather than loop on the error.
        if (group.length > 0) tailDirty = true;
        else group = queue.splice(0);
        const failure = err instanceof AppError ? err : auditUnavailable('the audit record could not be written durably', err);
        for (const p of group) p.reject(failure);
        continue;
      }
      for (const p of group) p.resolve();
      // The checkpoint may lag (verification allows that); a failure here is retried before the next
      // group, which is refused if it still fails.
      await upkeep().catch(() => undefined);
    }
  }

  function kick(): void {
    if (draining) return;
    draining = drain().finally(() => {
      draining = undefined;
      if (queue.length > 0) kick();
    });
  }

  return {
    enqueue(rec: AuditRecord): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        queue.push({ rec, resolve, reject });
        kick();
      });
    },
    /** Waits for queued records and brings the checkpoint up to date. */
    async flush(): Promise<void> {
      while (draining) await draining;
      await saveHead();
    },
  };
}
