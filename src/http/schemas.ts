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
  .object({ sources: z.array(SourceInput).min(1).max(100_000), acl: AclInput.optional() })
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
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
});

export const SearchRequest = z.object({ query: nonEmpty.max(4000), k: k.default(10) }).strict();

export const SearchHit = z.object({
  chunkId: z.string(),
  documentId: z.string(),
  title: z.string(),
  source: z.string(),
  page: z.number().int().optional(),
  start: z.number().int(),
  end: z.number().int(),
  text: z.string(),
  score: z.number(),
});
export const SearchResponse = z.object({ hits: z.array(SearchHit) });

export const ErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

export type SearchHitT = z.infer<typeof SearchHit>;
