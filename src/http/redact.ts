import { basename, isAbsolute, relative } from 'node:path';
import { isUnderRoot } from '../store/safe-paths.js';
import { isAdmin, type Principal } from './gateway/principal.js';

/**
 * Server-side paths tell an outsider about the machine (user names, mount points). Admins see them;
 * everyone else sees a path relative to its ingest root, or only the file name.
 */
export function publicSource(source: string, principal: Principal, roots: readonly string[]): string {
  if (isAdmin(principal) || !isAbsolute(source)) return source;
  for (const root of roots) if (source !== root && isUnderRoot(source, root)) return relative(root, source);
  return basename(source);
}

const ABSOLUTE_PATH = /(?:^|(?<=[\s'"(=:]))\/[^\s'"()]+/g;

/** Error messages may quote paths; non-admins get file names instead. */
export function publicMessage(message: string, principal: Principal): string {
  if (isAdmin(principal)) return message;
  return message.replace(ABSOLUTE_PATH, (p) => basename(p));
}
