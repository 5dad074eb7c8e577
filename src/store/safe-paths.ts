import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { AppError, ConfigError } from '../errors.js';

// One message for "outside", "outside and missing" and "behind a link that leaves": a caller must not
// learn which, nor anything about the layout beyond the roots.
const OUTSIDE = 'path is outside the allowed ingest roots';

/** The same path spelt without symlinks, or undefined when some component does not resolve. */
async function realOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await realpath(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES' || code === 'ELOOP') return undefined;
    throw err;
  }
}

/** Lexical containment of two already-real paths; `..foo` is a name, not a way up. */
export function isUnderRoot(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith('..' + sep) && !isAbsolute(rel));
}

export function isUnderRoots(path: string, roots: string[]): boolean {
  return roots.some((root) => isUnderRoot(path, root));
}

/**
 * Resolves the configured roots to real directories. A root that does not exist is the operator's
 * mistake, not the caller's: a ConfigError, with the root only in details (which stay in the log).
 */
export async function realRoots(roots: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const root of roots) {
    const real = await realOrUndefined(root);
    if (real === undefined || !(await stat(real)).isDirectory()) {
      throw new ConfigError('an ingest root (SRAG_INGEST_ROOTS) does not exist or is not a directory', { details: { root } });
    }
    out.push(real);
  }
  return out;
}

/**
 * A path that does not resolve: its nearest existing ancestor must lie under a root, and the answer
 * is that ancestor's real path plus the missing tail. Checking the ancestor (not just "missing")
 * keeps the existence of files outside the roots unprobeable: outside is FORBIDDEN either way.
 */
async function realMissing(abs: string, roots: string[]): Promise<string> {
  const tail: string[] = [];
  let current = abs;
  for (;;) {
    tail.unshift(basename(current));
    const parent = dirname(current);
    if (parent === current) throw new AppError('FORBIDDEN', OUTSIDE);
    const real = await realOrUndefined(parent);
    if (real !== undefined) {
      if (!isUnderRoots(real, roots)) throw new AppError('FORBIDDEN', OUTSIDE);
      return join(real, ...tail);
    }
    current = parent;
  }
}

async function readdirOrRefuse(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EACCES') throw err;
    throw new AppError('INVALID_INPUT', `directory ${basename(dir)} cannot be read by the server (permission denied)`);
  }
}

function byName(a: Dirent, b: Dirent): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * Turns the paths a caller named into real files under the roots, ready for path sources.
 *
 * Every named path is realpath'd before the containment check, so `..` and symlinks are judged by
 * where they lead, not how they are spelt. Directories expand recursively in name order, skipping
 * dot-files and dot-directories. Symlinks found inside a directory are followed only when their
 * real target stays under a root (others are skipped silently, like dot-files): a docs tree that
 * links to a shared folder inside the roots still works, and one that links to /etc yields nothing.
 * Each real directory is walked once, which also ends symlink loops. Non-regular entries (sockets,
 * FIFOs) inside directories are skipped; a named one is kept so its job reports why.
 *
 * A missing named path is kept, so the job reports NOT_FOUND for that source alone, but only when
 * its nearest existing ancestor is under a root. Returns real paths, deduplicated.
 */
export async function resolveUnderRoots(paths: string[], roots: string[], cwd: string, opts: { maxFiles: number }): Promise<string[]> {
  if (roots.length === 0) throw new AppError('FORBIDDEN', 'path sources are disabled on this server (no SRAG_INGEST_ROOTS); upload the files instead');
  const allowed = await realRoots(roots);
  const out = new Set<string>();
  const walked = new Set<string>();

  const add = (file: string) => {
    out.add(file);
    if (out.size > opts.maxFiles) throw new AppError('INVALID_INPUT', `more than ${opts.maxFiles} files in one job; split it`);
  };

  const walk = async (dir: string): Promise<void> => {
    if (walked.has(dir)) return;
    walked.add(dir);
    const entries = (await readdirOrRefuse(dir)).filter((e) => !e.name.startsWith('.'));
    entries.sort(byName);
    for (const entry of entries) {
      const child = join(dir, entry.name);
      if (entry.isDirectory()) {
        await walk(child);
      } else if (entry.isFile()) {
        add(child);
      } else if (entry.isSymbolicLink()) {
        const target = await realOrUndefined(child);
        if (target === undefined || !isUnderRoots(target, allowed)) continue;
        const info = await stat(target);
        if (info.isDirectory()) await walk(target);
        else if (info.isFile()) add(target);
      }
    }
  };

  for (const named of paths) {
    const abs = resolve(cwd, named);
    const real = await realOrUndefined(abs);
    if (real === undefined) {
      add(await realMissing(abs, allowed));
      continue;
    }
    if (!isUnderRoots(real, allowed)) throw new AppError('FORBIDDEN', OUTSIDE);
    if ((await stat(real)).isDirectory()) await walk(real);
    else add(real);
  }
  return [...out];
}
