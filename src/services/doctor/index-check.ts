import { join } from 'node:path';
import type { Config } from '../../config.js';
import type { CollectionInfo, VectorIndex } from '../../index/port.js';
import { fail, messageOf, ok, warn, within, type CheckResult } from './check.js';
import { safeUrl } from './redact.js';

/** Opens the configured index for reading only (the embedded index as a follower, no writer lock). */
export type OpenReadIndex = (config: Config) => Promise<VectorIndex>;

const INDEX_TIMEOUT_MS = 10_000;

export interface IndexInspection {
  result: CheckResult;
  /** The served collection with its counted points, when the alias resolves to one. */
  served?: CollectionInfo;
}

/**
 * The served collection: the alias exists and points at a collection that exists, with its point
 * count. No alias yet is normal before the first `srag up` and ingest, so that is a warning.
 */
export async function checkIndex(config: Config, openIndex: OpenReadIndex, name = 'index'): Promise<CheckResult> {
  return (await inspectIndex(config, openIndex, name)).result;
}

/** checkIndex, plus what it found, so that later checks (index-size) need not open the index again. */
export async function inspectIndex(config: Config, openIndex: OpenReadIndex, name = 'index'): Promise<IndexInspection> {
  const qdrant = config.qdrant.url;
  const where = qdrant ? `Qdrant at ${safeUrl(qdrant)}` : `the embedded index at ${join(config.dataDir, 'index')}`;
  const alias = config.collectionPrefix;
  let index: VectorIndex | undefined;
  try {
    index = await within(openIndex(config), INDEX_TIMEOUT_MS, where, (late) => void late.close());
    const served = await within(index.getAlias(alias), INDEX_TIMEOUT_MS, where);
    const collections = await within(index.listCollections(), INDEX_TIMEOUT_MS, where);
    if (!served) {
      return {
        result: warn(
          name,
          `no served collection yet in ${where}: alias ${alias} is not set (${collections.length} collection${collections.length === 1 ? '' : 's'}); normal before the first \`srag up\``,
          '`srag up` creates the collection and its alias; then ingest with `srag ingest <path>`',
        ),
      };
    }
    const info = collections.find((c) => c.name === served);
    if (!info) {
      return {
        result: fail(
          name,
          `alias ${alias} points at ${served}, which does not exist in ${where}`,
          'restore the newest backup (`srag snapshots list`, then `srag restore <snapshot-id>`)',
        ),
      };
    }
    const points = await within(index.count(served), INDEX_TIMEOUT_MS, where);
    const detail = `alias ${alias} serves ${served}: ${points} points, ${info.dimension} d (${where})`;
    const found = { ...info, points };
    if (points === 0) return { result: warn(name, `${detail}; nothing ingested yet`, 'ingest documents with `srag ingest <path>`'), served: found };
    return { result: ok(name, detail), served: found };
  } catch (err) {
    return {
      result: fail(
        name,
        `cannot read ${where}: ${messageOf(err)}`,
        qdrant ? 'start Qdrant, or fix QDRANT_URL / QDRANT_API_KEY' : `check that ${join(config.dataDir, 'index')} is readable by this user (srag status reads it too)`,
      ),
    };
  } finally {
    await index?.close().catch(() => undefined);
  }
}
