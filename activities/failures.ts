import { ApplicationFailure } from '@temporalio/common';
import { AppError, DocumentError } from '../src/errors.js';

/**
 * Maps our errors onto Temporal's retry model: a DocumentError (bad input) and INVALID_INPUT /
 * NOT_FOUND can never succeed, so they are non-retryable with the code as the failure type;
 * everything else is thrown as is and retried.
 */
export function toActivityFailure(err: unknown): unknown {
  if (err instanceof DocumentError || (err instanceof AppError && ['INVALID_INPUT', 'NOT_FOUND', 'FILE_TOO_LARGE', 'PIPELINE_MISMATCH', 'FORBIDDEN', 'RESOURCE_LIMIT', 'SNAPSHOT_CORRUPT'].includes(err.code))) {
    return ApplicationFailure.nonRetryable(err.message, err.code);
  }
  return err;
}

export async function permanentOnBadInput<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw toActivityFailure(err);
  }
}
