// Microbenchmark of the embedded vector index: exact top-10 search latency over N x 384 unit vectors.
// Run: npx tsx bench/index.ts [N ...]   (default: 10000 50000). Prints one JSON line per size.
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEmbeddedIndex } from '../src/index/embedded.js';
import type { IndexPoint } from '../src/index/port.js';
import { rng, randomUnit } from '../test/support/random.js';

const DIM = 384;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function benchSize(n: number): Promise<void> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'srag-bench-index-'));
  const index = await createEmbeddedIndex(dir);
  try {
    await index.ensureCollection('bench', DIM);
    const next = rng(n);
    const loadStart = performance.now();
    for (let i = 0; i < n; i += 5000) {
      const batch: IndexPoint[] = [];
      for (let k = i; k < Math.min(n, i + 5000); k++) {
        batch.push({
          id: `p${k}`,
          vector: randomUnit(DIM, next),
          payload: {
            documentId: `doc_${k % 1000}`,
            contentHash: 'h',
            chunkIndex: k,
            chunkCount: n,
            text: 'x'.repeat(400),
            start: 0,
            end: 400,
            title: 'bench',
            source: 'bench',
            type: 'text',
            acl: k % 4 === 0 ? [] : [`g${k % 4}`],
          },
        });
      }
      await index.upsert('bench', batch);
    }
    const loadMs = performance.now() - loadStart;
    const queries = Array.from({ length: 50 }, () => randomUnit(DIM, next));
    for (let i = 0; i < 30; i++) await index.search('bench', queries[i % queries.length], 10);

    const measure = async (filter?: { aclAny: string[] }) => {
      const times: number[] = [];
      for (let i = 0; i < 200; i++) {
        const t = performance.now();
        await index.search('bench', queries[i % queries.length], 10, filter);
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      return { p50: +percentile(times, 50).toFixed(3), p90: +percentile(times, 90).toFixed(3), min: +times[0].toFixed(3) };
    };
    const plain = await measure();
    const filtered = await measure({ aclAny: ['g1'] });
    console.log(
      JSON.stringify({ points: n, dim: DIM, k: 10, searchMs: plain, aclFilteredSearchMs: filtered, loadMs: Math.round(loadMs), node: process.version }),
    );
  } finally {
    await index.close();
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

const sizes = process.argv.slice(2).map(Number).filter((x) => x > 0);
for (const n of sizes.length ? sizes : [10_000, 50_000]) await benchSize(n);
