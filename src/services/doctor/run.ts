import { sep } from 'node:path';
import { loadConfig, type Config } from '../../config.js';
import { listSchedules } from '../lifecycle.js';
import { fail, messageOf, ok, reportOf, skipped, type CheckResult, type DoctorReport } from './check.js';
import { checkDisk, type Statfs } from './disk.js';
import { inspectIndex, type OpenReadIndex } from './index-check.js';
import { checkIndexSize } from './index-size.js';
import { checkModel, type OpenEmbedder } from './model.js';
import { checkPorts, type PortProbe, type PortSpec } from './ports.js';
import { redactCheck, secretsOf } from './redact.js';
import { checkSchedules } from './schedules.js';
import { checkSnapshots } from './snapshots.js';
import { checkTemporal, type TemporalCheckDeps } from './temporal.js';
import { checkWritableDir } from './writable-dir.js';

/** Everything the doctor touches, passed in: the CLI gives the real things, tests give fakes. */
export interface DoctorDeps {
  env: Record<string, string | undefined>;
  cwd?: string;
  now?: () => Date;
  /** The port probe for this configuration (it needs the Temporal namespace to recognise a server). */
  ports: (config: Config) => PortProbe;
  statfs?: Statfs;
  openEmbedder: OpenEmbedder;
  temporal: TemporalCheckDeps;
  openIndex: OpenReadIndex;
}

const AFTER_CONFIG = ['ports', 'disk', 'data-dir', 'model', 'temporal', 'index', 'index-size', 'backup-dir', 'snapshots', 'schedules'];

/** The ports `srag up` will listen on. The dev server's only without TEMPORAL_ADDRESS; the workers run locally either way. */
export function portSpecs(config: Config): PortSpec[] {
  const { metrics } = config;
  const specs: PortSpec[] = [{ name: 'port:api', role: 'api', host: config.http.host, port: config.http.port, envVar: 'SRAG_PORT' }];
  if (!config.temporal.address) {
    specs.push({ name: 'port:temporal', role: 'temporal', host: '127.0.0.1', port: config.temporal.port, envVar: 'SRAG_TEMPORAL_PORT' });
    specs.push({ name: 'port:temporal-ui', role: 'temporal-ui', host: '127.0.0.1', port: config.temporal.uiPort, envVar: 'SRAG_TEMPORAL_UI_PORT' });
  }
  // The ingest worker on SRAG_METRICS_PORT, the embed worker on the next one (as `srag up` does);
  // port 0: each takes any free port, nothing to check.
  if (metrics.port !== 0) {
    specs.push({ name: 'port:metrics-ingest', role: 'metrics', host: metrics.host, port: metrics.port, envVar: 'SRAG_METRICS_PORT' });
    specs.push({ name: 'port:metrics-embed', role: 'metrics', host: metrics.host, port: metrics.port + 1, envVar: 'SRAG_METRICS_PORT' });
  }
  return specs;
}

function diskChecks(config: Config, statfs: Statfs | undefined): Promise<CheckResult>[] {
  const { dataDir } = config;
  const { backupDir } = config.lifecycle;
  // The default backup dir lives under the data dir: one filesystem, one line.
  if (backupDir === dataDir || backupDir.startsWith(dataDir + sep)) return [checkDisk('disk:data', 'data dir', dataDir, statfs)];
  return [checkDisk('disk:data', 'data dir', dataDir, statfs), checkDisk('disk:backup', 'backup dir', backupDir, statfs)];
}

/** Runs every check; none throws. Secrets never reach the report. */
export async function runDoctor(deps: DoctorDeps): Promise<DoctorReport> {
  const secrets = secretsOf(deps.env);
  const done = (checks: CheckResult[]) => reportOf(checks.map((c) => redactCheck(c, secrets)));
  let config: Config;
  try {
    config = loadConfig(deps.env, deps.cwd);
  } catch (err) {
    return done([
      fail('config', messageOf(err), 'fix the variable named above (README, "Configuration", lists them all)'),
      ...AFTER_CONFIG.map((name) => skipped(name, 'skipped: configuration invalid')),
    ]);
  }
  const now = deps.now ?? (() => new Date());
  const source = config.qdrant.url ? 'Qdrant' : 'embedded index';
  const configured = ok('config', `data dir ${config.dataDir}, ${source}, ${config.temporal.address ? `Temporal at ${config.temporal.address}` : 'local Temporal dev server'}`);

  const temporal = checkTemporal(config, deps.temporal).catch((err: unknown) => ({
    result: fail('temporal', `the Temporal check broke: ${messageOf(err)}`, 'check TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and the Temporal CLI'),
    client: undefined,
    unreachable: 'the Temporal check failed',
  }));
  try {
    const [ports, disks, dataDir, model, t] = await Promise.all([
      checkPorts(portSpecs(config), deps.ports(config)),
      Promise.all(diskChecks(config, deps.statfs)),
      checkWritableDir(config.dataDir, { name: 'data-dir', what: 'data dir', envVar: 'SRAG_DATA_DIR', creator: '`srag up`', private: true }),
      checkModel(config.embedding, deps.openEmbedder),
      temporal,
    ]);
    const [index, backupDir, snapshots, schedules] = await Promise.all([
      inspectIndex(config, deps.openIndex),
      checkWritableDir(config.lifecycle.backupDir, { name: 'backup-dir', what: 'backup dir', envVar: 'SRAG_BACKUP_DIR', creator: 'the first snapshot' }),
      checkSnapshots(config.lifecycle, now()),
      checkSchedules(
        { alias: config.collectionPrefix, every: { snapshot: config.lifecycle.snapshotEvery, drill: config.lifecycle.drillEvery } },
        t.client ? () => listSchedules({ client: t.client!, taskQueue: config.temporal.taskQueue, alias: config.collectionPrefix }) : undefined,
        t.unreachable,
      ),
    ]);
    const indexSize = checkIndexSize(Boolean(config.qdrant.url), index.served);
    return done([configured, ...ports, ...disks, dataDir, model, t.result, index.result, indexSize, backupDir, snapshots, schedules]);
  } finally {
    const t = await temporal;
    await t.client?.connection.close().catch(() => undefined);
  }
}
