/** Maps what pdf.js reports about a document to our error codes. */
import { DocumentError } from '../errors.js';

/** pdf.js error names that mean the file itself is damaged or not a PDF it can read. */
const CORRUPT_NAMES = new Set([
  'InvalidPDFException',
  'FormatError',
  'UnknownErrorException',
  'MissingPDFException',
  'XRefParseException',
  'XRefEntryException',
  'UnexpectedResponseException',
  'AbortException',
]);

/**
 * Any failure while pdf.js reads the document is permanent for these bytes, so all of them become
 * DocumentErrors (a raw error would be retried forever). The pdf.js message stays in `cause` only.
 */
export function pdfFailureToError(name: string, message: string): DocumentError {
  const cause = Object.assign(new Error(message), { name });
  if (name === 'PasswordException') {
    return new DocumentError('ENCRYPTED', 'PDF is password-protected', { cause });
  }
  const what = CORRUPT_NAMES.has(name) ? 'PDF is malformed and cannot be read' : 'PDF could not be parsed';
  return new DocumentError('CORRUPT', `${what} (${name})`, { cause, details: { errorName: name } });
}
