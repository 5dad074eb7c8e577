import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AppError } from '../errors.js';

/**
 * Expands files and directories into a sorted list of files (recursively, skipping dot-files and
 * dot-directories). A missing path is kept: the job reports it as NOT_FOUND for that source alone.
 */
export async function expandPaths(paths: string[], cwd: string, maxFiles = 100_000): Promise<string[]> {
  const out: string[] = [];
  const visit = async (path: string): Promise<void> => {
    const info = await stat(path).catch(() => undefined);
    if (!info?.isDirectory()) {
      out.push(path);
    } else {
      const entries = (await readdir(path, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'));
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const e of entries) await visit(join(path, e.name));
    }
    if (out.length > maxFiles) throw new AppError('INVALID_INPUT', `more than ${maxFiles} files in one job; split it`);
  };
  for (const p of paths) await visit(resolve(cwd, p));
  return [...new Set(out)];
}
