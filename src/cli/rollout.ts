import { resolve } from 'node:path';
import { loadConfig, type Config } from '../config.js';
import { parsePatchWindow, type PatchWindow, type RolloutState } from '../domain/rollout.js';
import { createEmbedder } from '../embed/factory.js';
import { AppError } from '../errors.js';
import type { Logger } from '../obs/logger.js';
import { configuredPipeline } from '../runtime.js';
import { decideRollout, rolloutStatus, startRollout, waitForRollout, type LifecycleDeps } from '../services/lifecycle.js';
import { connectClient, temporalTls } from '../temporal/connection.js';

export interface RolloutStartOptions {
  /** A model directory for the candidate; default the configured model. */
  modelDir?: string;
  chunkTokens?: number;
  chunkOverlap?: number;
  evalDir: string;
  split: string;
  limit: number;
  tolerance: number;
  approval: boolean;
  graceSeconds: number;
  rehearseRollback: boolean;
  /** `02-04` or `sat,sun 02-04` (UTC): switch only then. */
  window?: string;
  wait: boolean;
}

/** `srag rollout start|status|approve|abort|rollback`: patch rollouts on Temporal (workflow rolloutPipeline). */
export async function runRollout(
  config: Config,
  env: NodeJS.ProcessEnv,
  logger: Logger,
  sub: string,
  opts: RolloutStartOptions | undefined,
  json: boolean,
  out: (s: string) => void,
  err: NodeJS.WriteStream,
): Promise<number> {
  const address = config.temporal.address ?? `127.0.0.1:${config.temporal.port}`;
  const client = await connectClient(address, config.temporal.namespace, config.temporal.address ? temporalTls(config.temporal.tls) : undefined, { logger, timeoutMs: 15_000 });
  const deps: LifecycleDeps = { client, taskQueue: config.temporal.taskQueue, alias: config.collectionPrefix };
  try {
    if (sub === 'start') {
      if (!opts) throw new AppError('INVALID_INPUT', 'srag rollout start needs options');
      // The candidate: the configured pipeline with the overrides given, its model loaded once to learn its id and dimension.
      const candidateConfig = loadConfig({
        ...env,
        ...(opts.modelDir ? { SRAG_MODEL_DIR: resolve(opts.modelDir), EMBEDDINGS_URL: '' } : {}),
        ...(opts.chunkTokens ? { SRAG_CHUNK_TOKENS: String(opts.chunkTokens) } : {}),
        ...(opts.chunkOverlap !== undefined ? { SRAG_CHUNK_OVERLAP: String(opts.chunkOverlap) } : {}),
      });
      const embedder = await createEmbedder(candidateConfig.embedding, logger);
      const candidate = configuredPipeline(candidateConfig, embedder);
      await embedder.close();
      const started = await startRollout(deps, {
        candidate,
        gate: {
          // A .jsonl file is a golden questions file; anything else a BEIR folder.
          evalSet: opts.evalDir.endsWith('.jsonl')
            ? { file: resolve(opts.evalDir), limit: opts.limit || undefined }
            : { dir: resolve(opts.evalDir), split: opts.split, limit: opts.limit || undefined },
          tolerance: { ndcg10: opts.tolerance, recall100: opts.tolerance },
        },
        approval: opts.approval,
        graceSeconds: opts.graceSeconds,
        rehearseRollback: opts.rehearseRollback,
        window: opts.window ? windowOf(opts.window) : undefined,
        embedTaskQueue: config.temporal.embedTaskQueue,
        concurrency: config.ingest.concurrency,
      });
      if (!json) err.write(`rollout ${started.rolloutId} of ${candidate.ref.version} (${candidate.ref.modelId}) started: workflow ${started.workflowId}\n`);
      if (!opts.wait) {
        if (json) out(JSON.stringify(started));
        return 0;
      }
      let last = '';
      const poll = setInterval(() => {
        void rolloutStatus(deps)
          .then((s) => {
            const line = describe(s.state);
            if (!json && line !== last) err.write(`  ${line}\n`);
            last = line;
          })
          .catch(() => undefined);
      }, 2000);
      try {
        const state = await waitForRollout(deps);
        if (json) out(JSON.stringify(state));
        else printState(state, out);
        return state.phase === 'done' || state.phase === 'serving' ? 0 : 1;
      } finally {
        clearInterval(poll);
      }
    }
    if (sub === 'status') {
      const s = await rolloutStatus(deps);
      if (json) out(JSON.stringify(s));
      else if (s.state) printState(s.state, out);
      else out(`rollout ${s.status}${s.failure ? `: ${s.failure}` : ''}`);
      return 0;
    }
    if (sub === 'approve' || sub === 'abort' || sub === 'rollback') {
      const phase = await decideRollout(deps, sub);
      out(json ? JSON.stringify({ phase }) : `rollout: ${sub} -> ${phase}`);
      return 0;
    }
    throw new AppError('INVALID_INPUT', 'usage: srag rollout start [--model DIR] [--chunk-tokens N] --eval DIR [--approve] | status | approve | abort | rollback');
  } finally {
    await client.connection.close();
  }
}

function windowOf(text: string): PatchWindow {
  try {
    return parsePatchWindow(text);
  } catch (err) {
    throw new AppError('INVALID_INPUT', `--window: ${(err as Error).message}`);
  }
}

function describe(s?: RolloutState): string {
  if (!s) return 'starting';
  const build = s.build ? `, built ${s.build.done}/${s.build.documents} documents (${s.build.chunks} chunks)` : '';
  return `${s.phase}${build}`;
}

function printState(s: RolloutState, out: (s: string) => void): void {
  out(`rollout ${s.rolloutId}: ${s.phase.toUpperCase()}`);
  out(`  candidate ${s.candidate.version} (${s.candidate.modelId}, ${s.candidate.chunk.maxTokens}-token chunks) -> ${s.candidate.collection}`);
  if (s.served) out(`  served at start ${s.served.version} (${s.served.modelId}) -> ${s.served.collection}`);
  if (s.build) out(`  built from the store: ${s.build.done}/${s.build.documents} documents, ${s.build.chunks} chunks embedded, ${s.build.failed} failed`);
  if (s.gate) out(`  gate ${s.gate.pass ? 'passed' : 'FAILED'}: ${s.gate.reason}`);
  if (s.note) out(`  ${s.note}`);
  if (s.phase === 'awaiting_window') out(`  gate passed; waiting for the patch window (opens ${s.windowOpens}); srag rollout abort to stop`);
  if (s.phase === 'serving') out(`  serving; previous collection ${s.previous} kept until ${s.graceUntil} (srag rollout rollback to switch back)`);
}
