import { AppError } from '../errors.js';
import type { IndexPoint, VectorIndex } from './port.js';

export interface CopyProgress {
  copied: number;
  total: number;
}

/**
 * Copies one collection from an index to another (e.g. embedded -> Qdrant), page by page: the same point
 * ids, vectors and payloads. The target collection is created with the source's dimension; points
 * already there with the same ids are replaced, so a copy cut short is simply run again.
 */
export async function copyCollection(
  from: VectorIndex,
  to: VectorIndex,
  source: string,
  target: string,
  opts: { pageSize?: number; progress?: (p: CopyProgress) => void; onPage?: (page: readonly IndexPoint[]) => void } = {},
): Promise<{ points: number; dimension: number }> {
  const info = (await from.listCollections()).find((c) => c.name === source);
  if (!info) throw new AppError('NOT_FOUND', `collection ${source} does not exist in the source index`, { details: { collection: source } });
  await to.ensureCollection(target, info.dimension);
  let copied = 0;
  opts.progress?.({ copied, total: info.points });
  await from.exportPoints(
    source,
    async (page) => {
      await to.upsert(target, page);
      opts.onPage?.(page);
      copied += page.length;
      opts.progress?.({ copied, total: info.points });
    },
    { pageSize: opts.pageSize ?? 256 },
  );
  return { points: copied, dimension: info.dimension };
}
