import { describe, it } from 'vitest';
import { createQdrantIndex } from '../../src/index/qdrant/qdrant-index.js';
import { silentLogger } from '../../src/obs/logger.js';
import { describeVectorIndexContract } from './vector-index.contract.js';

// The same contract the embedded index passes, against a real server. Collections are uniquely named
// per test and dropped afterwards, so a shared server is fine.
const url = process.env.QDRANT_URL;

if (url) {
  describeVectorIndexContract('qdrant', async () => {
    const index = await createQdrantIndex({ url, apiKey: process.env.QDRANT_API_KEY, logger: silentLogger });
    return { index, cleanup: () => index.close() };
  });
} else {
  describe('VectorIndex contract: qdrant', () => {
    it.skip('Qdrant contract suite skipped: QDRANT_URL is not set', () => undefined);
  });
}
