import { describe, expect, it } from 'vitest';
import { chunkId, collectionName, documentIdFor, pipelineVersion, uuidV5 } from '../../src/domain/ids.js';
import { pipelineRef } from '../../src/domain/pipeline.js';

const settings = { parser: 'srag-parse/1', chunk: { maxTokens: 256, overlapTokens: 32 }, embedding: { modelId: 'bge-small-en-v1.5-q', dimension: 384 } };

describe('ids', () => {
  it('uuidV5 matches the RFC 4122 reference value', () => {
    // The DNS namespace example: uuid5(NAMESPACE_DNS, 'www.example.com').
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it.each([
    ['same inputs', ['d', 'h', 0, 'v1'], ['d', 'h', 0, 'v1'], true],
    ['other document', ['d', 'h', 0, 'v1'], ['e', 'h', 0, 'v1'], false],
    ['other content', ['d', 'h', 0, 'v1'], ['d', 'i', 0, 'v1'], false],
    ['other chunk', ['d', 'h', 0, 'v1'], ['d', 'h', 1, 'v1'], false],
    ['other pipeline', ['d', 'h', 0, 'v1'], ['d', 'h', 0, 'v2'], false],
  ] as const)('chunk ids are deterministic: %s', (_name, a, b, same) => {
    const ida = chunkId(a[0], a[1], a[2], a[3]);
    const idb = chunkId(b[0], b[1], b[2], b[3]);
    expect(ida === idb).toBe(same);
    expect(ida).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('document ids come from the source key only', () => {
    expect(documentIdFor('file:/a/b.pdf')).toBe(documentIdFor('file:/a/b.pdf'));
    expect(documentIdFor('file:/a/b.pdf')).not.toBe(documentIdFor('file:/a/c.pdf'));
    expect(documentIdFor('x')).toMatch(/^doc_[0-9a-f]{24}$/);
  });

  it('pipeline version ignores key order and changes with every setting', () => {
    const v = pipelineVersion(settings);
    expect(pipelineVersion({ embedding: settings.embedding, chunk: { overlapTokens: 32, maxTokens: 256 }, parser: settings.parser })).toBe(v);
    expect(pipelineVersion({ ...settings, parser: 'srag-parse/2' })).not.toBe(v);
    expect(pipelineVersion({ ...settings, chunk: { maxTokens: 512, overlapTokens: 32 } })).not.toBe(v);
    expect(pipelineVersion({ ...settings, embedding: { modelId: 'all-minilm-l6-v2-q', dimension: 384 } })).not.toBe(v);
    expect(v).toMatch(/^v[0-9a-f]{12}$/);
  });

  it('each pipeline version gets its own collection', () => {
    const a = pipelineRef('p', { maxTokens: 256, overlapTokens: 32 }, 'm1', 384, 'srag');
    const b = pipelineRef('p', { maxTokens: 256, overlapTokens: 32 }, 'm2', 384, 'srag');
    expect(a.collection).toBe(collectionName('srag', a.version));
    expect(a.collection).not.toBe(b.collection);
  });
});
