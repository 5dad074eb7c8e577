import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSource } from '../../src/parse/index.js';
import { documentError } from '../fixtures/parse/errors.js';
import { EVAL_DIR } from '../fixtures/parse/eval.js';

const limits = { maxFileBytes: 64 << 20, maxPages: 10 };
const fixture = (name: string) => readFileSync(new URL(`../fixtures/parse/${name}`, import.meta.url));

async function parseRecords(bytes: Uint8Array, filename = 'corpus.jsonl') {
  const result = await parseSource(bytes, { filename, limits });
  if (result.kind !== 'records') throw new Error(`expected records, got ${result.kind}`);
  return result;
}

describe('jsonl (BEIR corpus)', () => {
  it('keeps good lines and reports bad ones by line number and code', async () => {
    const { records, errors } = await parseRecords(fixture('corpus.jsonl'));
    expect(records).toEqual([
      { externalId: '4983', title: 'Microstructural development', text: 'Alterations of the architecture of cerebral white matter.' },
      { externalId: '5836', title: '', text: 'A record without a title and a numeric id.' },
      { externalId: '8', title: '', text: 'null title is allowed' },
    ]);
    expect(errors.map(({ line, code }) => ({ line, code }))).toEqual([
      { line: 4, code: 'CORRUPT' },
      { line: 5, code: 'INVALID_INPUT' },
      { line: 6, code: 'INVALID_INPUT' },
      { line: 7, code: 'INVALID_INPUT' },
      { line: 8, code: 'NO_TEXT' },
      { line: 9, code: 'INVALID_INPUT' },
      { line: 10, code: 'INVALID_INPUT' },
    ]);
    expect(errors[5].message).toMatch(/duplicate "_id" \(first seen on line 1\)/);
    for (const e of errors) expect(e.message).not.toMatch(/SECRET|unterminated|no id/);
  });

  it('accepts CRLF line endings', async () => {
    const { records, errors } = await parseRecords(fixture('crlf.jsonl'));
    expect(records.map((r) => r.text)).toEqual(['one', 'two']);
    expect(errors).toEqual([]);
  });

  it('fails the file as CORRUPT when no line is valid', async () => {
    const bytes = new TextEncoder().encode('{"_id":"1","text":""}\n{"_id":"2","text":"SECRET\n');
    const err = await documentError(parseSource(bytes, { filename: 'c.jsonl', limits }));
    expect(err.code).toBe('CORRUPT');
    expect(err.message).toBe('JSONL corpus has no valid record (2 bad lines)');
  });

  const scifact = path.join(EVAL_DIR, 'scifact', 'corpus.jsonl');
  it.skipIf(!existsSync(scifact))('reads the real SciFact corpus', async () => {
    const { records, errors } = await parseRecords(readFileSync(scifact));
    expect(errors).toEqual([]);
    expect(records).toHaveLength(5183);
    expect(new Set(records.map((r) => r.externalId)).size).toBe(5183);
    expect(records.every((r) => r.text.trim() !== '')).toBe(true);
  });
});
