import { existsSync } from 'node:fs';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOnnxEmbedder, type OnnxEmbedder } from '../../src/embed/onnx.js';
import { silentLogger } from '../../src/obs/logger.js';
import { tinyIdsModel } from '../support/tiny-onnx.js';
import { tinyBpe, tinyUnigram } from '../support/tiny-tokenizers.js';

const BGE_ONNX = resolve(import.meta.dirname, '../../.cache/models/bge-small-en-v1.5-q/bge-small-en-v1.5-q.onnx');

const dirs: string[] = [];
async function modelDir(files: Record<string, string | Uint8Array>, links: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'srag-tok-model-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  for (const [name, target] of Object.entries(links)) await symlink(target, join(dir, name));
  return dir;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** What the tiny model's pooled vector encodes: mean(ids) / (number of tokens the mask lets through). */
const seen = (v: Float32Array) => v[0] / v[1];
const expected = (ids: number[]) => ids.reduce((a, b) => a + b, 0) / ids.length / ids.length;

describe('ONNX embedder with a BPE tokenizer and a model without token_type_ids', () => {
  let embedder: OnnxEmbedder;
  beforeAll(async () => {
    const dir = await modelDir({
      'tiny-ids.onnx': tinyIdsModel(),
      'tokenizer.json': JSON.stringify(tinyBpe()),
      'srag-model.json': JSON.stringify({ id: 'tiny-ids', pooling: 'mean', dimension: 2 }),
    });
    embedder = await createOnnxEmbedder({ modelDir: dir, device: 'cpu', batchSize: 4, threads: 1, logger: silentLogger, batching: 'padded' });
  });
  afterAll(async () => {
    await embedder?.close();
  });

  it('tokenizes through the library and feeds the BPE ids and attention mask, nothing else', async () => {
    expect(embedder.tokenizer.engine).toBe('library');
    expect(embedder.tokenizer.modelType).toBe('BPE');
    expect(embedder.dimension).toBe(2);
    // Different lengths in one padded batch: padding must be masked out of each row's mean.
    const [a, b, c] = await embedder.embedDocuments(['abc ab', 'abc', 'ab ba bad']);
    expect(seen(a)).toBeCloseTo(expected([1, 7, 6, 2]), 5);
    expect(seen(b)).toBeCloseTo(expected([1, 7, 2]), 5);
    expect(seen(c)).toBeCloseTo(expected([1, 6, 4, 3, 4, 3, 0, 2]), 5);
  });
});

describe.skipIf(!existsSync(BGE_ONNX))('ONNX embedder: the real bge-small graph (which has token_type_ids) with a Unigram tokenizer', () => {
  it('embeds through the library tokenizer into unit vectors', async () => {
    const dir = await modelDir(
      { 'tokenizer.json': JSON.stringify(tinyUnigram()), 'srag-model.json': JSON.stringify({ pooling: 'cls' }) },
      { 'bge-small-en-v1.5-q.onnx': BGE_ONNX },
    );
    const embedder = await createOnnxEmbedder({ modelDir: dir, device: 'cpu', batchSize: 2, threads: 1, logger: silentLogger });
    try {
      expect(embedder.tokenizer.modelType).toBe('Unigram');
      expect(embedder.dimension).toBe(384);
      const [v, w] = await embedder.embedDocuments(['abc ab', 'ab']);
      expect(Math.hypot(...v)).toBeCloseTo(1, 5);
      expect(v.some((x, i) => Math.abs(x - w[i]) > 1e-3)).toBe(true);
    } finally {
      await embedder.close();
    }
  });
});
