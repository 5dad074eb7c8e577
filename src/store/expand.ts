import { parse, resolve } from 'node:path';
import { resolveUnderRoots } from './safe-paths.js';

/**
 * Expands files and directories into a list of real files (recursively, in name order, skipping
 * dot-files and dot-directories). A missing path is kept: the job reports it as NOT_FOUND for that
 * source alone.
 *
 * Without `roots` the whole filesystem is allowed, which suits a caller naming its own files. A server
 * expanding paths a client named must pass its ingest roots: then links that lead outside them are
 * refused or skipped exactly as resolveUnderRoots describes.
 */
export async function expandPaths(paths: string[], cwd: string, maxFiles = 100_000, roots?: string[]): Promise<string[]> {
  if (paths.length === 0) return [];
  const allowed = roots ?? [...new Set(paths.map((p) => parse(resolve(cwd, p)).root))];
  return resolveUnderRoots(paths, allowed, cwd, { maxFiles });
}
