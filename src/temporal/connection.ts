import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../obs/logger.js';
import { connectWhenHealthy } from './health.js';

/** TLS settings in the shape both the client and the worker connections take. */
export interface TemporalTls {
  clientCertPair?: { crt: Buffer; key: Buffer };
  serverRootCACertificate?: Buffer;
  serverNameOverride?: string;
}

/**
 * mTLS to a Temporal cluster from TEMPORAL_TLS_CERT / TEMPORAL_TLS_KEY (client pair) and
 * TEMPORAL_TLS_CA (the server's CA); undefined when none is set (plain connection, e.g. the local dev
 * server). The files are read here, at start-up, so a wrong path fails before anything connects.
 */
export function temporalTls(tls: Config['temporal']['tls']): TemporalTls | undefined {
  if (!tls) return undefined;
  if (Boolean(tls.certFile) !== Boolean(tls.keyFile)) {
    throw new ConfigError('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together: set both for mTLS');
  }
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConfigError(`cannot read ${what} (${file})`, { cause: err });
    }
  };
  const out: TemporalTls = {};
  if (tls.certFile && tls.keyFile) out.clientCertPair = { crt: read(tls.certFile, 'TEMPORAL_TLS_CERT'), key: read(tls.keyFile, 'TEMPORAL_TLS_KEY') };
  if (tls.caFile) out.serverRootCACertificate = read(tls.caFile, 'TEMPORAL_TLS_CA');
  if (tls.serverName) out.serverNameOverride = tls.serverName;
  return out;
}

/**
 * A client once Temporal serves `namespace`: retried with backoff until the frontend is healthy, then
 * AppError TEMPORAL_UNAVAILABLE (after `wait.timeoutMs`, 120 s by default) saying what to check.
 */
export async function connectClient(
  address: string,
  namespace: string,
  tls?: TemporalTls,
  wait: { timeoutMs?: number; logger?: Logger; signal?: AbortSignal } = {},
): Promise<Client> {
  const connection = await connectWhenHealthy(() => Connection.connect({ address, connectTimeout: '5s', ...(tls ? { tls } : {}) }), {
    ...wait,
    namespace,
    address,
    hint: 'is srag up running (or TEMPORAL_ADDRESS right)?',
  });
  return new Client({ connection, namespace });
}
