import { chmod, mkdir } from 'node:fs/promises';
import { AppError } from '../errors.js';
import { deriveAuditKeys, hmacHex } from './audit-crypto.js';
import { auditUnavailable } from './audit-files.js';
import { prepareAuditKey, recoverChain } from './audit-open.js';
import { validateAuditRecord, type AuditRecord } from './audit-record.js';
import { createAuditWriter } from './audit-writer.js';

/*
 * The audit log: one keyed, hash-chained line per audited request.
 *
 *   <dir>/audit.key        32 random bytes (0600), created on first open
 *   <dir>/audit.head       checkpoint: last durable seq + mac, keyed, replaced atomically
 *   <dir>/queries.jsonl    current segment; full ones are renamed queries-<first seq>.jsonl
 *
 * Each line is the record plus seq, time, prev (the previous line's mac) and mac, an HMAC over the
 * canonical JSON of the rest. Editing, deleting, inserting or reordering lines breaks macs, seqs or
 * prev links; cutting lines from the end leaves the checkpoint pointing past the end.
 */

export type { AuditRecord } from './audit-record.js';
export { verifyAuditLog, type AuditVerifyProblem, type AuditVerifyReport } from './audit-verify.js';

export interface AuditLog {
  /** Resolves only once the record is durably appended (fsync or equivalent); rejects if it cannot be written (callers fail closed). */
  append(rec: AuditRecord): Promise<void>;
  /** Keyed hash (HMAC-SHA-256 with the audit key) of a question, so the raw text is never stored and cannot be brute-forced without the key. */
  hashQuestion(q: string): string;
  close(): Promise<void>;
}

export interface AuditLogOptions {
  dir: string;
  /** The current segment is rotated once it grows past this many bytes. */
  rotateBytes: number;
  now?: () => Date;
}

/**
 * Open (or create) the log in `dir` and continue its chain. Refuses, with AUDIT_UNAVAILABLE, a log
 * whose recent segments fail verification or whose key is gone: the caller should not serve requests
 * it cannot audit.
 */
export async function openAuditLog(opts: AuditLogOptions): Promise<AuditLog> {
  if (!Number.isSafeInteger(opts.rotateBytes) || opts.rotateBytes <= 0) throw new AppError('INVALID_INPUT', 'rotateBytes must be a positive integer');
  const now = opts.now ?? (() => new Date());
  const { dir } = opts;
  let writer: ReturnType<typeof createAuditWriter>;
  let questionKey: Buffer;
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    const keys = deriveAuditKeys(await prepareAuditKey(dir, now));
    const state = await recoverChain(dir, keys, now);
    writer = createAuditWriter({ dir, keys, state, rotateBytes: opts.rotateBytes, now });
    questionKey = keys.question;
  } catch (err) {
    throw err instanceof AppError ? err : auditUnavailable(`the audit log in ${dir} cannot be opened`, err);
  }
  let closed = false;
  return {
    append(rec) {
      if (closed) return Promise.reject(auditUnavailable('the audit log is closed'));
      let clean: AuditRecord;
      try {
        clean = validateAuditRecord(rec);
      } catch (err) {
        return Promise.reject(err);
      }
      return writer.enqueue(clean);
    },
    hashQuestion: (q) => hmacHex(questionKey, q),
    async close() {
      closed = true;
      await writer.flush();
    },
  };
}
