import { resolve } from 'node:path';
import type { Config } from '../config.js';
import { createEmbedder } from '../embed/factory.js';
import { AppError } from '../errors.js';
import { qdrantEvalBackend } from '../eval/qdrant-target.js';
import { runBeirEval, type EvalMode } from '../eval/run.js';
import { scratchDepsFor } from '../eval/scratch.js';
import type { Logger } from '../obs/logger.js';

export interface EvalOptions {
  dir: string;
  split: string;
  mode: EvalMode;
  /** embedded (default) or qdrant (a copy of the same scratch index in the server at QDRANT_URL). */
  backend: 'embedded' | 'qdrant';
  json: boolean;
  limit: number;
}

export async function runEval(config: Config, logger: Logger, opts: EvalOptions, out: (s: string) => void): Promise<number> {
  if (opts.backend === 'qdrant' && !config.qdrant.url) throw new AppError('INVALID_INPUT', '--backend qdrant needs QDRANT_URL');
  const embedder = await createEmbedder(config.embedding, logger);
  try {
    let last = 0;
    const progress = (stage: string, done: number, total: number) => {
      if (Date.now() - last < 2000 && done !== total) return;
      last = Date.now();
      process.stderr.write(`${stage}: ${done}/${total}\n`);
    };
    const result = await runBeirEval(
      {
        ...(await scratchDepsFor(config, embedder)),
        progress,
        backend:
          opts.backend === 'qdrant'
            ? qdrantEvalBackend({ url: config.qdrant.url!, apiKey: config.qdrant.apiKey, logger, progress: (d, t) => progress('copy to qdrant', d, t) })
            : undefined,
      },
      resolve(opts.dir),
      opts.split,
      opts.mode,
      opts.limit,
    );
    if (opts.json) out(JSON.stringify(result));
    else {
      out(`${opts.dir} [${opts.split}] mode=${result.mode} backend=${result.backend} pipeline=${result.pipeline} (${embedder.modelId})`);
      out(`  documents ${result.documents}, chunks ${result.chunks}, queries ${result.queries}`);
      out(`  nDCG@10    ${result.ndcg10.toFixed(4)}`);
      out(`  Recall@100 ${result.recall100.toFixed(4)}`);
      out(`  MRR@10     ${result.mrr10.toFixed(4)}`);
      out(`  indexing ${result.indexSeconds.toFixed(1)}s, queries ${result.querySeconds.toFixed(1)}s`);
    }
    return 0;
  } finally {
    await embedder.close();
  }
}
