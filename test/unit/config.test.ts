import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';

describe('loadConfig', () => {
  it('has safe defaults: loopback, port 8080, ./.srag, the bundled model', () => {
    const c = loadConfig({}, '/srv/app');
    expect(c.http.host).toBe('127.0.0.1');
    expect(c.http.port).toBe(8080);
    expect(c.dataDir).toBe('/srv/app/.srag');
    expect(c.embedding.modelDir).toMatch(/models\/bge-small-en-v1\.5-q$/);
    expect(c.temporal.address).toBeUndefined();
    expect(Object.isFrozen(c) && Object.isFrozen(c.http)).toBe(true);
  });

  it('keeps ingest roots as configured; the server decides the default from the credentials', () => {
    expect(loadConfig({}).http.ingestRoots).toBeUndefined();
    expect(loadConfig({ SRAG_HOST: '0.0.0.0' }).http.ingestRoots).toBeUndefined();
    expect(loadConfig({ SRAG_HOST: '0.0.0.0', SRAG_INGEST_ROOTS: '/data, /share,' }).http.ingestRoots).toEqual(['/data', '/share']);
  });

  it.each([
    [{ SRAG_PORT: 'http' }],
    [{ SRAG_PORT: '70000' }],
    [{ SRAG_EMBED_DEVICE: 'tpu' }],
    [{ SRAG_CHUNK_TOKENS: '64', SRAG_CHUNK_OVERLAP: '64' }],
    [{ SRAG_COLLECTION_PREFIX: 'Bad-Name' }],
  ])('rejects %o with a ConfigError naming the variable', (env) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
  });
});
