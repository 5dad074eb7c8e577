import { promises as fsp } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openVectorIndex } from '../../src/index/factory.js';
import { silentLogger } from '../../src/obs/logger.js';

describe('openVectorIndex', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'srag-factory-'));
  });
  afterEach(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('opens the embedded index under the data dir when QDRANT_URL is not set', async () => {
    const config = loadConfig({ SRAG_DATA_DIR: dir }, dir);
    const index = await openVectorIndex(config, { readOnly: false, logger: silentLogger });
    try {
      expect(typeof index.refresh).toBe('function');
      await index.ensureCollection('c', 4);
      expect((await fsp.readdir(path.join(dir, 'index', 'collections')))).toEqual(['c']);
    } finally {
      await index.close();
    }
  });

  it('talks to the Qdrant server at QDRANT_URL, with QDRANT_API_KEY, when it is set', async () => {
    const seen: { url?: string; key?: string | string[] }[] = [];
    const server = http.createServer((req, res) => {
      seen.push({ url: req.url, key: req.headers['api-key'] });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ result: { aliases: [{ alias_name: 'live', collection_name: 'v1' }] }, status: 'ok', time: 0 }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const config = loadConfig({ SRAG_DATA_DIR: dir, QDRANT_URL: url, QDRANT_API_KEY: 'k-1' }, dir);
      const index = await openVectorIndex(config, { readOnly: true, logger: silentLogger });
      expect(index.refresh).toBeUndefined();
      expect(await index.getAlias('live')).toBe('v1');
      expect(seen).toEqual([{ url: '/aliases', key: 'k-1' }]);
      await index.close();
      // Nothing of the embedded index was created.
      await expect(fsp.access(path.join(dir, 'index'))).rejects.toThrow();
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
