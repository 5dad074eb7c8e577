import { describe, expect, it } from 'vitest';
import type { ChunkPayload } from '../../src/domain/types.js';
import { crc32 } from '../../src/index/crc32.js';
import { compileFilter } from '../../src/index/filter.js';
import { decodeBody, decodeHeader, encodeDelete, encodeHeader, encodeUpsert, LOG_MAGIC, SNAPSHOT_MAGIC } from '../../src/index/log-format.js';
import { MemoryCollection } from '../../src/index/memory-collection.js';
import { TopK } from '../../src/index/top-k.js';
import { rng } from '../support/random.js';

const payload = (documentId: string, acl: string[] = []): ChunkPayload => ({
  documentId,
  contentHash: 'h',
  chunkIndex: 0,
  chunkCount: 1,
  text: '',
  start: 0,
  end: 0,
  title: '',
  source: '',
  type: 'text',
  acl,
});

describe('crc32', () => {
  it.each([
    ['', 0x00000000],
    ['a', 0xe8b7be43],
    ['123456789', 0xcbf43926],
    ['The quick brown fox jumps over the lazy dog', 0x414fa339],
  ])('crc32(%j)', (text, expected) => {
    expect(crc32(Buffer.from(text))).toBe(expected);
  });

  it('continues a running checksum and honours ranges', () => {
    const data = Buffer.from('hello, crc world');
    expect(crc32(data, 7)).toBe(crc32(Buffer.from('crc world')));
    expect(crc32(data.subarray(5), 0, data.length - 5, crc32(data, 0, 5))).toBe(crc32(data));
  });
});

describe('log format', () => {
  it('round-trips headers and rejects a damaged one', () => {
    const log = encodeHeader(LOG_MAGIC, 384);
    expect(decodeHeader(log, LOG_MAGIC)).toMatchObject({ dimension: 384, version: 1 });
    expect(decodeHeader(log, SNAPSHOT_MAGIC)).toBeUndefined();
    const bad = Buffer.from(log);
    bad[13] ^= 1;
    expect(decodeHeader(bad, LOG_MAGIC)).toBeUndefined();
    expect(decodeHeader(encodeHeader(LOG_MAGIC, 8), LOG_MAGIC)?.fileId).not.toBe(decodeHeader(log, LOG_MAGIC)?.fileId);
  });

  it('round-trips upsert and delete bodies', () => {
    const vector = new Float32Array([0.5, -0.25, 1, 0]);
    const frame = encodeUpsert('ïd-1', JSON.stringify(payload('doc')), vector);
    expect(frame.readUInt32LE(0)).toBe(frame.length - 8);
    expect(frame.readUInt32LE(4)).toBe(crc32(frame, 8));
    const body = frame.subarray(8);
    const record = decodeBody(body, 4);
    if (record.type !== 1) throw new Error('expected an upsert');
    expect(record.id).toBe('ïd-1');
    expect(record.payload.documentId).toBe('doc');
    expect(new Float32Array(body.buffer.slice(body.byteOffset + record.vectorOffset, body.byteOffset + record.vectorOffset + 16))).toEqual(vector);
    expect(() => decodeBody(body, 5)).toThrow(expect.objectContaining({ code: 'INDEX_ERROR' }));
    const del = decodeBody(encodeDelete(['a', 'bé', 'c']).subarray(8), 4);
    expect(del).toEqual({ type: 2, ids: ['a', 'bé', 'c'] });
  });
});

describe('TopK', () => {
  it('keeps the k largest, best first', () => {
    const next = rng(5);
    const values = Array.from({ length: 1000 }, () => next());
    const top = new TopK(7);
    values.forEach((v, i) => top.offer(v, i));
    expect(top.sorted().map((e) => e.score)).toEqual([...values].sort((a, b) => b - a).slice(0, 7));
  });
});

describe('MemoryCollection', () => {
  for (const simd of [true, false]) {
    it(`search equals brute force with ${simd ? 'the SIMD kernel' : 'the JS fallback'}, through growth and deletes`, () => {
      const dim = 13; // not a multiple of 8: exercises row padding
      const next = rng(simd ? 1 : 2);
      const mem = new MemoryCollection(dim, 4, simd);
      expect(mem.simd).toBe(simd);
      const vectors = new Map<string, Float32Array>();
      for (let i = 0; i < 500; i++) {
        const v = Float32Array.from({ length: dim }, () => next() * 2 - 1);
        vectors.set(`p${i}`, v);
        mem.upsert(`p${i}`, v, payload(`doc${i % 17}`, i % 2 ? ['g'] : []));
      }
      for (let i = 0; i < 500; i += 3) {
        mem.delete(`p${i}`);
        vectors.delete(`p${i}`);
      }
      expect(mem.size).toBe(vectors.size);
      const q = Float32Array.from({ length: dim }, () => next() * 2 - 1);
      const dot = (v: Float32Array) => v.reduce((s, x, j) => s + x * q[j], 0);
      const expected = [...vectors.entries()].map(([id, v]) => ({ id, score: dot(v) })).sort((a, b) => b.score - a.score);
      const hits = mem.search(q, 25, compileFilter(undefined));
      expect(hits.map((h) => h.id)).toEqual(expected.slice(0, 25).map((e) => e.id));
      hits.forEach((h, i) => expect(h.score).toBeCloseTo(expected[i].score, 4));
      // The stored vectors survived swap-removes intact.
      for (const [id, v] of vectors) expect(mem.get(id)?.vector).toEqual(v);
      // Document-bounded search scores the same rows the same way.
      const byDoc = mem.search(q, 5, compileFilter({ documentId: 'doc3' }));
      const docExpected = expected.filter((e) => Number(e.id.slice(1)) % 17 === 3).slice(0, 5);
      expect(byDoc.map((h) => h.id)).toEqual(docExpected.map((e) => e.id));
    });
  }

  it('counts document-scoped filters from the per-document sets', () => {
    const mem = new MemoryCollection(2);
    mem.upsert('a', new Float32Array([1, 0]), payload('d1'));
    mem.upsert('b', new Float32Array([0, 1]), payload('d1', ['x']));
    mem.upsert('c', new Float32Array([1, 1]), payload('d2'));
    expect(mem.count(compileFilter({ documentId: 'd1' }))).toBe(2);
    expect(mem.count(compileFilter({ documentId: 'd1', aclAny: ['y'] }))).toBe(1);
    mem.upsert('b', new Float32Array([0, 1]), payload('d2'));
    expect(mem.count(compileFilter({ documentIds: ['d1'] }))).toBe(1);
    expect(mem.count(compileFilter({ documentIds: ['d2'] }))).toBe(2);
    mem.delete('c');
    expect(mem.matchingIds(compileFilter({ documentId: 'd2' }))).toEqual(['b']);
  });
});
