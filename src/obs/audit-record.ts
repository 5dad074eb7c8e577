import { AppError } from '../errors.js';

/**
 * One audited request. Every field is an id, a count, a flag or a short machine word: there is no
 * place for document text, a question, a token or any other free text, and `validateAuditRecord`
 * enforces the shapes at run time too (callers in plain JS, or a stray spread, cannot widen it).
 */
export interface AuditRecord {
  requestId: string;
  user: string;
  via?: string;
  ip?: string;
  method: string;
  route: string;
  status: number;
  documentIds?: string[];
  jobId?: string;
  questionHmac?: string;
  k?: number;
  ms: number;
  /** short machine words only, e.g. 'denied', 'rate_limited', 'key_created' */
  outcome?: string;
  detail?: Record<string, string | number | boolean>;
}

// Printable ASCII without spaces: enough for ids, addresses and hashes, too narrow for prose.
const TOKEN = /^[\x21-\x7e]+$/;
const WORD = /^[a-z][a-z0-9_]{0,63}$/;
const DETAIL_KEY = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const METHOD = /^[A-Z]{1,16}$/;
// Control, format and line/paragraph separators: nothing that can break a line or hide text.
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

const MAX_DOCUMENT_IDS = 10_000;
const MAX_DETAIL_ENTRIES = 32;
// Detail strings stay short so that a bearer token or a signed URL does not fit in one.
const MAX_DETAIL_STRING = 64;

const FIELDS = new Set(['requestId', 'user', 'via', 'ip', 'method', 'route', 'status', 'documentIds', 'jobId', 'questionHmac', 'k', 'ms', 'outcome', 'detail']);

function reject(field: string, why: string): never {
  // The value itself is never echoed: it may be exactly what must not be logged.
  throw new AppError('INVALID_INPUT', `audit record field ${field}: ${why}`);
}

function token(field: string, v: unknown, max: number): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max || !TOKEN.test(v)) reject(field, `must be 1-${max} printable ASCII characters without spaces`);
  return v;
}

function text(field: string, v: unknown, max: number): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max || UNPRINTABLE.test(v)) reject(field, `must be 1-${max} printable characters`);
  return v;
}

function int(field: string, v: unknown, min: number, max: number): number {
  if (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > max) reject(field, `must be an integer in ${min}..${max}`);
  return v as number;
}

/** A copy holding only the known fields, checked: the copy also shields the queued record from later mutation by the caller. */
export function validateAuditRecord(rec: AuditRecord): AuditRecord {
  if (typeof rec !== 'object' || rec === null) reject('(record)', 'must be an object');
  for (const key of Object.keys(rec)) if (!FIELDS.has(key)) reject(JSON.stringify(key.slice(0, 40)), 'is not an audit field');
  const r = rec as unknown as Record<string, unknown>;
  const out: AuditRecord = {
    requestId: token('requestId', r.requestId, 128),
    user: text('user', r.user, 256),
    method: typeof r.method === 'string' && METHOD.test(r.method) ? r.method : reject('method', 'must be an upper-case HTTP method'),
    route: text('route', r.route, 256),
    status: int('status', r.status, 0, 999),
    ms: typeof r.ms === 'number' && Number.isFinite(r.ms) && r.ms >= 0 ? r.ms : reject('ms', 'must be a finite number >= 0'),
  };
  // A query string can carry a question: routes are paths or patterns only.
  if (/[?#]/.test(out.route)) reject('route', 'must not contain a query string or fragment');
  if (r.via !== undefined) out.via = token('via', r.via, 64);
  if (r.ip !== undefined) out.ip = token('ip', r.ip, 64);
  if (r.documentIds !== undefined) {
    if (!Array.isArray(r.documentIds) || r.documentIds.length > MAX_DOCUMENT_IDS) reject('documentIds', `must be an array of at most ${MAX_DOCUMENT_IDS} ids`);
    out.documentIds = r.documentIds.map((id) => token('documentIds[]', id, 128));
  }
  if (r.jobId !== undefined) out.jobId = token('jobId', r.jobId, 128);
  if (r.questionHmac !== undefined) {
    if (typeof r.questionHmac !== 'string' || !HEX64.test(r.questionHmac)) reject('questionHmac', 'must be 64 lower-case hex digits (use hashQuestion)');
    out.questionHmac = r.questionHmac;
  }
  if (r.k !== undefined) out.k = int('k', r.k, 0, 1_000_000);
  if (r.outcome !== undefined) {
    if (typeof r.outcome !== 'string' || !WORD.test(r.outcome)) reject('outcome', 'must be a short machine word like rate_limited');
    out.outcome = r.outcome;
  }
  if (r.detail !== undefined) out.detail = detail(r.detail);
  return out;
}

function detail(v: unknown): Record<string, string | number | boolean> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) reject('detail', 'must be an object');
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > MAX_DETAIL_ENTRIES) reject('detail', `must have at most ${MAX_DETAIL_ENTRIES} entries`);
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of entries) {
    if (!DETAIL_KEY.test(key)) reject('detail', 'keys must be identifiers');
    if (typeof value === 'boolean') out[key] = value;
    else if (typeof value === 'number' && Number.isFinite(value)) out[key] = value;
    else out[key] = token(`detail.${key}`, value, MAX_DETAIL_STRING);
  }
  return out;
}
