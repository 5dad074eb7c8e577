import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { sha256Hex } from '../domain/ids.js';

export interface AuditEntry {
  route: string;
  user: string;
  /** The question itself is not kept: its hash lets an auditor match a known question. */
  questionSha256: string;
  k: number;
  documentIds: string[];
  status: number;
  ms: number;
}

export type AuditSink = (entry: AuditEntry) => Promise<void>;

export function hashQuestion(q: string): string {
  return sha256Hex(q);
}

/** Append-only JSON lines; one line per audited request. */
export function createFileAuditSink(file: string): AuditSink {
  let ready: Promise<unknown> | undefined;
  return async (entry) => {
    ready ??= mkdir(dirname(file), { recursive: true });
    await ready;
    await appendFile(file, JSON.stringify({ time: new Date().toISOString(), ...entry }) + '\n');
  };
}
