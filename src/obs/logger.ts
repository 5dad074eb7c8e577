import { pino, stdTimeFunctions, type Logger as PinoLogger } from 'pino';

/**
 * JSON logs on stderr (pino). Fields carry ids, counts and codes; callers never pass document text,
 * prompts or secrets. Redaction is a second line of defence: the names below are censored at any of
 * the first three levels of nesting (`{ req: { headers: { authorization } } }` too), whatever their case
 * at the top level, and errors are reduced to name, message and code.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const SENSITIVE = [
  'text',
  'prompt',
  'question',
  'query',
  'password',
  'secret',
  'token',
  'apikey',
  'apiKey',
  'api_key',
  'authorization',
  'Authorization',
  'cookie',
  'content',
  'messages',
];
export const REDACT_PATHS = SENSITIVE.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);
const SENSITIVE_TOP = new RegExp(`^(${SENSITIVE.join('|')})$`, 'i');
const CENSOR = '[redacted]';

function errorFields(v: Error): LogFields {
  return { name: v.name, message: v.message, code: (v as { code?: unknown }).code };
}

/** Top-level keys in any case, and Error values reduced; nested paths are pino's redaction. */
function clean(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) {
    if (SENSITIVE_TOP.test(k)) out[k] = CENSOR;
    else if (v instanceof Error) out[k] = errorFields(v);
    else out[k] = v;
  }
  return out;
}

function wrap(p: PinoLogger): Logger {
  return {
    debug: (m, f) => p.debug(f ?? {}, m),
    info: (m, f) => p.info(f ?? {}, m),
    warn: (m, f) => p.warn(f ?? {}, m),
    error: (m, f) => p.error(f ?? {}, m),
    child: (fields) => wrap(p.child(clean(fields))),
  };
}

export function createLogger(level: LogLevel = 'info', base: LogFields = {}, write?: (line: string) => void): Logger {
  const destination = write ? { write: (chunk: string) => write(chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk) } : pino.destination({ fd: 2, sync: true });
  const p = pino(
    {
      level,
      base: clean(base),
      timestamp: stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: CENSOR },
      formatters: { level: (label) => ({ level: label }), log: (obj) => clean(obj) },
      // Our own reduction (name, message, code): stacks can quote what a parser choked on.
      serializers: { err: (v: unknown) => (v instanceof Error ? errorFields(v) : v) },
    },
    destination,
  );
  return wrap(p);
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
