// A deletion reaches only this deployment's collections: on a shared index server (one Qdrant for
// several deployments) another deployment's copy of the same document stays.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { uuidV5 } from '../../src/domain/ids.js';
import { createEmbeddedIndex } from '../../src/index/embedded.js';
import { deleteDocumentEverywhere, ownCollections, verifyDocumentGone } from '../../src/ingest/delete-document.js';
import { recordPipeline } from '../../src/store/pipelines.js';
import { createFsBlobStore } from '../../src/store/fs.js';

describe('deleting a document on a shared index', () => {
  it("removes it from the deployment's own collections (by prefix or pipeline record) and nowhere else", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'srag-del-own-'));
    const index = await createEmbeddedIndex(join(dir, 'index'));
    const store = createFsBlobStore(join(dir, 'store'));
    try {
      const point = (c: string) => ({
        id: uuidV5(`del-${c}`),
        vector: new Float32Array([1, 0, 0, 0]),
        payload: { documentId: 'doc_same', contentHash: 'h', chunkIndex: 0, chunkCount: 1, text: 't', start: 0, end: 1, title: 'T', source: '/same/path.txt', type: 'text' as const, acl: [] },
      });
      for (const c of ['alpha_v1', 'alpha_v1_r20261202000000', 'renamed', 'beta_v1']) {
        await index.ensureCollection(c, 4);
        await index.upsert(c, [point(c)]);
      }
      // `renamed` belongs to alpha by its pipeline record, not its name.
      await recordPipeline(store, { ref: { version: 'v1', collection: 'renamed', modelId: 'm', dimension: 4, chunk: { maxTokens: 8, overlapTokens: 0 } }, parser: 'p', embedding: {}, createdAt: '2026-01-01T00:00:00Z' });
      const deps = { index, store, prefix: 'alpha' };
      expect((await ownCollections(deps)).sort()).toEqual(['alpha_v1', 'alpha_v1_r20261202000000', 'renamed']);
      const result = await deleteDocumentEverywhere(deps, 'doc_same', []);
      expect(result.pointsRemoved).toBe(3);
      expect((await verifyDocumentGone(deps, 'doc_same', [])).gone).toBe(true);
      expect(await index.count('beta_v1', { documentId: 'doc_same' })).toBe(1);
    } finally {
      await index.close();
    }
  });
});
