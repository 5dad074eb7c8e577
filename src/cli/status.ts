import type { Config } from '../config.js';
import type { Logger } from '../obs/logger.js';
import { embeddingModelId, openIndex, openStore } from '../runtime.js';
import { listBuilding, listPipelines, type PipelineRecord } from '../store/pipelines.js';

export interface StatusReport {
  alias: string;
  served?: { collection: string; version?: string; modelId?: string; points: number };
  configured: { modelId: string; modelDir?: string; url?: string };
  /** `building`: a candidate that every ingestion job also writes to (see IngestCorpusInput.also). */
  collections: Array<{ name: string; points: number; dimension: number; version?: string; modelId?: string; served: boolean; building: boolean }>;
  warnings: string[];
}

/**
 * `srag status`: which collection the alias serves, which pipeline and model made it, and what is
 * configured. Reads the data dir directly (a read-only index follower), so it works whether or not the
 * API is up.
 */
export async function runStatus(config: Config, logger: Logger, json: boolean, out: (s: string) => void): Promise<number> {
  const index = await openIndex(config, { readOnly: true, logger });
  try {
    const alias = config.collectionPrefix;
    const servedName = await index.getAlias(alias);
    const store = openStore(config);
    const records = new Map<string, PipelineRecord>((await listPipelines(store)).map((r) => [r.ref.collection, r]));
    const building = new Set(await listBuilding(store));
    const collections = (await index.listCollections()).map((c) => ({
      name: c.name,
      points: c.points,
      dimension: c.dimension,
      version: records.get(c.name)?.ref.version,
      modelId: records.get(c.name)?.ref.modelId,
      served: c.name === servedName,
      building: building.has(c.name) && c.name !== servedName,
    }));
    const configuredModel = await embeddingModelId(config).catch(() => 'missing (run npm run setup)');
    const served = collections.find((c) => c.served);
    const report: StatusReport = {
      alias,
      served: served ? { collection: served.name, version: served.version, modelId: served.modelId, points: served.points } : undefined,
      configured: { modelId: configuredModel, modelDir: config.embedding.url ? undefined : config.embedding.modelDir, url: config.embedding.url },
      collections,
      warnings: [],
    };
    if (!served) report.warnings.push(`no collection is served yet: \`srag up\` creates one`);
    else if (!served.modelId) report.warnings.push(`the served collection has no pipeline record: restart \`srag up\` with the model that built it`);
    else if (served.modelId !== configuredModel) {
      report.warnings.push(`the configured model (${configuredModel}) differs from the served one (${served.modelId}): queries and ingestion use the served model until a rollout moves the alias`);
    }
    if (json) {
      out(JSON.stringify(report));
      return 0;
    }
    out(`alias ${alias} -> ${served ? `${served.name} (${served.version ?? '?'}, ${served.modelId ?? 'unknown model'}, ${served.points} chunks)` : 'nothing'}`);
    out(`configured model: ${configuredModel}`);
    out('collections:');
    for (const c of collections) out(`  ${c.served ? '*' : c.building ? '+' : ' '} ${c.name}  ${c.points} chunks  ${c.dimension}d  ${c.modelId ?? ''}${c.building ? '  (being built: ingestion writes here too)' : ''}`);
    for (const w of report.warnings) out(`warning: ${w}`);
    return 0;
  } finally {
    await index.close();
  }
}
