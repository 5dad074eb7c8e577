import type { Embedder } from '../embed/port.js';
import type { PointFilter, ScoredPoint, VectorIndex } from '../index/port.js';

export interface Viewer {
  groups: string[];
  unrestricted: boolean;
}

export interface SearchTimings {
  embedMs: number;
  retrieveMs: number;
}

export interface SearchService {
  search(query: string, k: number, viewer: Viewer): Promise<{ hits: ScoredPoint[]; timings: SearchTimings }>;
}

export interface SearchDeps {
  index: VectorIndex & { refresh?: () => Promise<void> };
  embedder: Embedder;
  /** The served collection: the alias target, resolved per request so an alias switch is seen at once. */
  collection: () => Promise<string>;
}

/** ACLs are a filter inside the index query: a document the viewer may not see never competes for top-k. */
export function viewerFilter(viewer: Viewer): PointFilter | undefined {
  return viewer.unrestricted ? undefined : { aclAny: viewer.groups };
}

export function createSearchService(deps: SearchDeps): SearchService {
  return {
    async search(query, k, viewer) {
      const t0 = performance.now();
      const vector = await deps.embedder.embedQuery(query);
      const t1 = performance.now();
      await deps.index.refresh?.();
      const hits = await deps.index.search(await deps.collection(), vector, k, viewerFilter(viewer));
      return { hits, timings: { embedMs: t1 - t0, retrieveMs: performance.now() - t1 } };
    },
  };
}
