import { z } from 'zod';

// Request and response shapes of the /v1 API; /openapi.json is generated from these.

const nonEmpty = z.string().trim().min(1);
const k = z.number().int().min(1).max(100);

export const SourceInput = z.union([
  z.object({ path: nonEmpty.max(4096), title: z.string().max(500).optional() }).strict(),
  z.object({ text: nonEmpty.max(10_000_000), title: z.string().max(500).optional() }).strict(),
]);

export const AclInput = z.array(z.string().trim().min(1).max(200).regex(/^[^,\s]+$/)).max(100);

export const IngestRequest = z
  .object({
    sources: z.array(SourceInput).min(1).max(100_000),
    acl: AclInput.optional(),
    /** Admin only: re-ingest documents with a different ACL than they have. */
    replaceAcl: z.boolean().optional(),
    /** PII handling for this job; the server's policy is the least it gets. */
    pii: z.enum(['off', 'flag', 'redact']).optional(),
  })
  .strict();

export const IngestAccepted = z.object({ jobId: z.string(), sources: z.number().int() });

export const JobReport = z.object({
  jobId: z.string(),
  status: z.enum(['running', 'completed', 'failed', 'cancelled', 'terminated', 'timed_out']),
  documents: z.object({ total: z.number(), done: z.number(), failed: z.number(), skipped: z.number() }),
  sources: z.object({ total: z.number(), done: z.number() }),
  chunks: z.number(),
  errors: z.array(z.object({ source: z.string(), code: z.string(), message: z.string() })),
  errorsDropped: z.number(),
  errorCodes: z.record(z.string(), z.number()).optional(),
  pii: z.record(z.string(), z.number()).optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
});

/** GET /v1/jobs: the newest jobs the caller may see (its own; every job for admins), each once. */
export const JobList = z.object({
  jobs: z.array(
    z.object({
      jobId: z.string(),
      status: JobReport.shape.status,
      startedAt: z.string().optional(),
      closedAt: z.string().optional(),
    }),
  ),
});

export const SearchMode = z.enum(['dense', 'bm25', 'hybrid']);

/** `mode` overrides the server's retrieval mode for this request (as on /v1/query). */
export const SearchRequest = z.object({ query: nonEmpty.max(4000), k: k.default(10), mode: SearchMode.optional() }).strict();

/** Where a passage sits: its document, page, and [start, end) in the document's extracted text. */
const SourceSpan = z.object({
  documentId: z.string(),
  title: z.string(),
  source: z.string(),
  page: z.number().int().optional(),
  start: z.number().int(),
  end: z.number().int(),
});

/** `score` orders hits (cosine, rank-based BM25 or fused RRF); `relevance` is the 0-1 figure to show people. */
const Relevance = z.number().min(0).max(1).optional();
export const SearchHit = SourceSpan.extend({ chunkId: z.string(), text: z.string(), score: z.number(), relevance: Relevance });
export const SearchResponse = z.object({ hits: z.array(SearchHit) });

const queryK = z.number().int().min(1).max(50);

export const QueryRequest = z
  .object({
    question: nonEmpty.max(4000),
    /** Chunks retrieved and given to the generator; the server's default (8) when absent. */
    k: queryK.optional(),
    /** Answer as server-sent events: token*, replace?, citation*, done (or error). */
    stream: z.boolean().default(false),
    mode: SearchMode.optional(),
  })
  .strict();

export const CitationOut = SourceSpan.extend({ n: z.number().int(), quote: z.string(), score: z.number(), relevance: Relevance });

export const QueryResponse = z.object({
  answer: z.string(),
  citations: z.array(CitationOut),
  /** How the answer was written: by the configured model, or quoted extractively. */
  mode: z.enum(['llm', 'extractive']),
  retrieval: SearchMode,
});

// OpenAI-compatible chat completions: unknown OpenAI parameters are accepted and ignored.
const ContentPart = z.looseObject({ type: z.string().max(100), text: z.string().max(100_000).optional() });
const ChatMessage = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string().max(100_000), z.array(ContentPart).max(100), z.null()]).optional(),
});

export const ChatCompletionRequest = z.looseObject({
  model: z.string().max(200).optional(),
  messages: z.array(ChatMessage).min(1).max(500),
  stream: z.boolean().nullish(),
  /** srag extension: chunks retrieved for the answer. */
  k: queryK.optional(),
});

export const ChatCompletionResponse = z.object({
  id: z.string(),
  object: z.literal('chat.completion'),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      message: z.object({ role: z.literal('assistant'), content: z.string(), refusal: z.null() }),
      finish_reason: z.literal('stop'),
      logprobs: z.null(),
    }),
  ),
  /** srag extension: the verbatim quotes behind the [n] markers of the content. */
  citations: z.array(CitationOut),
});

export const ModelList = z.object({
  object: z.literal('list'),
  data: z.array(z.object({ id: z.string(), object: z.literal('model'), created: z.number().int(), owned_by: z.string(), generator: z.string() })),
});

export const ErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

export type SearchHitT = z.infer<typeof SearchHit>;
export type CitationOutT = z.infer<typeof CitationOut>;
export type ChatCompletionRequestT = z.infer<typeof ChatCompletionRequest>;
