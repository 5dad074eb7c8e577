// Rollout wall time on SciFact (not a test): a real dev server and workers, SciFact's 5,183 documents
// ingested with bge-small-en-v1.5, then a rollout to all-MiniLM-L6-v2 built from the store and gated on
// the train split (809 queries) against the served collection. Prints the ingest time, the rollout's
// wall time split into build and gate+switch, and both gate scores.
// Usage: npx tsx bench/rollout.ts [--limit 0] [--tolerance 0.05]   (SRAG_EVAL_DIR overrides ../shared/eval)
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { createEmbedder } from '../src/embed/factory.js';
import { configuredPipeline, prepareServingCollection } from '../src/runtime.js';
import { rolloutStatus, startRollout, waitForRollout } from '../src/services/lifecycle.js';
import { postJson, startStackApi, waitForJob } from '../test/support/http.js';
import { EVAL_DIR, startStack } from '../test/support/stack.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const scifact = join(EVAL_DIR, 'scifact');
const stack = await startStack({ SRAG_LOG_LEVEL: 'warn' });
try {
  const recordA = configuredPipeline(stack.config, stack.embedder);
  await prepareServingCollection(stack.config, recordA.ref.collection, recordA.ref.dimension, stack.logger, recordA);
  const configB = loadConfig({ ...stack.env, SRAG_MODEL_DIR: join(stack.config.cacheDir, 'models', 'all-minilm-l6-v2-q') });
  const embedderB = await createEmbedder(configB.embedding, stack.logger);
  const recordB = configuredPipeline(configB, embedderB);
  await embedderB.close();
  await stack.startWorkers();
  const api = await startStackApi(stack);
  try {
    const t0 = performance.now();
    const job = await postJson<{ jobId: string }>(`${api.url}/v1/ingest`, { sources: [{ path: join(scifact, 'corpus.jsonl') }] });
    const ingested = await waitForJob(api.url, job.body.jobId, undefined, 3_600_000);
    const ingestSeconds = (performance.now() - t0) / 1000;
    console.log(`ingest with ${recordA.ref.modelId}: ${ingested.documents.done} documents, ${ingested.chunks} chunks in ${ingestSeconds.toFixed(0)} s`);

    const deps = { client: stack.client, taskQueue: stack.config.temporal.taskQueue, alias: stack.config.collectionPrefix };
    const tolerance = Number(arg('tolerance', '0.05'));
    const t1 = performance.now();
    await startRollout(deps, {
      candidate: recordB,
      gate: { evalSet: { dir: scifact, split: 'train', limit: Number(arg('limit', '0')) || undefined }, tolerance: { ndcg10: tolerance, recall100: tolerance } },
      embedTaskQueue: stack.config.temporal.embedTaskQueue,
      concurrency: stack.config.ingest.concurrency,
    });
    let builtAt: number | undefined;
    const poll = setInterval(() => {
      void rolloutStatus(deps)
        .then((s) => {
          if (!builtAt && s.state && s.state.phase !== 'building') builtAt = performance.now();
        })
        .catch(() => undefined);
    }, 500);
    const state = await waitForRollout(deps).finally(() => clearInterval(poll));
    const total = (performance.now() - t1) / 1000;
    const build = ((builtAt ?? performance.now()) - t1) / 1000;
    console.log(`rollout ${recordA.ref.modelId} -> ${recordB.ref.modelId}: ${state.phase} in ${total.toFixed(0)} s (build ${build.toFixed(0)} s: ${state.build?.done}/${state.build?.documents} documents, ${state.build?.chunks} chunks; gate + switch + check ${(total - build).toFixed(0)} s)`);
    console.log(`gate on ${state.gate?.served.queries} train queries: served nDCG@10 ${state.gate?.served.ndcg10.toFixed(4)} R@100 ${state.gate?.served.recall100.toFixed(4)}; candidate ${state.gate?.candidate.ndcg10.toFixed(4)} / ${state.gate?.candidate.recall100.toFixed(4)}; ${state.gate?.reason}`);
  } finally {
    await api.close();
  }
} finally {
  await stack.stop();
}
