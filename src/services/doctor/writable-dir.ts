import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fail, ok, warn, type CheckResult } from './check.js';

export interface DirCheck {
  name: string;
  /** "data dir", "backup dir": how the detail names it. */
  what: string;
  /** The variable that moves it, named in the fix. */
  envVar: string;
  /** Who creates it when it is missing, e.g. "`srag up`". */
  creator: string;
  /** srag creates it 0700: warn when others may read it. */
  private?: boolean;
}

const code = (err: unknown) => (err as NodeJS.ErrnoException).code ?? 'error';
const modeText = (mode: number) => `0${(mode & 0o777).toString(8)}`;
const whoAmI = () => (typeof process.getuid === 'function' ? `uid ${process.getuid()}` : 'this user');

/** The nearest ancestor of `dir` that exists, with whether it is a directory. */
async function nearestExisting(dir: string): Promise<{ path: string; isDirectory: boolean }> {
  for (let p = dirname(dir); ; p = dirname(p)) {
    try {
      return { path: p, isDirectory: (await stat(p)).isDirectory() };
    } catch (err) {
      if ((code(err) !== 'ENOENT' && code(err) !== 'ENOTDIR') || dirname(p) === p) throw err;
    }
  }
}

/**
 * The directory exists (or can be created), is a directory, and this process can really write in it:
 * a probe file is created and removed. Mode bits alone would lie for root, which ignores them, and
 * for read-only mounts and ACLs.
 */
export async function checkWritableDir(dir: string, spec: DirCheck): Promise<CheckResult> {
  const setIt = `set ${spec.envVar} to a directory this user may write`;
  let info;
  try {
    info = await stat(dir);
  } catch (err) {
    if (code(err) !== 'ENOENT' && code(err) !== 'ENOTDIR') return fail(spec.name, `${spec.what} ${dir} cannot be reached (${code(err)})`, `give ${whoAmI()} access to it, or ${setIt}`);
    return checkCreatable(dir, spec, setIt);
  }
  if (!info.isDirectory()) return fail(spec.name, `${spec.what} ${dir} exists but is not a directory`, setIt);
  const probe = join(dir, `.srag-doctor-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await readdir(dir);
    await writeFile(probe, 'probe\n', { flag: 'wx', mode: 0o600 });
    await unlink(probe);
  } catch (err) {
    await unlink(probe).catch(() => undefined);
    return fail(
      spec.name,
      `${spec.what} ${dir} is not writable by this process (${code(err)}; owner uid ${info.uid}, mode ${modeText(info.mode)})`,
      `give ${whoAmI()} write access (e.g. chown it to this user and chmod 700), or ${setIt}`,
    );
  }
  if (spec.private && (info.mode & 0o077) !== 0) {
    return warn(
      spec.name,
      `${spec.what} ${dir} is writable but group/world-accessible (mode ${modeText(info.mode)}); srag creates it 0700`,
      `chmod 700 ${dir}`,
    );
  }
  return ok(spec.name, `${spec.what} ${dir} is writable (mode ${modeText(info.mode)})`);
}

/** A missing directory is fine when its nearest existing ancestor lets this process create it. */
async function checkCreatable(dir: string, spec: DirCheck, setIt: string): Promise<CheckResult> {
  let parent;
  try {
    parent = await nearestExisting(dir);
  } catch (err) {
    return fail(spec.name, `${spec.what} ${dir} is missing and its parent cannot be reached (${code(err)})`, setIt);
  }
  if (!parent.isDirectory) return fail(spec.name, `${spec.what} ${dir} cannot be created: ${parent.path} is a file, not a directory`, setIt);
  try {
    await rmdir(await mkdtemp(join(parent.path, '.srag-doctor-')));
  } catch (err) {
    return fail(
      spec.name,
      `${spec.what} ${dir} is missing and cannot be created: ${parent.path} is not writable by this process (${code(err)})`,
      `create it for ${whoAmI()} (mkdir -m 700 ${dir}), or ${setIt}`,
    );
  }
  return ok(spec.name, `${spec.what} ${dir} does not exist yet; ${spec.creator} creates it${spec.private ? ' (0700)' : ''}`);
}
