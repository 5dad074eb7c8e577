import { z } from 'zod';
import { NewKeyRequest, RebuildRequest } from './admin-routes.js';
import { EmbeddingsRequest, EmbeddingsResponse } from './embeddings-routes.js';
import {
  ChatCompletionRequest,
  ChatCompletionResponse,
  CitationOut,
  ErrorBody,
  IngestAccepted,
  IngestRequest,
  JobList,
  JobReport,
  ModelList,
  QueryRequest,
  QueryResponse,
  SearchRequest,
  SearchResponse,
} from './schemas.js';

const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) } } });
const schemaOf = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' });
const errors = { '4XX': { description: 'client error', ...json(ErrorBody) }, '5XX': { description: 'server error', ...json(ErrorBody) } };

/** A GET of one readable document (404 for one the caller may not read, as for a missing one). */
const documentGet = (summary: string, description: string) => ({
  get: { summary, parameters: [{ name: 'documentId', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': { description }, ...errors } },
});

/** OpenAPI 3.1 document generated from the same zod schemas that validate requests. */
export function buildOpenApi(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title: 'srag', version: '1', description: 'Sovereign retrieval-augmented generation: ingestion jobs, search, cited answers.' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths: {
      '/v1/ingest': {
        post: {
          summary: 'Submit an ingestion job (JSON sources or multipart `files`)',
          requestBody: {
            content: {
              'application/json': { schema: z.toJSONSchema(IngestRequest, { io: 'input' }) },
              'multipart/form-data': {
                schema: { type: 'object', properties: { files: { type: 'array', items: { type: 'string', format: 'binary' } }, acl: { type: 'string' } } },
              },
            },
          },
          responses: { '202': { description: 'accepted', ...json(IngestAccepted) }, ...errors },
        },
      },
      '/v1/jobs': {
        get: {
          summary: 'The newest jobs the caller may see (its own; every job with the admin scope), newest first, each once',
          parameters: [{ name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 200, default: 20 } }],
          responses: { '200': { description: 'jobs', ...json(JobList) }, ...errors },
        },
      },
      '/v1/jobs/{jobId}': {
        get: {
          summary: 'Job report',
          parameters: [{ name: 'jobId', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': { description: 'job', ...json(JobReport) }, ...errors },
        },
        delete: { summary: 'Cancel a job', parameters: [{ name: 'jobId', in: 'path', required: true, schema: { type: 'string' } }], responses: { '202': { description: 'cancelling' }, ...errors } },
      },
      '/v1/search': {
        post: { summary: 'Semantic search over chunks', requestBody: json(SearchRequest), responses: { '200': { description: 'hits', ...json(SearchResponse) }, ...errors } },
      },
      '/v1/query': {
        post: {
          summary: 'Answer a question with citations: every [n] in the answer has a citation quoting verbatim source text',
          requestBody: json(QueryRequest),
          responses: {
            '200': {
              description:
                'The answer as JSON, or with `stream: true` server-sent events: `token` {text} (provisional text), `replace` {answer, citations} (discard the text shown so far), ' +
                '`citation` (one per verified citation), `done` {answer, citations, mode, retrieval}; `error` {error} on failure.',
              content: {
                'application/json': { schema: schemaOf(QueryResponse) },
                'text/event-stream': { schema: { type: 'string' }, 'x-event-schemas': { citation: schemaOf(CitationOut), done: schemaOf(QueryResponse) } },
              },
            },
            ...errors,
          },
        },
      },
      '/v1/chat/completions': {
        post: {
          summary: 'OpenAI-compatible chat completion: the last user message is the question; the content is the verified answer with [n] markers',
          description: 'Citations ride along as the extra top-level `citations` field (in the final chunk when streaming, before `data: [DONE]`). Model id: `srag`.',
          requestBody: json(ChatCompletionRequest),
          responses: {
            '200': {
              description: 'chat.completion, or chat.completion.chunk server-sent events with `stream: true`',
              content: { 'application/json': { schema: schemaOf(ChatCompletionResponse) }, 'text/event-stream': { schema: { type: 'string' } } },
            },
            ...errors,
          },
        },
      },
      '/v1/embeddings': {
        post: {
          summary: 'OpenAI-compatible embeddings from the served model, through the same batcher as queries (query scope)',
          description:
            '`input_type` (srag extension): `passage` (default) embeds as documents are embedded at ingestion; `query` adds the model\'s query instruction ' +
            '(bge: "Represent this sentence for searching relevant passages: "). `model`, when given, must be the served model id. ' +
            'Inputs beyond the model window (512 tokens) are truncated, as at ingestion; limits: SRAG_EMBEDDINGS_MAX_INPUTS inputs of SRAG_EMBEDDINGS_MAX_CHARS characters.',
          requestBody: json(EmbeddingsRequest),
          responses: { '200': { description: 'embeddings (base64: float32 little-endian bytes)', ...json(EmbeddingsResponse) }, ...errors },
        },
      },
      '/v1/models': {
        get: { summary: 'OpenAI-compatible model list (one model: srag)', responses: { '200': { description: 'models', ...json(ModelList) }, ...errors } },
      },
      '/v1/models/{modelId}': {
        get: {
          summary: 'One model (only `srag` exists)',
          parameters: [{ name: 'modelId', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': { description: 'model' }, ...errors },
        },
      },
      '/v1/documents': { get: { summary: 'Indexed documents visible to the caller', responses: { '200': { description: 'documents' }, ...errors } } },
      '/v1/documents/{documentId}': {
        get: { summary: 'One document', parameters: [{ name: 'documentId', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': { description: 'document' }, ...errors } },
        delete: {
          summary: 'Remove a document from the index and the source store (a verified workflow)',
          parameters: [{ name: 'documentId', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': { description: 'removed and verified' }, ...errors },
        },
      },
      '/v1/documents/{documentId}/content': documentGet(
        'The parsed text of a readable document and its page spans: citation `start`/`end` are offsets into `text`',
        '{documentId, title, type, text, pages:[{page,start,end}]}',
      ),
      '/v1/documents/{documentId}/source': documentGet(
        'The original bytes of a readable document (inline, with its content type); corpus records and PII-redacted documents are refused',
        'the source file',
      ),
      '/v1/me': { get: { summary: 'The caller: user, groups and scopes', responses: { '200': { description: '{user, groups, scopes, unrestricted}' }, ...errors } } },
      '/v1/jobs/{jobId}/errors': {
        get: {
          summary: "Every error of a job, a page at a time (the report keeps only the first ones)",
          parameters: [
            { name: 'jobId', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'offset', in: 'query', required: false, schema: { type: 'integer', minimum: 0, default: 0 } },
            { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
          ],
          responses: { '200': { description: 'errors with source, code and message' }, ...errors },
        },
      },
      '/v1/admin/keys': {
        get: { summary: 'API keys (admin scope): ids, users, groups, scopes; never secrets', responses: { '200': { description: 'keys' }, ...errors } },
        post: {
          summary: 'Issue an API key (admin scope); the secret is in this response only',
          requestBody: { content: { 'application/json': { schema: z.toJSONSchema(NewKeyRequest, { io: 'input' }) } } },
          responses: { '201': { description: 'created: id, secret, key' }, ...errors },
        },
      },
      '/v1/admin/keys/{id}': {
        delete: { summary: 'Revoke an API key (admin scope)', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': { description: 'revoked' }, ...errors } },
      },
      '/v1/admin/index/rebuild': {
        post: {
          summary: 'Rebuild a collection (default: the served one) from the store, as a workflow (admin scope)',
          requestBody: { content: { 'application/json': { schema: z.toJSONSchema(RebuildRequest, { io: 'input' }) } } },
          responses: { '202': { description: 'started' }, ...errors },
        },
      },
      '/v1/admin/index/rebuild/{collection}': {
        get: {
          summary: 'State of the rebuild of a collection (admin scope)',
          parameters: [{ name: 'collection', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': { description: 'rebuild state' }, ...errors },
        },
      },
      '/openapi.json': { get: { summary: 'This document (behind a credential once credentials are configured)', responses: { '200': { description: 'OpenAPI 3.1' } } } },
      '/healthz': { get: { security: [], summary: 'Liveness', responses: { '200': { description: 'ok' } } } },
      '/readyz': { get: { security: [], summary: 'Readiness of Temporal, index and model', responses: { '200': { description: 'ready' }, '503': { description: 'not ready' } } } },
      '/metrics': { get: { summary: 'Prometheus metrics (behind a credential once credentials are configured)', responses: { '200': { description: 'text exposition' } } } },
    },
  };
}
