// Restore time (the drill's RTO: verify the backup copy file by file, restore it into a scratch
// collection, count its points) for the SciFact index (9,648 real chunks) and for a synthetic 100k-chunk
// collection (384-d vectors, ~600-byte chunk payloads), on the embedded index and, with QDRANT_URL, on
// Qdrant (the same points copied into it). Snapshots go through the same services the workflows call.
// Usage: [QDRANT_URL=http://127.0.0.1:6333] npx tsx bench/restore.ts [--points 100000] [--json]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig, PROJECT_ROOT } from '../src/config.js';
import { uuidV5 } from '../src/domain/ids.js';
import { createEmbedder } from '../src/embed/factory.js';
import { openScratchIndex, scratchDepsFor } from '../src/eval/scratch.js';
import { copyCollection } from '../src/index/copy.js';
import { createEmbeddedIndex } from '../src/index/embedded.js';
import type { IndexPoint, VectorIndex } from '../src/index/port.js';
import { createQdrantIndex } from '../src/index/qdrant/qdrant-index.js';
import { createLogger } from '../src/obs/logger.js';
import { restoreIntoScratch } from '../src/services/drill.js';
import { copySnapshotToBackup, takeSnapshot } from '../src/services/snapshots.js';
import { createFsBlobStore } from '../src/store/fs.js';
import { randomUnit, rng } from '../test/support/random.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const json = process.argv.includes('--json');
const synthetic = Number(arg('points', '100000'));
const logger = createLogger('warn');
const config = loadConfig(process.env);
const work = mkdtempSync(join(tmpdir(), 'srag-bench-restore-'));

/** Snapshot `collection` of `index` (served by alias `bench`), copy and verify it, then time the drill's restore. */
async function measure(label: string, backend: 'embedded' | 'qdrant', index: VectorIndex, collection: string): Promise<void> {
  const dir = join(work, `${label}-${backend}`);
  const deps = { index, store: createFsBlobStore(join(dir, 'store')), backend, snapshotDir: join(dir, 'snapshots'), backupDir: join(dir, 'backup'), logger };
  await index.setAlias(`${collection}_alias`, collection);
  const t0 = performance.now();
  const manifest = await takeSnapshot(deps, { alias: `${collection}_alias` });
  const snapshotSeconds = (performance.now() - t0) / 1000;
  await copySnapshotToBackup(deps, manifest.id);
  const restored = await restoreIntoScratch({ index, backupDir: deps.backupDir, logger });
  await index.dropCollection(restored.scratch);
  const bytes = manifest.files.reduce((n, f) => n + f.bytes, 0);
  const row = { collection: label, backend, points: manifest.points, snapshotMB: +(bytes / 1e6).toFixed(1), snapshotSeconds: +snapshotSeconds.toFixed(2), rtoSeconds: +restored.rtoSeconds.toFixed(2) };
  if (json) console.log(JSON.stringify(row));
  else console.log(`${label.padEnd(9)} ${backend.padEnd(9)} ${String(row.points).padStart(7)} points  snapshot ${row.snapshotMB} MB in ${row.snapshotSeconds} s  RTO ${row.rtoSeconds} s`);
}

async function syntheticCollection(index: VectorIndex, name: string, n: number): Promise<void> {
  await index.ensureCollection(name, 384);
  const next = rng(42);
  const filler = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore. '.repeat(6);
  for (let i = 0; i < n; i += 2000) {
    const page: IndexPoint[] = [];
    for (let k = i; k < Math.min(n, i + 2000); k++) {
      page.push({
        id: uuidV5(`bench-restore-${k}`),
        vector: randomUnit(384, next),
        payload: { documentId: `doc_${k >> 3}`, contentHash: 'h', chunkIndex: k & 7, chunkCount: 8, text: filler, start: 0, end: filler.length, title: `Document ${k >> 3}`, source: 'bench', type: 'text', acl: k % 3 ? [] : ['staff'] },
      });
    }
    await index.upsert(name, page);
  }
}

try {
  const embedder = await createEmbedder(config.embedding, logger);
  const scratch = await openScratchIndex(await scratchDepsFor(config, embedder), resolve(process.env.SRAG_EVAL_DIR ?? join(PROJECT_ROOT, '..', 'shared', 'eval'), 'scifact', 'corpus.jsonl'));
  await embedder.close();
  const embedded = await createEmbeddedIndex(join(work, 'index'), { logger });
  try {
    await copyCollection(scratch.index, embedded, scratch.pipeline.collection, 'scifact');
    await syntheticCollection(embedded, 'synthetic', synthetic);
    await measure('scifact', 'embedded', embedded, 'scifact');
    await measure('synthetic', 'embedded', embedded, 'synthetic');
    if (config.qdrant.url) {
      const qdrant = await createQdrantIndex({ url: config.qdrant.url, apiKey: config.qdrant.apiKey, logger, transferTimeoutMs: 3_600_000 });
      try {
        for (const name of ['scifact', 'synthetic']) {
          const target = `bench_restore_${name}`;
          await qdrant.dropCollection(target);
          await copyCollection(embedded, qdrant, name, target);
          await qdrant.waitUntilOptimized(target, { timeoutMs: 1_800_000 });
          await measure(name, 'qdrant', qdrant, target);
          await qdrant.dropCollection(target);
        }
      } finally {
        await qdrant.close();
      }
    } else if (!json) console.log('QDRANT_URL is not set: Qdrant skipped');
  } finally {
    await embedded.close();
    await scratch.index.close();
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
