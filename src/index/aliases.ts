import { promises as fsp } from 'node:fs';
import { AppError } from '../errors.js';
import { writeFileAtomic } from '../store/atomic.js';

/** Aliases live in one small JSON file, replaced atomically so a reader sees the old or the new map. */
export async function readAliases(file: string): Promise<Map<string, string>> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as { aliases?: Record<string, unknown> };
    const entries = Object.entries(parsed.aliases ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string');
    return new Map(entries);
  } catch (err) {
    throw new AppError('INDEX_ERROR', 'aliases file is not valid JSON', { cause: err, details: { file } });
  }
}

export async function writeAliases(file: string, aliases: Map<string, string>): Promise<void> {
  const sorted = Object.fromEntries([...aliases.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  await writeFileAtomic(file, JSON.stringify({ format: 1, aliases: sorted }, null, 2) + '\n');
}
