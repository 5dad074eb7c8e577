/**
 * Typed errors. `code` is stable and machine-readable: job reports, HTTP bodies and workflow branching
 * use it, never the message text.
 */
export type ErrorCode =
  | 'EMPTY_FILE'
  | 'FILE_TOO_LARGE'
  | 'TOO_MANY_PAGES'
  | 'ENCRYPTED'
  | 'CORRUPT'
  | 'NO_TEXT'
  | 'UNSUPPORTED_TYPE'
  | 'NOT_FOUND'
  | 'INVALID_INPUT'
  | 'MODEL_NOT_FOUND'
  | 'MODEL_ERROR'
  | 'INDEX_ERROR'
  | 'TEMPORAL_UNAVAILABLE'
  | 'TEMPORAL_CLI_NOT_FOUND'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'RATE_LIMITED'
  | 'RESOURCE_LIMIT'
  | 'AUDIT_UNAVAILABLE'
  | 'PAYLOAD_TOO_LARGE'
  | 'CONFIG_INVALID'
  | 'UPSTREAM_ERROR'
  | 'PIPELINE_MISMATCH'
  | 'SNAPSHOT_CORRUPT'
  | 'INTERNAL';

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = options.details;
  }
}

/** A document that can never be ingested as it is: retrying will not help. */
export class DocumentError extends AppError {
  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(code, message, options);
    this.name = 'DocumentError';
  }
}

export class ConfigError extends AppError {
  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super('CONFIG_INVALID', message, options);
    this.name = 'ConfigError';
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
