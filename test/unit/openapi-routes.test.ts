import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import { buildOpenApi } from '../../src/http/openapi.js';

/**
 * Every route the API registers is in /openapi.json: routes are read from the route files themselves,
 * so a new route without its OpenAPI entry fails here (as GET /v1/jobs once did).
 */
function registeredRoutes(): string[] {
  const dir = join(PROJECT_ROOT, 'src', 'http');
  const out = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'openapi.ts')) {
    const source = readFileSync(join(dir, file), 'utf8');
    for (const m of source.matchAll(/\b(router|v1|app)\.(get|post|put|patch|delete)\(\s*'([^']+)'/g)) {
      const prefix = m[1] === 'app' ? '' : '/v1';
      out.add(`${m[2].toUpperCase()} ${prefix}${m[3].replace(/:([A-Za-z]+)/g, '{$1}')}`);
    }
  }
  return [...out].sort();
}

describe('OpenAPI document', () => {
  it('finds the routes it checks (the scan itself works)', () => {
    const routes = registeredRoutes();
    expect(routes).toContain('GET /v1/jobs');
    expect(routes).toContain('POST /v1/query');
    expect(routes.length).toBeGreaterThan(15);
  });

  it('documents every registered route', () => {
    const doc = buildOpenApi() as { paths: Record<string, Record<string, unknown>> };
    const documented = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`)));
    const missing = registeredRoutes().filter((r) => !documented.has(r));
    expect(missing).toEqual([]);
  });
});
