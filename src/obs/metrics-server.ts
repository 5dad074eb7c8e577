import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { ConfigError } from '../errors.js';
import type { Logger } from './logger.js';

export interface MetricsServer {
  /** The port it listens on (the one asked for, or the one the system chose for 0). */
  port: number;
  close(): Promise<void>;
}

/**
 * A worker's own endpoint: GET /metrics (its registry, then whatever `extra` adds: the Temporal SDK's
 * worker metrics) and GET /healthz. Nothing else; no document data is ever in a metric.
 */
export async function startMetricsServer(opts: {
  host: string;
  port: number;
  registry: Registry;
  extra?: () => Promise<string>;
  logger: Logger;
}): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    void (async () => {
      const own = await opts.registry.metrics();
      // The SDK's exporter may be briefly unavailable; srag's own series are still served.
      const sdk = opts.extra ? await opts.extra().catch((err: unknown) => (opts.logger.debug('metrics: SDK exporter unavailable', { err }), '')) : '';
      res.writeHead(200, { 'content-type': opts.registry.contentType }).end(sdk ? `${own}\n${sdk}` : own);
    })().catch((err: unknown) => {
      opts.logger.warn('metrics: scrape failed', { err });
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE' || err.code === 'EACCES'
          ? new ConfigError(`cannot serve worker metrics on ${opts.host}:${opts.port} (${err.code}): set SRAG_METRICS_PORT to a free port (0: any)`)
          : err,
      ),
    );
    server.listen(opts.port, opts.host, () => resolveListen());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    port,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
