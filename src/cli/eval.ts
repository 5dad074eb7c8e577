import { resolve } from 'node:path';
import type { Config } from '../config.js';
import { createEmbedder } from '../embed/factory.js';
import { runBeirEval, type EvalMode } from '../eval/run.js';
import { scratchDepsFor } from '../eval/scratch.js';
import type { Logger } from '../obs/logger.js';

export interface EvalOptions {
  dir: string;
  split: string;
  mode: EvalMode;
  json: boolean;
  limit: number;
}

export async function runEval(config: Config, logger: Logger, opts: EvalOptions, out: (s: string) => void): Promise<number> {
  const embedder = await createEmbedder(config.embedding, logger);
  try {
    let last = 0;
    const result = await runBeirEval(
      {
        ...(await scratchDepsFor(config, embedder)),
        progress: (stage, done, total) => {
          if (Date.now() - last < 2000 && done !== total) return;
          last = Date.now();
          process.stderr.write(`${stage}: ${done}/${total}\n`);
        },
      },
      resolve(opts.dir),
      opts.split,
      opts.mode,
      opts.limit,
    );
    if (opts.json) out(JSON.stringify(result));
    else {
      out(`${opts.dir} [${opts.split}] mode=${result.mode} pipeline=${result.pipeline} (${embedder.modelId})`);
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
