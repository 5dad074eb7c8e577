#!/usr/bin/env node
// The `srag` command. An entrypoint: the only place in the CLI that reads the environment.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../config.js';
import { AppError } from '../errors.js';
import { createLogger } from '../obs/logger.js';
import { apiBaseUrl, createApiClient } from './api-client.js';
import { intFlag, parseArgs, stringFlag } from './args.js';
import type { EvalMode } from '../eval/run.js';
import { runIngest } from './ingest.js';

const USAGE = `srag — sovereign retrieval-augmented generation

Usage:
  srag up [--llm local]                     start Temporal (local dev server), workers and the API;
                                            --llm local answers with the in-process model (npm run setup -- --llm)
  srag serve [--llm local]                  the API alone (TEMPORAL_ADDRESS set; workers run elsewhere)
  srag worker ingest|embed                  one worker in the foreground (metrics on SRAG_METRICS_PORT)
  srag ingest <path|dir>... [--acl g1,g2] [--no-wait] [--pii off|flag|redact] [--replace-acl]
                                            submit an ingestion job and follow its progress
  srag jobs [jobId]                         list jobs, or show one job's report
  srag search "<query>" [--k N]             semantic search over the indexed chunks
  srag ask "<question>" [--k N]             an answer with numbered citations
  srag eval-answers <qa.jsonl|squad.json> [--limit N] [--k K]
                                            ask a QA set of the running API: answer quoted, first citation,
                                            gold source cited, "not found" precision/recall, latency
  srag eval <beir-dir> [--split NAME] [--mode dense|bm25|hybrid|served] [--backend embedded|qdrant]
                                            nDCG@10, Recall@100 and MRR@10 on a BEIR-layout folder
  srag index rebuild [--collection C]       drop a collection, rebuild it from the store, prove identical ids and top-10
  srag index migrate --to qdrant [--qdrant-url URL] [--collection C] [--probes N] [--no-switch]
                                            copy the served collection into Qdrant, prove it, then move the alias there
  srag status                               served vs configured pipeline and model, collections, chunk counts
  srag snapshot [--now]                     the snapshot schedule, or take a snapshot now (copied to SRAG_BACKUP_DIR, verified)
  srag snapshots list                       snapshots under the data dir and in the backup location
  srag drill [--now]                        the restore drill schedule, or prove now that the newest backup restores
  srag restore <snapshot-id>                restore a backup into a new collection and switch the alias to it
  srag rollout start [pipeline.json] [--model DIR] [--chunk-tokens N] [--chunk-overlap N] --eval BEIR-DIR [--split S] [--limit N]
                    [--tolerance 0.02] [--approve] [--window "sat,sun 02-04"] [--grace 24h] [--rehearse-rollback] [--no-wait]
                                            build a new pipeline from the store, gate it on the eval set, switch or refuse
  srag rollout status | approve | abort | rollback
  srag schedules list | pause|resume|trigger snapshot|drill
                                            steer the lifecycle schedules (also in the Temporal UI)
  srag keys create --user U [--groups g1,g2] [--scopes query,ingest,admin] [--name N]
                                            issue an API key (default scope: query); the secret is shown once
  srag keys list | srag keys revoke <id>    list API keys, or revoke one (works while the API runs)
  srag audit verify                         check the audit log's hash chain and checkpoint (exit 1 if tampered)
  srag doctor                               check config, ports, disk, data dir, model, Temporal, index, backups
                                            and schedules; say what to fix (exit 1 if any check failed)
Every command takes --json for machine-readable output.
Environment: see README (SRAG_DATA_DIR, SRAG_PORT, TEMPORAL_ADDRESS, ...).`;

const out = (s: string) => process.stdout.write(s + '\n');
// `npm run srag -- ingest ./docs` runs in the package root; npm keeps where the user typed it in
// INIT_CWD. Paths on the command line are the user's, so they resolve from there.
const userCwd = process.env.INIT_CWD ?? process.cwd();
const userPath = (p: string) => resolve(userCwd, p);
// `srag … | head` closes the pipe early: that is the reader being done, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    out(USAGE);
    return command ? 0 : 2;
  }
  const args = parseArgs(rest, ['json', 'no-wait', 'help', 'replace-acl', 'no-switch', 'now', 'approve', 'rehearse-rollback']);
  if (args.flags.has('help')) {
    out(USAGE);
    return 0;
  }
  const json = args.flags.has('json');
  if (command === 'doctor') {
    // Before loadConfig: an invalid configuration is one of the problems the doctor reports.
    const { runDoctorCommand } = await import('./doctor.js');
    return runDoctorCommand(process.env, { json }, out);
  }
  const env = withLlmFlag(command, args, process.env);
  const config = loadConfig(env);
  const logger = createLogger(config.logLevel, { component: 'cli' });
  const api = createApiClient(apiBaseUrl(config.http.host, config.http.port), process.env.SRAG_API_TOKEN);

  switch (command) {
    case 'up': {
      const { runUp } = await import('./up.js');
      await runUp(config, env, logger, out);
      return 0;
    }
    case 'serve': {
      const { runUp } = await import('./up.js');
      await runUp(config, env, logger, out, { apiOnly: true });
      return 0;
    }
    case 'worker': {
      const { runWorker } = await import('./worker.js');
      return runWorker(config, args.positionals[0], process.env, logger, out);
    }
    case 'ingest': {
      if (args.positionals.length === 0) throw new AppError('INVALID_INPUT', 'srag ingest needs one or more paths');
      const acl = (stringFlag(args, 'acl') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      const pii = stringFlag(args, 'pii');
      if (pii !== undefined && !['off', 'flag', 'redact'].includes(pii)) throw new AppError('INVALID_INPUT', '--pii must be off, flag or redact');
      return runIngest(
        api,
        { paths: args.positionals.map(userPath), acl, replaceAcl: args.flags.has('replace-acl'), pii: pii as 'off' | 'flag' | 'redact' | undefined, wait: !args.flags.has('no-wait'), json },
        { out, err: process.stderr },
      );
    }
    case 'jobs': {
      const { runJobs } = await import('./jobs.js');
      return runJobs(api, args.positionals[0], json, out);
    }
    case 'search': {
      const { runSearch } = await import('./search.js');
      const query = args.positionals.join(' ').trim();
      if (!query) throw new AppError('INVALID_INPUT', 'srag search needs a query');
      return runSearch(api, query, intFlag(args, 'k', 5, 1, 100), json, out);
    }
    case 'ask': {
      const { runAsk } = await import('./ask.js');
      const question = args.positionals.join(' ').trim();
      if (!question) throw new AppError('INVALID_INPUT', 'srag ask needs a question');
      return runAsk(api, question, intFlag(args, 'k', 8, 1, 100), json, out);
    }
    case 'eval-answers': {
      const file = args.positionals[0];
      if (!file) throw new AppError('INVALID_INPUT', 'srag eval-answers needs a QA file (JSONL of {question, answer|answers, source?} or SQuAD JSON)');
      const { runEvalAnswers } = await import('./eval-answers.js');
      return runEvalAnswers(
        api,
        { file: userPath(file), limit: intFlag(args, 'limit', 0, 0, 1_000_000), k: intFlag(args, 'k', 5, 1, 50), json },
        out,
        (done, total) => {
          if (process.stderr.isTTY && !json) process.stderr.write(`\r${done}/${total} questions${done === total ? '\n' : ''}`);
        },
      );
    }
    case 'eval': {
      const { runEval } = await import('./eval.js');
      const { EVAL_MODES } = await import('../eval/run.js');
      const dir = args.positionals[0];
      if (!dir) throw new AppError('INVALID_INPUT', 'srag eval needs a BEIR-layout folder');
      const mode = stringFlag(args, 'mode') ?? 'dense';
      if (!(EVAL_MODES as readonly string[]).includes(mode)) throw new AppError('INVALID_INPUT', `--mode must be one of ${EVAL_MODES.join(', ')}`);
      const backend = stringFlag(args, 'backend') ?? 'embedded';
      if (backend !== 'embedded' && backend !== 'qdrant') throw new AppError('INVALID_INPUT', '--backend must be embedded or qdrant');
      return runEval(config, logger, { dir: userPath(dir), split: stringFlag(args, 'split') ?? 'test', mode: mode as EvalMode, backend, json, limit: intFlag(args, 'limit', 0, 0, 1_000_000) }, out);
    }
    case 'index': {
      const sub = args.positionals[0];
      if (sub === 'migrate') {
        const { runIndexMigrate } = await import('./migrate.js');
        return runIndexMigrate(
          config,
          logger,
          {
            to: stringFlag(args, 'to') ?? '',
            qdrantUrl: stringFlag(args, 'qdrant-url'),
            collection: stringFlag(args, 'collection'),
            probes: intFlag(args, 'probes', 50, 1, 10_000),
            switchAlias: !args.flags.has('no-switch'),
            json,
          },
          { out, err: process.stderr },
        );
      }
      if (sub !== 'rebuild') throw new AppError('INVALID_INPUT', 'usage: srag index rebuild [--collection C] | srag index migrate --to qdrant');
      const { runIndexRebuild } = await import('./index-cmd.js');
      return runIndexRebuild(api, { collection: stringFlag(args, 'collection'), json }, { out, err: process.stderr });
    }
    case 'snapshot':
    case 'snapshots':
    case 'drill':
    case 'restore':
    case 'schedules': {
      const { runLifecycle } = await import('./lifecycle.js');
      return runLifecycle(config, logger, command, { positionals: args.positionals, now: args.flags.has('now'), json }, out);
    }
    case 'rollout': {
      const { runRollout } = await import('./rollout.js');
      const sub = args.positionals[0] ?? 'status';
      const { durationSeconds } = await import('../services/lifecycle.js');
      const graceSeconds = durationSeconds(stringFlag(args, 'grace') ?? '0s', '--grace duration');
      const tolerance = Number(stringFlag(args, 'tolerance') ?? '0.02');
      if (!(tolerance >= 0 && tolerance <= 1)) throw new AppError('INVALID_INPUT', '--tolerance must be between 0 and 1');
      const evalFlag = stringFlag(args, 'eval');
      const evalDir = evalFlag && userPath(evalFlag);
      if (sub === 'start' && !evalDir) throw new AppError('INVALID_INPUT', 'srag rollout start needs --eval <BEIR dir | golden.jsonl> (questions judged against documents in the knowledge base)');
      const file = sub === 'start' ? pipelineFile(args.positionals[1] && userPath(args.positionals[1])) : {};
      return runRollout(
        config,
        process.env,
        logger,
        sub,
        sub === 'start'
          ? {
              // A pipeline file gives the defaults ({"modelDir","chunkTokens","chunkOverlap"}); flags win.
              modelDir: (stringFlag(args, 'model') && userPath(stringFlag(args, 'model')!)) ?? file.modelDir,
              chunkTokens: args.flags.has('chunk-tokens') ? intFlag(args, 'chunk-tokens', 256, 16, 8192) : file.chunkTokens,
              chunkOverlap: args.flags.has('chunk-overlap') ? intFlag(args, 'chunk-overlap', 32, 0, 4096) : file.chunkOverlap,
              evalDir: evalDir!,
              split: stringFlag(args, 'split') ?? 'test',
              limit: intFlag(args, 'limit', 0, 0, 1_000_000),
              tolerance,
              approval: args.flags.has('approve'),
              graceSeconds,
              rehearseRollback: args.flags.has('rehearse-rollback'),
              window: stringFlag(args, 'window'),
              wait: !args.flags.has('no-wait'),
            }
          : undefined,
        json,
        out,
        process.stderr,
      );
    }
    case 'status': {
      const { runStatus } = await import('./status.js');
      return runStatus(config, logger, json, out);
    }
    case 'keys': {
      const { runKeys } = await import('./keys.js');
      return runKeys(config.dataDir, args, json, out);
    }
    case 'audit': {
      const { auditDir, runAuditVerify } = await import('./audit.js');
      if (args.positionals[0] !== 'verify') throw new AppError('INVALID_INPUT', 'srag audit needs a subcommand: verify');
      return runAuditVerify(auditDir(config.dataDir), json, out);
    }
    default:
      process.stderr.write(`unknown command: ${command}\n\n${USAGE}\n`);
      return 2;
  }
}

/** `srag rollout start pipeline.json`: the candidate's settings from a file (none given: {}). */
function pipelineFile(path: string | undefined): { modelDir?: string; chunkTokens?: number; chunkOverlap?: number } {
  if (!path) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new AppError('INVALID_INPUT', `cannot read the pipeline file ${path}: ${(err as Error).message}`);
  }
  const p = parsed as { modelDir?: unknown; chunkTokens?: unknown; chunkOverlap?: unknown };
  const ok = (v: unknown, t: string) => v === undefined || typeof v === t;
  if (!parsed || typeof parsed !== 'object' || !ok(p.modelDir, 'string') || !ok(p.chunkTokens, 'number') || !ok(p.chunkOverlap, 'number')) {
    throw new AppError('INVALID_INPUT', `${path}: expected {"modelDir"?: string, "chunkTokens"?: number, "chunkOverlap"?: number}`);
  }
  return p as { modelDir?: string; chunkTokens?: number; chunkOverlap?: number };
}

/** `srag up|serve --llm local` is SRAG_LLM=local for that run; only the commands that answer take it. */
function withLlmFlag(command: string, args: ReturnType<typeof parseArgs>, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (!args.flags.has('llm')) return env;
  const llm = stringFlag(args, 'llm');
  if (command !== 'up' && command !== 'serve') throw new AppError('INVALID_INPUT', '--llm is an option of srag up and srag serve');
  if (llm !== 'local') throw new AppError('INVALID_INPUT', '--llm takes "local": the in-process model that npm run setup -- --llm installs');
  return { ...env, SRAG_LLM: llm };
}

// Everything srag writes (store, index, audit, keys, Temporal's database) is private to its user.
process.umask(0o077);
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof AppError) process.stderr.write(`srag: ${err.code}: ${err.message}\n`);
    else process.stderr.write(`srag: unexpected error: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 2;
  },
);
