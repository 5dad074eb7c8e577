/**
 * Talking to /v1: the bearer token lives in sessionStorage (this tab only, gone when it closes), and
 * every data call carries it. Without one the server may still answer: the local operator mode.
 */
const TOKEN_KEY = 'srag.token';

export function storedToken() {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

export function storeToken(/** @type {string} */ token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

function authHeaders(/** @type {Record<string, string>} */ extra = {}) {
  const token = storedToken();
  return token ? { ...extra, authorization: `Bearer ${token}` } : extra;
}

export class ApiError extends Error {
  constructor(/** @type {number} */ status, /** @type {string} */ code, /** @type {string} */ message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function failure(/** @type {Response} */ res) {
  let body;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  return new ApiError(res.status, body?.error?.code ?? `HTTP_${res.status}`, body?.error?.message ?? res.statusText);
}

export async function getJson(/** @type {string} */ path) {
  const res = await fetch(path, { headers: authHeaders({ accept: 'application/json' }), cache: 'no-store' });
  if (!res.ok) throw await failure(res);
  return res.json();
}

export async function getBytes(/** @type {string} */ path) {
  const res = await fetch(path, { headers: authHeaders(), cache: 'no-store' });
  if (!res.ok) throw await failure(res);
  return new Uint8Array(await res.arrayBuffer());
}

/**
 * Splits server-sent events out of a text buffer; returns the complete events and the unfinished rest.
 * @returns {{ events: Array<{ event: string, data: string }>, rest: string }}
 */
export function parseSse(/** @type {string} */ buffer) {
  const blocks = buffer.split(/\r?\n\r?\n/);
  const rest = blocks.pop() ?? '';
  const events = [];
  for (const block of blocks) {
    let event = 'message';
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) events.push({ event, data: data.join('\n') });
  }
  return { events, rest };
}

/**
 * POST /v1/query with stream: true, yielding `{ event, data }` with data parsed from JSON
 * (token, replace, citation, done, error). EventSource cannot POST or send a header, hence fetch.
 */
export async function* streamQuery(/** @type {string} */ question, /** @type {AbortSignal} */ signal) {
  const res = await fetch('/v1/query', {
    method: 'POST',
    headers: authHeaders({ 'content-type': 'application/json', accept: 'text/event-stream' }),
    body: JSON.stringify({ question, stream: true }),
    signal,
  });
  if (!res.ok || !res.body) throw await failure(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const parsed = parseSse(buffer + value);
    buffer = parsed.rest;
    for (const e of parsed.events) yield { event: e.event, data: JSON.parse(e.data) };
  }
}

/**
 * Multipart upload to POST /v1/ingest with progress (fetch reports none for request bodies).
 * @returns {Promise<{ jobId: string }>}
 */
export function uploadFiles(/** @type {File[]} */ files, /** @type {string} */ acl, /** @type {(fraction: number) => void} */ onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const f of files) form.append('files', f, f.name);
    if (acl.trim()) form.append('acl', acl.trim());
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/v1/ingest');
    for (const [k, v] of Object.entries(authHeaders({ accept: 'application/json' }))) xhr.setRequestHeader(k, v);
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener('load', () => {
      let body;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = undefined;
      }
      if (xhr.status === 202 && body?.jobId) resolve(body);
      else reject(new ApiError(xhr.status, body?.error?.code ?? `HTTP_${xhr.status}`, body?.error?.message ?? 'upload failed'));
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'NETWORK', 'the upload did not reach the server')));
    xhr.send(form);
  });
}
