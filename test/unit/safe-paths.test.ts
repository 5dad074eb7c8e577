import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { stageSource } from '../../src/ingest/stage.js';
import { expandPaths } from '../../src/store/expand.js';
import { createFsBlobStore } from '../../src/store/fs.js';
import type { BlobStore } from '../../src/store/port.js';
import { resolveUnderRoots } from '../../src/store/safe-paths.js';

const MAX = { maxFiles: 1000 };

async function failure(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('resolveUnderRoots', () => {
  let tmp: string;
  let root: string;
  let outside: string;

  beforeEach(async () => {
    tmp = await fsp.realpath(await fsp.mkdtemp(path.join(os.tmpdir(), 'srag-safe-')));
    root = path.join(tmp, 'root');
    outside = path.join(tmp, 'outside');
    await fsp.mkdir(path.join(root, 'sub'), { recursive: true });
    await fsp.mkdir(path.join(root, '.dotdir'));
    await fsp.mkdir(path.join(outside, 'dir'), { recursive: true });
    await fsp.writeFile(path.join(root, 'a.txt'), 'alpha');
    await fsp.writeFile(path.join(root, 'sub', 'b.md'), '# beta');
    await fsp.writeFile(path.join(root, '.hidden'), 'hidden');
    await fsp.writeFile(path.join(root, '.dotdir', 'x.txt'), 'x');
    await fsp.writeFile(path.join(outside, 'secret.txt'), 'secret');
    await fsp.writeFile(path.join(outside, 'dir', 'b.md'), 'outside beta');
    await fsp.symlink(path.join(outside, 'secret.txt'), path.join(root, 'link-file'));
    await fsp.symlink(path.join(outside, 'dir'), path.join(root, 'link-dir'));
    await fsp.symlink('/etc/passwd', path.join(root, 'passwd'));
    await fsp.symlink(path.join(root, 'sub', 'b.md'), path.join(root, 'inner-link'));
    await fsp.symlink(root, path.join(root, 'loop'));
    await fsp.symlink(root, path.join(tmp, 'rootlink'));
    // A sibling whose name starts with the root's: prefix matching would let it in.
    await fsp.mkdir(path.join(tmp, 'root2'));
    await fsp.writeFile(path.join(tmp, 'root2', 'c.txt'), 'gamma');
  });
  afterEach(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  const expectForbidden = async (paths: string[], cwd = root) => {
    const err = await failure(resolveUnderRoots(paths, [root], cwd, MAX));
    expect(err.code).toBe('FORBIDDEN');
    expect(err.message).toBe('path is outside the allowed ingest roots');
    expect(err.message).not.toContain(tmp);
    expect(JSON.stringify(err.details ?? {})).not.toContain(tmp);
  };

  it('expands a root in name order, skips dot entries, follows in-root links once and never loops', async () => {
    expect(await resolveUnderRoots(['.'], [root], root, MAX)).toEqual([path.join(root, 'a.txt'), path.join(root, 'sub', 'b.md')]);
  });

  it('skips links inside a directory that lead outside the roots', async () => {
    const files = await resolveUnderRoots([root], [root], '/', MAX);
    expect(files.some((f) => f.startsWith(outside) || f === '/etc/passwd')).toBe(false);
  });

  it('refuses a named symlink to a file outside', async () => {
    await expectForbidden(['link-file']);
  });

  it('refuses a named symlink to a directory outside, and paths through it', async () => {
    await expectForbidden(['link-dir']);
    await expectForbidden(['link-dir/b.md']);
  });

  it('refuses a symlink to /etc/passwd without echoing it', async () => {
    await expectForbidden(['passwd']);
    const err = await failure(resolveUnderRoots(['passwd'], [root], root, MAX));
    expect(err.message).not.toContain('/etc');
  });

  it('refuses .. traversal and absolute paths outside', async () => {
    await expectForbidden(['../outside/secret.txt']);
    await expectForbidden(['sub/../../outside/secret.txt']);
    await expectForbidden([path.join(outside, 'secret.txt')]);
    await expectForbidden(['/etc/passwd']);
    await expectForbidden([path.join(tmp, 'root2', 'c.txt')]);
  });

  it('accepts a root that is itself a symlink and returns real paths', async () => {
    const viaLink = path.join(tmp, 'rootlink');
    expect(await resolveUnderRoots(['a.txt'], [viaLink], viaLink, MAX)).toEqual([path.join(root, 'a.txt')]);
    expect(await resolveUnderRoots([path.join(viaLink, 'sub')], [viaLink], '/', MAX)).toEqual([path.join(root, 'sub', 'b.md')]);
  });

  it('keeps a missing path under a root so the job reports NOT_FOUND for it alone', async () => {
    expect(await resolveUnderRoots(['nope.txt', 'a.txt'], [root], root, MAX)).toEqual([path.join(root, 'nope.txt'), path.join(root, 'a.txt')]);
    expect(await resolveUnderRoots(['gone/deeper/x.txt'], [root], root, MAX)).toEqual([path.join(root, 'gone', 'deeper', 'x.txt')]);
  });

  it('refuses a missing path outside exactly like an existing one, so existence cannot be probed', async () => {
    await expectForbidden([path.join(outside, 'nope.txt')]);
    await expectForbidden(['link-dir/nope.txt']);
    await expectForbidden(['/definitely/not/here.txt']);
  });

  it('refuses everything without roots, reports a missing root as configuration, caps the file count', async () => {
    expect((await failure(resolveUnderRoots(['a.txt'], [], root, MAX))).code).toBe('FORBIDDEN');
    const missingRoot = await failure(resolveUnderRoots(['a.txt'], [path.join(tmp, 'no-root')], root, MAX));
    expect(missingRoot.code).toBe('CONFIG_INVALID');
    expect(missingRoot.message).not.toContain(tmp);
    expect((await failure(resolveUnderRoots(['.'], [root], root, { maxFiles: 1 }))).code).toBe('INVALID_INPUT');
  });

  it('expandPaths delegates: real paths, no loops, and roots when a server passes them', async () => {
    expect(await expandPaths(['.'], root)).toContain(path.join(root, 'a.txt'));
    expect((await failure(expandPaths(['link-file'], root, 100, [root]))).code).toBe('FORBIDDEN');
  });
});

describe('stageSource on path sources', () => {
  let tmp: string;
  let root: string;
  let outside: string;
  let store: BlobStore;

  beforeEach(async () => {
    tmp = await fsp.realpath(await fsp.mkdtemp(path.join(os.tmpdir(), 'srag-stage-')));
    root = path.join(tmp, 'root');
    outside = path.join(tmp, 'outside');
    await fsp.mkdir(path.join(root, 'sub'), { recursive: true });
    await fsp.mkdir(outside);
    await fsp.writeFile(path.join(root, 'a.txt'), 'alpha');
    await fsp.writeFile(path.join(root, 'sub', 'b.md'), '# beta');
    await fsp.writeFile(path.join(outside, 'secret.txt'), 'secret');
    await fsp.writeFile(path.join(outside, 'b.md'), 'outside beta');
    store = createFsBlobStore(path.join(tmp, 'store'));
  });
  afterEach(async () => {
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  const stage = (p: string, roots?: string[], max = 1 << 20) => stageSource(store, { kind: 'path', path: p }, max, roots);

  it('stages a checked real file', async () => {
    const [file] = await resolveUnderRoots(['a.txt'], [root], root, MAX);
    const staged = await stage(file, [root]);
    expect(staged).toMatchObject({ size: 5, name: 'a.txt', sourceKey: `file:${file}` });
    expect((await store.get(store.contentKey(staged.hash))).toString()).toBe('alpha');
  });

  it('refuses a file whose final component became a symlink after the check', async () => {
    const [file] = await resolveUnderRoots(['a.txt'], [root], root, MAX);
    await fsp.rm(file);
    await fsp.symlink(path.join(outside, 'secret.txt'), file);
    const err = await failure(stage(file, [root]));
    expect(err.code).toBe('FORBIDDEN');
    expect(err.message).not.toContain(outside);
    expect(err.message).not.toContain(root);
    expect(await store.list('sources/')).toEqual([]);
  });

  it('refuses a file whose parent directory was swapped for a symlink after the check', async () => {
    const [file] = await resolveUnderRoots(['sub/b.md'], [root], root, MAX);
    await fsp.rename(path.join(root, 'sub'), path.join(root, 'sub-old'));
    await fsp.symlink(outside, path.join(root, 'sub'));
    const err = await failure(stage(file, [root]));
    expect(err.code).toBe('FORBIDDEN');
    expect(err.message).not.toContain(outside);
    expect(await store.list('sources/')).toEqual([]);
  });

  it('without roots (the local operator) follows links in the path to the real file, keeping the given name', async () => {
    await fsp.symlink(root, path.join(outside, 'root-link'));
    const staged = await stage(path.join(outside, 'root-link', 'a.txt'));
    expect(staged).toMatchObject({ size: 5, name: 'a.txt', sourceKey: `file:${path.join(outside, 'root-link', 'a.txt')}` });
  });

  it('re-checks the roots when given them', async () => {
    const err = await failure(stage(path.join(outside, 'secret.txt'), [root]));
    expect(err.code).toBe('FORBIDDEN');
    expect(err.message).not.toContain(outside);
  });

  it('reports missing, oversized and non-regular files with their codes, without hanging on a FIFO', async () => {
    expect((await failure(stage(path.join(root, 'nope.txt')))).code).toBe('NOT_FOUND');
    expect((await failure(stage(path.join(root, 'a.txt'), undefined, 4))).code).toBe('FILE_TOO_LARGE');
    expect((await failure(stage(path.join(root, 'sub')))).code).toBe('INVALID_INPUT');
    const fifo = path.join(root, 'pipe');
    execFileSync('mkfifo', [fifo]);
    expect((await failure(stage(fifo))).code).toBe('INVALID_INPUT');
  });
});
