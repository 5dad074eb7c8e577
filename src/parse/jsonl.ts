/**
 * BEIR corpus layout: one `{"_id", "title"?, "text"}` object per line. A bad line becomes a RecordError
 * and never fails its neighbours. Messages name the line, never its content (it is document text).
 */
import type { CorpusRecord, ParseResult, RecordError } from '../domain/types.js';
import { DocumentError, type ErrorCode } from '../errors.js';

type LineOutcome = { ok: true; record: CorpusRecord } | { ok: false; code: ErrorCode; message: string };

function parseJson(line: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(line) as unknown };
  } catch {
    // JSON.parse messages quote the offending input, so they are never passed on.
    return { ok: false };
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function validId(id: unknown): id is string | number {
  return (typeof id === 'string' && id.trim() !== '') || (typeof id === 'number' && Number.isFinite(id));
}

function parseRecordLine(line: string): LineOutcome {
  const parsed = parseJson(line);
  if (!parsed.ok) return { ok: false, code: 'CORRUPT', message: 'line is not valid JSON' };
  const value = parsed.value;
  if (!isPlainObject(value)) return { ok: false, code: 'INVALID_INPUT', message: 'line is not a JSON object' };
  if (!validId(value._id)) {
    return { ok: false, code: 'INVALID_INPUT', message: '"_id" is missing or is not a non-empty string or number' };
  }
  if (typeof value.text !== 'string') {
    return { ok: false, code: 'INVALID_INPUT', message: '"text" is missing or is not a string' };
  }
  if (value.title !== undefined && value.title !== null && typeof value.title !== 'string') {
    return { ok: false, code: 'INVALID_INPUT', message: '"title" is not a string' };
  }
  if (value.text.trim() === '') return { ok: false, code: 'NO_TEXT', message: '"text" is empty' };
  return { ok: true, record: { externalId: String(value._id), title: value.title ?? '', text: value.text } };
}

/** True when the line is a JSON object with `_id` and `text`: the sniffing test for a BEIR corpus. */
export function isBeirRecordLine(line: string): boolean {
  const parsed = parseJson(line);
  return parsed.ok && isPlainObject(parsed.value) && '_id' in parsed.value && 'text' in parsed.value;
}

export function parseJsonl(text: string): Extract<ParseResult, { kind: 'records' }> {
  const records: CorpusRecord[] = [];
  const errors: RecordError[] = [];
  const firstLineOfId = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
    if (line.trim() === '') continue;
    const lineNo = i + 1;
    const outcome = parseRecordLine(line);
    if (!outcome.ok) {
      errors.push({ line: lineNo, code: outcome.code, message: outcome.message });
      continue;
    }
    const seen = firstLineOfId.get(outcome.record.externalId);
    if (seen !== undefined) {
      errors.push({ line: lineNo, code: 'INVALID_INPUT', message: `duplicate "_id" (first seen on line ${seen}); line skipped` });
      continue;
    }
    firstLineOfId.set(outcome.record.externalId, lineNo);
    records.push(outcome.record);
  }
  if (records.length === 0) {
    throw new DocumentError('CORRUPT', `JSONL corpus has no valid record (${errors.length} bad lines)`, {
      details: { badLines: errors.length, firstErrors: errors.slice(0, 5) },
    });
  }
  return { kind: 'records', records, errors };
}
