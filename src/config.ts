import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigError } from './errors.js';

/** The repository root; the default cache (model, Temporal CLI) lives under it. */
export const PROJECT_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

const optionalString = z
  .string()
  .trim()
  .transform((s) => (s === '' ? undefined : s))
  .optional();
const int = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

/** Environment variables, by the names in DESIGN.md. Later additions extend; nothing is renamed. */
const EnvSchema = z.object({
  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_CLI_PATH: optionalString,
  SRAG_TEMPORAL_PORT: int(7233, 1, 65535),
  SRAG_TEMPORAL_UI_PORT: int(8233, 1, 65535),
  QDRANT_URL: optionalString,
  QDRANT_API_KEY: optionalString,
  SRAG_DATA_DIR: z.string().default('./.srag'),
  SRAG_CACHE_DIR: optionalString,
  SRAG_MODEL_DIR: optionalString,
  SRAG_EMBED_DEVICE: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
  SRAG_EMBED_BATCH: int(32, 1, 1024),
  SRAG_EMBED_THREADS: int(0, 0, 256),
  EMBEDDINGS_URL: optionalString,
  EMBEDDINGS_MODEL: optionalString,
  EMBEDDINGS_API_KEY: optionalString,
  // Query batching in the API: concurrent query embeddings share model calls (see src/embed/batcher.ts).
  SRAG_QUERY_BATCH_WINDOW_MS: z.coerce.number().min(0).max(1000).default(1),
  SRAG_QUERY_BATCH_MAX: int(16, 1, 1024),
  SRAG_QUERY_CACHE_SIZE: int(1024, 0, 1_000_000),
  // POST /v1/embeddings limits.
  SRAG_EMBEDDINGS_MAX_INPUTS: int(128, 1, 10_000),
  SRAG_EMBEDDINGS_MAX_CHARS: int(8192, 1, 1_000_000),
  LLM_URL: optionalString,
  LLM_MODEL: optionalString,
  LLM_API_KEY: optionalString,
  // An in-process model (node-llama-cpp + a GGUF file, installed by `npm run setup -- --llm`).
  SRAG_LLM: z.enum(['local']).optional(),
  SRAG_LLM_MODEL_PATH: optionalString,
  SRAG_LLM_THREADS: int(0, 0, 256),
  SRAG_HOST: z.string().default('127.0.0.1'),
  SRAG_PORT: int(8080, 0, 65535),
  SRAG_METRICS_HOST: z.string().default('127.0.0.1'),
  SRAG_METRICS_PORT: int(9464, 0, 65535),
  SRAG_API_TOKENS: optionalString,
  SRAG_INGEST_ROOTS: optionalString,
  SRAG_MAX_JSON_MB: z.coerce.number().positive().max(1024).default(20),
  SRAG_CHUNK_TOKENS: int(256, 16, 8192),
  SRAG_CHUNK_OVERLAP: int(32, 0, 4096),
  SRAG_MAX_FILE_MB: z.coerce.number().positive().max(4096).default(50),
  SRAG_MAX_PAGES: int(2000, 1, 1_000_000),
  SRAG_INGEST_CONCURRENCY: int(4, 1, 256),
  SRAG_TASK_QUEUE: z.string().default('srag-ingest'),
  SRAG_EMBED_TASK_QUEUE: z.string().default('srag-embed'),
  SRAG_COLLECTION_PREFIX: z.string().regex(/^[a-z][a-z0-9_]*$/).default('srag'),
  SRAG_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  // Gateway: JWT bearer tokens (OIDC), API keys live in the data dir (srag keys).
  SRAG_JWT_JWKS_URL: optionalString,
  SRAG_JWT_PUBLIC_KEY: optionalString,
  SRAG_JWT_ISSUER: optionalString,
  SRAG_JWT_AUDIENCE: optionalString,
  SRAG_JWT_USER_CLAIM: z.string().default('sub'),
  SRAG_JWT_GROUPS_CLAIM: z.string().default('groups'),
  SRAG_JWT_SCOPES_CLAIM: z.string().default('scope'),
  // Rate limits, requests per minute.
  SRAG_RATE_QUERY_PER_MIN: int(120, 1, 1_000_000),
  SRAG_RATE_INGEST_PER_MIN: int(30, 1, 1_000_000),
  SRAG_RATE_IP_PER_MIN: int(600, 1, 10_000_000),
  SRAG_RATE_AUTH_FAILURES_PER_MIN: int(10, 1, 1_000_000),
  SRAG_MAX_UPLOAD_MB: z.coerce.number().positive().max(65536).default(500),
  SRAG_PARSE_MAX_MB: int(768, 256, 65536),
  SRAG_PII_POLICY: z.enum(['off', 'flag', 'redact']).default('off'),
  SRAG_PII_PATTERNS: optionalString,
  SRAG_AUDIT_ROTATE_MB: z.coerce.number().positive().max(65536).default(64),
  SRAG_ALLOWED_HOSTS: optionalString,
  TEMPORAL_TLS_CERT: optionalString,
  TEMPORAL_TLS_KEY: optionalString,
  TEMPORAL_TLS_CA: optionalString,
  TEMPORAL_TLS_SERVER_NAME: optionalString,
  // Index lifecycle: snapshots are written under the data dir, then copied to the backup location.
  SRAG_BACKUP_DIR: optionalString,
  SRAG_SNAPSHOT_KEEP: int(7, 1, 10_000),
  SRAG_SNAPSHOT_KEEP_DAILY: int(7, 0, 10_000),
  SRAG_SNAPSHOT_KEEP_WEEKLY: int(4, 0, 10_000),
  /** Schedules: an interval (`24h`, `90m`, `7d`), a five-field cron expression in UTC (`0 3 * * *`), or `off`. */
  SRAG_SNAPSHOT_EVERY: z.string().trim().regex(/^(off|\d+[smhd]|\S+( \S+){4})$/).default('24h'),
  SRAG_DRILL_EVERY: z.string().trim().regex(/^(off|\d+[smhd]|\S+( \S+){4})$/).default('168h'),
  /** Top-10 overlap a drill accepts when the live index moved on since the snapshot (0..1). */
  SRAG_DRILL_TOLERANCE: z.coerce.number().min(0).max(1).default(0.8),
});

export interface Config {
  readonly dataDir: string;
  readonly cacheDir: string;
  readonly temporal: {
    readonly address?: string;
    readonly namespace: string;
    readonly cliPath?: string;
    readonly port: number;
    readonly uiPort: number;
    readonly taskQueue: string;
    readonly embedTaskQueue: string;
    /** mTLS to a Temporal cluster: file paths of the client cert/key and the CA. */
    readonly tls?: { readonly certFile?: string; readonly keyFile?: string; readonly caFile?: string; readonly serverName?: string };
  };
  readonly qdrant: { readonly url?: string; readonly apiKey?: string };
  readonly embedding: {
    readonly modelDir: string;
    readonly device: 'auto' | 'cpu' | 'cuda';
    readonly batchSize: number;
    readonly threads: number;
    readonly url?: string;
    readonly model?: string;
    readonly apiKey?: string;
  };
  /** How the API embeds queries and serves POST /v1/embeddings (batch window, batch size, LRU, limits). */
  readonly queryEmbedding: {
    readonly windowMs: number;
    /** 1: no batching. */
    readonly maxBatch: number;
    /** 0: no cache. */
    readonly cacheSize: number;
    readonly maxInputs: number;
    readonly maxChars: number;
  };
  readonly llm: {
    readonly url?: string;
    readonly model?: string;
    readonly apiKey?: string;
    /** Set when SRAG_LLM=local: the GGUF file, where setup put node-llama-cpp, and CPU threads (0: auto). */
    readonly local?: { readonly modelPath: string; readonly runtimeDir: string; readonly threads: number };
  };
  /** A worker process's Prometheus endpoint (the API serves its own on /metrics); port 0: any free one. */
  readonly metrics: { readonly host: string; readonly port: number };
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly apiTokens?: string;
    /**
     * Roots under which POST /v1/ingest may name server-side paths, as configured (SRAG_INGEST_ROOTS).
     * Undefined: anywhere for the local operator (loopback, no credentials), nowhere otherwise.
     */
    readonly ingestRoots?: string[];
    readonly maxJsonBytes: number;
    /** Bytes one multipart request may upload, all files together. */
    readonly maxUploadBytes: number;
    /** Host names accepted in loopback mode besides localhost and the loopback addresses. */
    readonly allowedHosts: string[];
  };
  readonly jwt?: {
    readonly jwksUrl?: string;
    readonly publicKey?: string;
    readonly issuer?: string;
    readonly audience?: string;
    readonly userClaim: string;
    readonly groupsClaim: string;
    readonly scopesClaim: string;
  };
  readonly rateLimits: { readonly queryPerMin: number; readonly ingestPerMin: number; readonly ipPerMin: number; readonly authFailuresPerMin: number };
  readonly pii: { readonly policy: 'off' | 'flag' | 'redact'; readonly patterns?: string };
  readonly audit: { readonly rotateBytes: number };
  readonly chunk: { readonly maxTokens: number; readonly overlapTokens: number };
  readonly limits: { readonly maxFileBytes: number; readonly maxPages: number; readonly parseMaxBytes: number };
  readonly ingest: { readonly concurrency: number };
  readonly lifecycle: {
    /** Where snapshots are written first (`<data dir>/snapshots`). */
    readonly snapshotDir: string;
    /** The second location every snapshot is copied to and verified in (another disk or mount). */
    readonly backupDir: string;
    readonly keep: number;
    readonly keepDaily: number;
    readonly keepWeekly: number;
    readonly snapshotEvery?: string;
    readonly drillEvery?: string;
    readonly drillTolerance: number;
  };
  readonly collectionPrefix: string;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

export const DEFAULT_MODEL_NAME = 'bge-small-en-v1.5-q';
/** The instruct model `setup.sh --llm` installs under <cache>/models/llm/. */
export const DEFAULT_LOCAL_LLM_FILE = 'SmolLM2-135M-Instruct.Q4_1.gguf';

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Parses the environment once, at an entrypoint. Nothing else reads process.env. */
export function loadConfig(env: Record<string, string | undefined>, cwd: string = process.cwd()): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${issues}`, { details: { issues: parsed.error.issues } });
  }
  const e = parsed.data;
  if (e.SRAG_LLM === 'local' && e.LLM_URL) {
    throw new ConfigError('invalid configuration: SRAG_LLM=local and LLM_URL are both set; answer from one model (unset one of them)');
  }
  if (e.SRAG_CHUNK_OVERLAP >= e.SRAG_CHUNK_TOKENS) {
    throw new ConfigError('invalid configuration: SRAG_CHUNK_OVERLAP must be smaller than SRAG_CHUNK_TOKENS');
  }
  const cacheDir = resolve(cwd, e.SRAG_CACHE_DIR ?? resolve(PROJECT_ROOT, '.cache'));
  return deepFreeze({
    dataDir: resolve(cwd, e.SRAG_DATA_DIR),
    cacheDir,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      cliPath: e.TEMPORAL_CLI_PATH,
      port: e.SRAG_TEMPORAL_PORT,
      uiPort: e.SRAG_TEMPORAL_UI_PORT,
      taskQueue: e.SRAG_TASK_QUEUE,
      embedTaskQueue: e.SRAG_EMBED_TASK_QUEUE,
      tls:
        e.TEMPORAL_TLS_CERT || e.TEMPORAL_TLS_KEY || e.TEMPORAL_TLS_CA || e.TEMPORAL_TLS_SERVER_NAME
          ? { certFile: e.TEMPORAL_TLS_CERT, keyFile: e.TEMPORAL_TLS_KEY, caFile: e.TEMPORAL_TLS_CA, serverName: e.TEMPORAL_TLS_SERVER_NAME }
          : undefined,
    },
    qdrant: { url: e.QDRANT_URL, apiKey: e.QDRANT_API_KEY },
    lifecycle: {
      snapshotDir: resolve(cwd, e.SRAG_DATA_DIR, 'snapshots'),
      backupDir: resolve(cwd, e.SRAG_BACKUP_DIR ?? resolve(cwd, e.SRAG_DATA_DIR, 'backup')),
      keep: e.SRAG_SNAPSHOT_KEEP,
      keepDaily: e.SRAG_SNAPSHOT_KEEP_DAILY,
      keepWeekly: e.SRAG_SNAPSHOT_KEEP_WEEKLY,
      snapshotEvery: e.SRAG_SNAPSHOT_EVERY === 'off' ? undefined : e.SRAG_SNAPSHOT_EVERY,
      drillEvery: e.SRAG_DRILL_EVERY === 'off' ? undefined : e.SRAG_DRILL_EVERY,
      drillTolerance: e.SRAG_DRILL_TOLERANCE,
    },
    embedding: {
      modelDir: resolve(cwd, e.SRAG_MODEL_DIR ?? resolve(cacheDir, 'models', DEFAULT_MODEL_NAME)),
      device: e.SRAG_EMBED_DEVICE,
      batchSize: e.SRAG_EMBED_BATCH,
      threads: e.SRAG_EMBED_THREADS,
      url: e.EMBEDDINGS_URL,
      model: e.EMBEDDINGS_MODEL,
      apiKey: e.EMBEDDINGS_API_KEY,
    },
    queryEmbedding: {
      windowMs: e.SRAG_QUERY_BATCH_WINDOW_MS,
      maxBatch: e.SRAG_QUERY_BATCH_MAX,
      cacheSize: e.SRAG_QUERY_CACHE_SIZE,
      maxInputs: e.SRAG_EMBEDDINGS_MAX_INPUTS,
      maxChars: e.SRAG_EMBEDDINGS_MAX_CHARS,
    },
    llm: {
      url: e.LLM_URL,
      model: e.LLM_MODEL,
      apiKey: e.LLM_API_KEY,
      local:
        e.SRAG_LLM === 'local'
          ? {
              modelPath: resolve(cwd, e.SRAG_LLM_MODEL_PATH ?? resolve(cacheDir, 'models', 'llm', DEFAULT_LOCAL_LLM_FILE)),
              runtimeDir: resolve(cacheDir, 'llm-runtime'),
              threads: e.SRAG_LLM_THREADS,
            }
          : undefined,
    },
    http: {
      host: e.SRAG_HOST,
      port: e.SRAG_PORT,
      apiTokens: e.SRAG_API_TOKENS,
      ingestRoots: e.SRAG_INGEST_ROOTS
        ? e.SRAG_INGEST_ROOTS.split(',').map((r) => r.trim()).filter(Boolean).map((r) => resolve(cwd, r))
        : undefined,
      maxJsonBytes: Math.floor(e.SRAG_MAX_JSON_MB * 1024 * 1024),
      maxUploadBytes: Math.floor(e.SRAG_MAX_UPLOAD_MB * 1024 * 1024),
      allowedHosts: (e.SRAG_ALLOWED_HOSTS ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean),
    },
    jwt:
      e.SRAG_JWT_JWKS_URL || e.SRAG_JWT_PUBLIC_KEY
        ? {
            jwksUrl: e.SRAG_JWT_JWKS_URL,
            publicKey: e.SRAG_JWT_PUBLIC_KEY,
            issuer: e.SRAG_JWT_ISSUER,
            audience: e.SRAG_JWT_AUDIENCE,
            userClaim: e.SRAG_JWT_USER_CLAIM,
            groupsClaim: e.SRAG_JWT_GROUPS_CLAIM,
            scopesClaim: e.SRAG_JWT_SCOPES_CLAIM,
          }
        : undefined,
    rateLimits: {
      queryPerMin: e.SRAG_RATE_QUERY_PER_MIN,
      ingestPerMin: e.SRAG_RATE_INGEST_PER_MIN,
      ipPerMin: e.SRAG_RATE_IP_PER_MIN,
      authFailuresPerMin: e.SRAG_RATE_AUTH_FAILURES_PER_MIN,
    },
    pii: { policy: e.SRAG_PII_POLICY, patterns: e.SRAG_PII_PATTERNS },
    audit: { rotateBytes: Math.floor(e.SRAG_AUDIT_ROTATE_MB * 1024 * 1024) },
    chunk: { maxTokens: e.SRAG_CHUNK_TOKENS, overlapTokens: e.SRAG_CHUNK_OVERLAP },
    limits: {
      maxFileBytes: Math.floor(e.SRAG_MAX_FILE_MB * 1024 * 1024),
      maxPages: e.SRAG_MAX_PAGES,
      parseMaxBytes: e.SRAG_PARSE_MAX_MB * 1024 * 1024,
    },
    ingest: { concurrency: e.SRAG_INGEST_CONCURRENCY },
    metrics: { host: e.SRAG_METRICS_HOST, port: e.SRAG_METRICS_PORT },
    collectionPrefix: e.SRAG_COLLECTION_PREFIX,
    logLevel: e.SRAG_LOG_LEVEL,
  } satisfies Config);
}
