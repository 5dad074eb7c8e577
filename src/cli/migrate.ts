import { join } from 'node:path';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import { createEmbeddedIndex } from '../index/embedded.js';
import { createQdrantIndex } from '../index/qdrant/qdrant-index.js';
import type { Logger } from '../obs/logger.js';
import { migrateServedCollection, type MigrateReport } from '../services/migrate.js';

export interface MigrateCliOptions {
  to: string;
  qdrantUrl?: string;
  collection?: string;
  probes: number;
  switchAlias: boolean;
  json: boolean;
}

/**
 * `srag index migrate --to qdrant`: copies the served collection of the embedded index under the data
 * dir into Qdrant, proves the copy (same point ids, same top-10 for probe vectors with and without an
 * ACL filter) and only then points the alias at it there. The embedded index is opened read-only, so
 * the API and workers may keep running; a write during the copy is detected and nothing is switched.
 * Exit 0 when proven (and switched), 1 when the copy differs, 2 on errors.
 */
export async function runIndexMigrate(config: Config, logger: Logger, opts: MigrateCliOptions, io: { out: (s: string) => void; err: NodeJS.WriteStream }): Promise<number> {
  if (opts.to !== 'qdrant') throw new AppError('INVALID_INPUT', 'srag index migrate: --to must be qdrant (the only other backend)');
  const url = opts.qdrantUrl ?? config.qdrant.url;
  if (!url) throw new AppError('INVALID_INPUT', 'srag index migrate --to qdrant needs QDRANT_URL or --qdrant-url');
  const from = await createEmbeddedIndex(join(config.dataDir, 'index'), { logger, readOnly: true });
  const to = await createQdrantIndex({ url, apiKey: config.qdrant.apiKey, logger });
  let last = 0;
  try {
    const report = await migrateServedCollection(
      { from, to },
      {
        alias: config.collectionPrefix,
        collection: opts.collection,
        probes: opts.probes,
        switchAlias: opts.switchAlias,
        progress: (stage, done, total) => {
          if (opts.json || (Date.now() - last < 1000 && done !== total)) return;
          last = Date.now();
          io.err.write(`${stage}: ${done}/${total}\n`);
        },
      },
    );
    if (opts.json) io.out(JSON.stringify(report));
    else printReport(report, io.out);
    return report.proven ? 0 : 1;
  } finally {
    await to.close();
    await from.close();
  }
}

function printReport(r: MigrateReport, out: (s: string) => void): void {
  out(`copied ${r.collection} (${r.dimension}d) from the embedded index to Qdrant in ${r.seconds.toFixed(1)}s`);
  out(`  points: ${r.points.source} in the embedded index, ${r.points.target} in Qdrant; point ids ${r.idsIdentical ? 'identical' : 'DIFFERENT'}`);
  out(`  top-10 identical for ${r.top10UpToTies} of ${r.probes} probe vectors (${r.top10Exact} in exactly the same order, the rest differ only within score ties)`);
  if (r.aclProbes > 0) out(`  with an ACL filter: ${r.aclTop10UpToTies} of ${r.aclProbes} identical`);
  if (r.sourceChanged) out('  the embedded collection took writes during the copy: stop ingestion and run the command again');
  if (r.switched) {
    out(`proven: alias ${r.alias} now serves ${r.collection} in Qdrant${r.previousTarget && r.previousTarget !== r.collection ? ` (was ${r.previousTarget})` : ''}`);
    out('next: set QDRANT_URL for the API and the workers and restart them; the store and its catalog stay where they are');
  } else if (r.proven) {
    out(`proven; alias ${r.alias} left unchanged in Qdrant (--no-switch)`);
  } else {
    out(`NOT proven: alias ${r.alias} left unchanged in Qdrant`);
  }
}
