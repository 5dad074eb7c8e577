import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { BGE_EN_QUERY_PREFIX } from '../../src/embed/model-profile.js';
import { createEmbedder } from '../../src/embed/factory.js';
import { silentLogger } from '../../src/obs/logger.js';

const base: Config['embedding'] = {
  modelDir: join(tmpdir(), 'srag-factory-no-model'),
  device: 'cpu',
  batchSize: 8,
  threads: 0,
};

describe('createEmbedder', () => {
  it('requires EMBEDDINGS_MODEL with EMBEDDINGS_URL', async () => {
    await expect(createEmbedder({ ...base, url: 'http://127.0.0.1:9' }, silentLogger)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('EMBEDDINGS_MODEL'),
    });
  });

  it('uses the local ONNX model when no URL is set', async () => {
    await expect(createEmbedder(base, silentLogger)).rejects.toMatchObject({
      code: 'MODEL_NOT_FOUND',
      message: expect.stringContaining(base.modelDir),
    });
  });

  it('uses the HTTP adapter when a URL is set, with the served model family query instruction', async () => {
    const inputs: string[][] = [];
    const server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
      req.on('end', () => {
        const body = JSON.parse(raw) as { input: string[] };
        inputs.push(body.input);
        const data = body.input.map((_, index) => ({ index, embedding: [1, 0, 0, 0] }));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
      const e = await createEmbedder({ ...base, url, model: 'BAAI/bge-small-en-v1.5' }, silentLogger);
      expect(e.modelId).toBe('http:BAAI/bge-small-en-v1.5');
      expect(e.dimension).toBe(4);
      await e.embedQuery('q');
      expect(inputs.at(-1)).toEqual([`${BGE_EN_QUERY_PREFIX}q`]);
      await e.close();
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
