import { createServer } from 'node:net';
import { fail, messageOf, ok, type CheckResult } from './check.js';

/** What a port is for: who may already be listening there without it being a conflict. */
export type PortRole = 'api' | 'temporal' | 'temporal-ui' | 'metrics';

export interface PortSpec {
  name: string;
  role: PortRole;
  host: string;
  port: number;
  /** The variable that moves it, named in the fix. */
  envVar: string;
}

export type BindResult = { state: 'free' } | { state: 'in-use' } | { state: 'denied'; code?: string; message: string };

export interface PortProbe {
  /** Binds the port for a moment: the only sure way to know that `srag up` could. */
  tryBind(host: string, port: number): Promise<BindResult>;
  /** Who answers there, when it is srag or Temporal ('srag API', 'srag worker (metrics endpoint)', 'Temporal server', 'Temporal UI'); undefined for anyone else. */
  identify(role: PortRole, host: string, port: number): Promise<string | undefined>;
}

const OWN: Record<PortRole, string> = { api: 'srag API', metrics: 'srag worker (metrics endpoint)', temporal: 'Temporal server', 'temporal-ui': 'Temporal UI' };

const where = (s: PortSpec) => `${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`;

/**
 * Each port is either free or held by what `srag up` itself runs. A Temporal port held by a Temporal
 * server counts as srag's only while the srag API answers too: otherwise `srag up` would find its dev
 * server's port taken.
 */
export async function checkPorts(specs: readonly PortSpec[], probe: PortProbe): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  let sragRunning = false;
  // The API first: whether srag runs decides what a held Temporal port means.
  const ordered = [...specs].sort((a, b) => Number(b.role === 'api') - Number(a.role === 'api'));
  for (const spec of ordered) {
    if (spec.port === 0) {
      out.push(ok(spec.name, `${spec.envVar}=0: a free port is picked at start`));
      continue;
    }
    const bound = await probe.tryBind(spec.host, spec.port).catch((err: unknown): BindResult => ({ state: 'denied', message: messageOf(err) }));
    if (bound.state === 'free') {
      out.push(ok(spec.name, `${where(spec)} is free`));
      continue;
    }
    if (bound.state === 'denied') {
      const fix =
        bound.code === 'EADDRNOTAVAIL'
          ? `set ${spec.role === 'api' ? 'SRAG_HOST' : spec.envVar} to an address of this machine`
          : bound.code === 'EACCES'
            ? `pick a port above 1023 with ${spec.envVar} (lower ports need privileges)`
            : `stop whatever holds it or set ${spec.envVar}`;
      out.push(fail(spec.name, `${where(spec)} cannot be bound: ${bound.message}`, fix));
      continue;
    }
    const owner = await probe.identify(spec.role, spec.host, spec.port).catch(() => undefined);
    if (owner === OWN[spec.role] && spec.role === 'api') sragRunning = true;
    if (owner === OWN[spec.role] && (spec.role === 'api' || spec.role === 'metrics')) {
      out.push(ok(spec.name, `${where(spec)} is in use by a running ${owner}`));
    } else if (owner === OWN[spec.role] && sragRunning) {
      out.push(ok(spec.name, `${where(spec)} is in use by the ${owner} of the running srag`));
    } else if (owner === OWN[spec.role]) {
      out.push(
        fail(
          spec.name,
          `${where(spec)} is in use by a ${owner} that no running srag started: \`srag up\` cannot start its dev server there`,
          spec.role === 'temporal'
            ? `set TEMPORAL_ADDRESS=${where(spec)} to use that server, or stop it, or set ${spec.envVar}`
            : `stop that server or set ${spec.envVar}`,
        ),
      );
    } else {
      out.push(fail(spec.name, `${where(spec)} is in use by another program`, `stop it or set ${spec.envVar}`));
    }
  }
  // Back in the order given.
  return specs.map((s) => out.find((c) => c.name === s.name)!);
}

export function tryBind(host: string, port: number): Promise<BindResult> {
  return new Promise((resolveBind) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      resolveBind(err.code === 'EADDRINUSE' ? { state: 'in-use' } : { state: 'denied', code: err.code, message: err.message });
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolveBind({ state: 'free' })));
  });
}

/** The address to reach a listener bound to `host` from this machine. */
function reachable(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

async function httpGet(url: string, timeoutMs: number): Promise<{ status: number; body: string } | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    return { status: res.status, body: (await res.text()).slice(0, 200_000) };
  } catch {
    return undefined;
  }
}

/**
 * The real probe. `temporalAnswers` says whether a Temporal frontend serves at an address (a gRPC
 * health check); it is passed in so the ports check needs no Temporal client of its own.
 */
export function createPortProbe(opts: { temporalAnswers: (address: string) => Promise<boolean>; timeoutMs?: number }): PortProbe {
  const timeoutMs = opts.timeoutMs ?? 2000;
  return {
    tryBind,
    async identify(role, host, port) {
      const base = `http://${reachable(host)}:${port}`;
      if (role === 'api') {
        const r = await httpGet(`${base}/healthz`, timeoutMs);
        if (!r || r.status !== 200) return undefined;
        try {
          return (JSON.parse(r.body) as { status?: unknown }).status === 'ok' ? OWN.api : undefined;
        } catch {
          return undefined;
        }
      }
      if (role === 'metrics') {
        // A worker's Prometheus endpoint: srag's own series or the Temporal SDK's.
        const r = await httpGet(`${base}/metrics`, timeoutMs);
        return r && r.status === 200 && /^(# (HELP|TYPE) )?(srag|temporal)_/m.test(r.body) ? OWN.metrics : undefined;
      }
      if (role === 'temporal-ui') {
        // The UI's own settings endpoint (its index page is a bare script loader).
        const r = await httpGet(`${base}/api/v1/settings`, timeoutMs);
        return r && r.status === 200 && /"ShowTemporalSystemNamespace"/.test(r.body) ? OWN['temporal-ui'] : undefined;
      }
      return (await opts.temporalAnswers(`${reachable(host)}:${port}`)) ? OWN.temporal : undefined;
    },
  };
}
