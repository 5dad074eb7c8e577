import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import type { Logger } from '../obs/logger.js';
import type { LocalChatModel, LocalCompletion, LocalCompletionRequest } from './local.js';

/**
 * The local model through node-llama-cpp, loaded with a dynamic import: the package is installed only
 * by `npm run setup -- --llm` (into <cache>/llm-runtime, outside the project's lock file), so srag
 * compiles and runs without it. The interfaces below are the few parts of its API used here.
 */

type LocalLlmConfig = NonNullable<Config['llm']['local']>;

interface LlamaGrammar {
  readonly _brand?: never;
}
interface LlamaSequence {
  clearHistory(): Promise<void>;
}
interface LlamaContext {
  getSequence(): LlamaSequence;
  dispose(): Promise<void>;
}
interface LlamaModel {
  createContext(options: { contextSize: number; sequences: number; threads: number }): Promise<LlamaContext>;
  dispose(): Promise<void>;
}
interface Llama {
  loadModel(options: { modelPath: string }): Promise<LlamaModel>;
  createGrammarForJsonSchema(schema: object): Promise<LlamaGrammar>;
  dispose(): Promise<void>;
}
interface LlamaChatSession {
  prompt(
    text: string,
    options: { grammar: LlamaGrammar; maxTokens: number; temperature: number; signal?: AbortSignal; onToken?: (tokens: readonly number[]) => void },
  ): Promise<string>;
  dispose(options?: { disposeSequence?: boolean }): void;
}
interface NodeLlamaCpp {
  getLlama(options: {
    gpu: false;
    build: 'never';
    skipDownload: boolean;
    progressLogs: boolean;
    logger: (level: string, message: string) => void;
  }): Promise<Llama>;
  LlamaChatSession: new (options: { contextSequence: LlamaSequence; systemPrompt: string }) => LlamaChatSession;
}

const SETUP_HINT = 'run npm run setup -- --llm';

function runtimeEntry(runtimeDir: string): string {
  return join(runtimeDir, 'node_modules', 'node-llama-cpp', 'package.json');
}

/** Throws MODEL_NOT_FOUND saying how to install what is missing; called before anything starts. */
export function assertLocalModelInstalled(local: LocalLlmConfig): void {
  if (!existsSync(local.modelPath)) {
    throw new AppError('MODEL_NOT_FOUND', `the local model file ${local.modelPath} is missing: ${SETUP_HINT} (or set SRAG_LLM_MODEL_PATH to a GGUF file)`, {
      details: { path: local.modelPath },
    });
  }
  if (!existsSync(runtimeEntry(local.runtimeDir))) {
    throw new AppError('MODEL_NOT_FOUND', `node-llama-cpp is not installed under ${local.runtimeDir}: ${SETUP_HINT}`, { details: { path: local.runtimeDir } });
  }
}

async function importNodeLlamaCpp(runtimeDir: string): Promise<NodeLlamaCpp> {
  const pkgFile = runtimeEntry(runtimeDir);
  const pkg = JSON.parse(await readFile(pkgFile, 'utf8')) as { main?: string };
  const entry = join(runtimeDir, 'node_modules', 'node-llama-cpp', pkg.main ?? 'dist/index.js');
  return (await import(pathToFileURL(entry).href)) as NodeLlamaCpp;
}

/** One thread per core but one: llama.cpp's threads spin while they wait, and starve the API on a small box. */
function defaultThreads(): number {
  return Math.max(1, availableParallelism() - 1);
}

export interface LlamaCppOptions {
  logger: Logger;
  /** Prompt (sources and question) plus reply; SmolLM2 was trained on 8192. */
  contextSize?: number;
  /** Per completion, once the model is free; queueing behind other questions is not counted. */
  timeoutMs?: number;
}

/**
 * Loads the model once and answers one completion at a time (one context sequence; concurrent
 * questions queue). Greedy decoding: the same question over the same chunks gets the same answer.
 */
export async function loadLlamaCppModel(local: LocalLlmConfig, options: LlamaCppOptions): Promise<LocalChatModel> {
  assertLocalModelInstalled(local);
  const log = options.logger.child({ component: 'llama-cpp', model: basename(local.modelPath) });
  const timeoutMs = options.timeoutMs ?? 120_000;
  const started = Date.now();
  const lib = await importNodeLlamaCpp(local.runtimeDir);
  const llama = await lib.getLlama({
    gpu: false,
    // Only the prebuilt CPU binary setup installed: never compile or download llama.cpp at run time.
    build: 'never',
    skipDownload: true,
    progressLogs: false,
    // llama.cpp's own messages are about loading and hardware, never prompts.
    logger: (level, message) => {
      if (level === 'error' || level === 'fatal') log.error('llama.cpp', { message });
      else if (level === 'warn') log.warn('llama.cpp', { message });
    },
  });
  const model = await llama.loadModel({ modelPath: local.modelPath });
  const threads = local.threads > 0 ? local.threads : defaultThreads();
  const context = await model.createContext({ contextSize: options.contextSize ?? 4096, sequences: 1, threads });
  const sequence = context.getSequence();
  log.info('local model loaded', { ms: Date.now() - started, threads });

  let queue: Promise<unknown> = Promise.resolve();

  async function run(request: LocalCompletionRequest, signal?: AbortSignal): Promise<LocalCompletion> {
    signal?.throwIfAborted();
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const grammar = await llama.createGrammarForJsonSchema(request.schema);
    await sequence.clearHistory();
    const session = new lib.LlamaChatSession({ contextSequence: sequence, systemPrompt: request.system });
    let tokens = 0;
    let firstToken: number | undefined;
    const t0 = Date.now();
    try {
      const text = await session.prompt(request.user, {
        grammar,
        maxTokens: request.maxTokens,
        temperature: 0,
        signal: combined,
        onToken: (t) => {
          firstToken ??= Date.now();
          tokens += t.length;
        },
      });
      const end = Date.now();
      return { text, tokens, ms: end - t0, firstTokenMs: (firstToken ?? end) - t0 };
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (timeout.aborted) throw new AppError('UPSTREAM_ERROR', `local model took longer than ${timeoutMs} ms`, { cause: err });
      throw err;
    } finally {
      session.dispose({ disposeSequence: false });
    }
  }

  function complete(request: LocalCompletionRequest, signal?: AbortSignal): Promise<LocalCompletion> {
    const next = queue.then(() => run(request, signal));
    queue = next.catch(() => undefined);
    return next;
  }

  async function close(): Promise<void> {
    await queue;
    await context.dispose();
    await model.dispose();
    await llama.dispose();
  }

  return { name: basename(local.modelPath, '.gguf'), complete, close };
}

/**
 * A LocalChatModel that loads on first use, so the answerer can be built synchronously at start-up;
 * the load begins at once. A failed load is retried on the next question (and answered extractively
 * meanwhile, as an upstream error).
 */
export function lazyLlamaCppModel(local: LocalLlmConfig, options: LlamaCppOptions): LocalChatModel {
  let loading: Promise<LocalChatModel> | undefined;
  const load = () => {
    loading ??= loadLlamaCppModel(local, options).catch((err: unknown) => {
      loading = undefined;
      throw err;
    });
    return loading;
  };
  load().catch((err: unknown) => options.logger.warn('local model failed to load', { err }));
  return {
    name: basename(local.modelPath, '.gguf'),
    complete: async (request, signal) => (await load()).complete(request, signal),
    close: async () => {
      if (loading) await (await loading.catch(() => undefined))?.close();
    },
  };
}
