import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { createFsBlobStore } from '../../src/store/fs.js';
import type { BlobStore } from '../../src/store/port.js';

const sha = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fsp.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(path.relative(dir, path.join(entry.parentPath, entry.name)));
  }
  return out.sort();
}

describe('createFsBlobStore', () => {
  let root: string;
  let store: BlobStore;

  beforeEach(async () => {
    root = await fsp.mkdtemp(path.join(os.tmpdir(), 'srag-store-'));
    store = createFsBlobStore(root);
  });
  afterEach(async () => {
    await fsp.rm(root, { recursive: true, force: true });
  });

  it('puts, gets, lists and deletes keys', async () => {
    await store.put('chunks/doc_1/0', 'hello');
    await store.put('chunks/doc_1/1', new Uint8Array([1, 2, 3]));
    await store.put('other/x.json', '{}');
    expect((await store.get('chunks/doc_1/0')).toString('utf8')).toBe('hello');
    expect([...(await store.get('chunks/doc_1/1'))]).toEqual([1, 2, 3]);
    expect(await store.has('chunks/doc_1/0')).toBe(true);
    expect(await store.has('chunks/doc_1/9')).toBe(false);
    expect(await store.tryGet('nope/x')).toBeUndefined();
    expect(await store.list('chunks/')).toEqual(['chunks/doc_1/0', 'chunks/doc_1/1']);
    expect(await store.list('chunks/doc_1/')).toEqual(['chunks/doc_1/0', 'chunks/doc_1/1']);
    expect(await store.list('ch')).toEqual(['chunks/doc_1/0', 'chunks/doc_1/1']);
    expect(await store.list('')).toEqual(['chunks/doc_1/0', 'chunks/doc_1/1', 'other/x.json']);
    expect(await store.list('missing/')).toEqual([]);
    await store.delete('chunks/doc_1/0');
    await store.delete('chunks/doc_1/0'); // idempotent
    expect(await store.list('chunks/')).toEqual(['chunks/doc_1/1']);
  });

  it('get of a missing key is NOT_FOUND', async () => {
    await expect(store.get('a/b')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('overwrites atomically and leaves no temp files behind', async () => {
    await store.put('k/v', 'one');
    await store.put('k/v', 'two');
    expect((await store.get('k/v')).toString()).toBe('two');
    expect(await allFiles(root)).toEqual(['k/v']);
  });

  it('never lists a leftover temp file (a crash mid-write) as a key', async () => {
    await store.put('k/v', 'one');
    await fsp.writeFile(path.join(root, 'k', '.tmp-v-123-abc'), 'torn');
    expect(await store.list('')).toEqual(['k/v']);
    expect(await store.list('k/')).toEqual(['k/v']);
  });

  it.each([
    ['..'],
    ['../x'],
    ['a/../../x'],
    ['/etc/passwd'],
    ['a//b'],
    ['a/'],
    [''],
    ['a/./b'],
    ['a\\b'],
    ['a/b c'],
    ['.hidden'],
    ['a/\u0000'],
  ])('rejects the key %j with INVALID_INPUT', async (key) => {
    const err = await store.put(key, 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('INVALID_INPUT');
    await expect(store.get(key)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('rejects traversal in list prefixes', async () => {
    await expect(store.list('../')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(store.list('/abs/')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('putContent is content-addressed and idempotent', async () => {
    const data = Buffer.from('the same bytes');
    const first = await store.putContent(data);
    expect(first).toEqual({ hash: sha(data), size: data.length });
    const key = store.contentKey(first.hash);
    expect(key).toBe(`sources/${first.hash.slice(0, 2)}/${first.hash}`);
    const before = await fsp.stat(path.join(root, key));
    const second = await store.putContent(data);
    expect(second).toEqual(first);
    const after = await fsp.stat(path.join(root, key));
    expect(after.ino).toBe(before.ino); // skipped, not rewritten
    expect(await store.list('sources/')).toEqual([key]);
  });

  it('survives concurrent puts of the same content', async () => {
    const data = Buffer.alloc(256 * 1024, 7);
    const results = await Promise.all(Array.from({ length: 16 }, () => store.putContent(data)));
    expect(new Set(results.map((r) => r.hash)).size).toBe(1);
    const key = store.contentKey(results[0].hash);
    expect((await store.get(key)).equals(data)).toBe(true);
    expect(await allFiles(root)).toEqual([key]);
  });

  it('survives concurrent puts of different values to one key (last rename wins, never torn)', async () => {
    const values = Array.from({ length: 8 }, (_, i) => Buffer.alloc(64 * 1024, i));
    await Promise.all(values.map((v) => store.put('race/key', v)));
    const got = await store.get('race/key');
    expect(values.some((v) => v.equals(got))).toBe(true);
    expect(await allFiles(root)).toEqual(['race/key']);
  });

  it('putFile streams a file into the content-addressed area', async () => {
    const src = path.join(root, '..', `srag-src-${process.pid}-${Date.now()}.bin`);
    const data = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
    await fsp.writeFile(src, data);
    try {
      const res = await store.putFile(src);
      expect(res).toEqual({ hash: sha(data), size: data.length });
      expect((await store.get(store.contentKey(res.hash))).equals(data)).toBe(true);
      // Same file again: same answer, still one file.
      expect(await store.putFile(src)).toEqual(res);
      // And putContent agrees on the key.
      expect(await store.putContent(data)).toEqual(res);
      expect(await allFiles(root)).toEqual([store.contentKey(res.hash)]);
    } finally {
      await fsp.rm(src, { force: true });
    }
  });

  it('putFile of a missing file is NOT_FOUND and leaves nothing behind', async () => {
    await expect(store.putFile(path.join(root, 'does-not-exist'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await allFiles(root)).toEqual([]);
  });

  it('contentKey rejects anything but a sha256 hex digest', () => {
    expect(() => store.contentKey('../../etc')).toThrow(AppError);
    expect(() => store.contentKey('ABC')).toThrow(AppError);
  });
});
