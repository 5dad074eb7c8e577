import type { CheckResult } from './check.js';

/**
 * The secret values of an environment: API keys and bearer tokens that must never reach the doctor's
 * output, even inside an error message a library built from them.
 */
export function secretsOf(env: Record<string, string | undefined>): string[] {
  const out = ['QDRANT_API_KEY', 'EMBEDDINGS_API_KEY', 'LLM_API_KEY', 'SRAG_API_TOKEN'].map((k) => env[k]);
  // SRAG_API_TOKENS="<token>=<user>:<groups>[:<scopes>],..."
  for (const entry of (env.SRAG_API_TOKENS ?? '').split(',')) out.push(entry.split('=')[0]);
  return out.map((s) => s?.trim() ?? '').filter((s) => s.length >= 4);
}

/** A URL without user, password, query or fragment: what may be shown of QDRANT_URL and the like. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(not a valid URL)';
  }
}

/** Removes secrets, URL credentials and key-like query parameters from text meant for the operator. */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, '$1');
  out = out.replace(/([?&](?:api[-_]?key|key|token|access_token|password)=)[^&\s]+/gi, '$1***');
  for (const s of secrets) out = out.split(s).join('***');
  return out;
}

export function redactCheck(check: CheckResult, secrets: readonly string[]): CheckResult {
  return {
    ...check,
    detail: redactText(check.detail, secrets),
    ...(check.fix ? { fix: redactText(check.fix, secrets) } : {}),
  };
}
