import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BGE_EN_QUERY_PREFIX,
  findModelFiles,
  inferProfileFromName,
  resolveModelProfile,
} from '../../src/embed/model-profile.js';

const dirs: string[] = [];
async function modelDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'srag-profile-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  return dir;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('inferProfileFromName', () => {
  it.each([
    ['bge-small-en-v1.5-q', 'cls', BGE_EN_QUERY_PREFIX, true],
    ['BGE-Base-EN-v1.5', 'cls', BGE_EN_QUERY_PREFIX, true],
    ['bge-m3', 'cls', '', true],
    ['all-minilm-l6-v2-q', 'mean', '', true],
    ['all-mpnet-base-v2', 'mean', '', true],
    ['mystery-encoder', 'mean', '', false],
  ])('%s -> %s pooling', (name, pooling, queryPrefix, known) => {
    expect(inferProfileFromName(name)).toEqual({ pooling, queryPrefix, documentPrefix: '', known });
  });
});

describe('findModelFiles + resolveModelProfile', () => {
  it('finds the single onnx and tokenizer files and infers the profile from the onnx name', async () => {
    const dir = await modelDir({ 'all-minilm-l6-v2-q.onnx': '', 'all-minilm-l6-v2-q-tokenizer.json': '{}', 'README.txt': '' });
    const files = await findModelFiles(dir);
    expect(files).toEqual({
      dir,
      onnxPath: join(dir, 'all-minilm-l6-v2-q.onnx'),
      tokenizerPath: join(dir, 'all-minilm-l6-v2-q-tokenizer.json'),
      manifestPath: undefined,
    });
    expect(await resolveModelProfile(files)).toEqual({
      id: 'all-minilm-l6-v2-q',
      pooling: 'mean',
      queryPrefix: '',
      documentPrefix: '',
      dimension: undefined,
      source: 'name',
    });
  });

  it('lets srag-model.json override the name-based guess, ignoring keys it does not know', async () => {
    const dir = await modelDir({
      'model.onnx': '',
      'tokenizer.json': '{}',
      'srag-model.json': JSON.stringify({ id: 'e5-small', pooling: 'mean', queryPrefix: 'query: ', documentPrefix: 'passage: ', dimension: 384, source: 'x' }),
    });
    expect(await resolveModelProfile(await findModelFiles(dir))).toEqual({
      id: 'e5-small',
      pooling: 'mean',
      queryPrefix: 'query: ',
      documentPrefix: 'passage: ',
      dimension: 384,
      source: 'manifest',
    });
  });

  it('marks an unknown model without a manifest as a default guess', async () => {
    const dir = await modelDir({ 'encoder.onnx': '', 'tokenizer.json': '{}' });
    expect(await resolveModelProfile(await findModelFiles(dir))).toMatchObject({ id: 'encoder', pooling: 'mean', source: 'default' });
  });

  it('rejects an invalid manifest with MODEL_ERROR naming the file', async () => {
    const dir = await modelDir({ 'm.onnx': '', 'tokenizer.json': '{}', 'srag-model.json': '{"pooling":"max"}' });
    await expect(resolveModelProfile(await findModelFiles(dir))).rejects.toMatchObject({
      code: 'MODEL_ERROR',
      message: expect.stringContaining('srag-model.json'),
    });
  });

  it('reports a missing directory, a missing file and an ambiguous one', async () => {
    const missing = join(tmpdir(), 'srag-definitely-missing');
    await expect(findModelFiles(missing)).rejects.toMatchObject({
      code: 'MODEL_NOT_FOUND',
      message: expect.stringMatching(/srag-definitely-missing.*npm run setup/),
    });
    const noOnnx = await modelDir({ 'tokenizer.json': '{}' });
    await expect(findModelFiles(noOnnx)).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND', message: expect.stringContaining('*.onnx') });
    const noTokenizer = await modelDir({ 'm.onnx': '' });
    await expect(findModelFiles(noTokenizer)).rejects.toMatchObject({
      code: 'MODEL_NOT_FOUND',
      message: expect.stringContaining('tokenizer.json'),
    });
    const two = await modelDir({ 'a.onnx': '', 'b.onnx': '', 'tokenizer.json': '{}' });
    await mkdir(join(two, 'sub.onnx')); // directories do not count
    await expect(findModelFiles(two)).rejects.toMatchObject({ code: 'MODEL_ERROR', details: { files: ['a.onnx', 'b.onnx'] } });
  });
});
