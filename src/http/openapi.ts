import { z } from 'zod';
import { ErrorBody, IngestAccepted, IngestRequest, JobReport, SearchRequest, SearchResponse } from './schemas.js';

const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) } } });
const errors = { '4XX': { description: 'client error', ...json(ErrorBody) }, '5XX': { description: 'server error', ...json(ErrorBody) } };

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
      '/healthz': { get: { security: [], summary: 'Liveness', responses: { '200': { description: 'ok' } } } },
      '/readyz': { get: { security: [], summary: 'Readiness of Temporal, index and model', responses: { '200': { description: 'ready' }, '503': { description: 'not ready' } } } },
      '/metrics': { get: { security: [], summary: 'Prometheus metrics', responses: { '200': { description: 'text exposition' } } } },
    },
  };
}
