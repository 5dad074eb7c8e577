import type { Request, RequestHandler } from 'express';
import multer, { type StorageEngine } from 'multer';
import type { Readable } from 'node:stream';
import { AppError } from '../errors.js';
import type { BlobStore } from '../store/port.js';
import { multipartError } from './errors.js';

/** What each `req.files[i]` carries after createUploadMiddleware: the bytes are already in the store. */
export interface UploadedFile {
  fieldname: string;
  /** Client-supplied: untrusted, sanitize before using it as a name. */
  originalname: string;
  mimetype: string;
  size: number;
  /** Content hash: the bytes live at `store.contentKey(hash)`. */
  hash: string;
}

export interface UploadDeps {
  store: BlobStore;
  maxFileBytes: number;
  /** All files of one request together, counted as they stream. */
  maxUploadBytes: number;
  maxFiles: number;
}

const MAX_FIELDS = 20;
const MAX_FIELD_BYTES = 64 * 1024;

/** Per-request state of the storage engine. */
interface RequestUploads {
  /** Bytes of all files so far. */
  used: number;
  /** Writes still running, so a rejection is answered only once their temp files are gone. */
  writes: Set<Promise<unknown>>;
}

/**
 * Passes chunks through while charging them to the request's budget; throws the moment it is spent.
 * The file stream is iterated with destroyOnReturn off: destroying busboy's stream would make it
 * emit an AbortError that multer reports ahead of the real reason (a 500 instead of a 413). multer
 * unpipes and drains the request itself once a file fails.
 */
async function* charged(stream: Readable, uploads: RequestUploads, maxUploadBytes: number): AsyncGenerator<Uint8Array> {
  const chunks = stream.iterator({ destroyOnReturn: false }) as AsyncIterableIterator<Uint8Array>;
  for await (const chunk of chunks) {
    uploads.used += chunk.byteLength;
    if (uploads.used > maxUploadBytes) {
      throw new AppError('PAYLOAD_TOO_LARGE', `the upload is larger than the limit of ${maxUploadBytes} bytes per request`);
    }
    yield chunk;
  }
}

export interface StreamingStorage extends StorageEngine {
  /** Resolves once every write this request started has finished or cleaned up after itself. */
  settled(req: Request): Promise<void>;
}

/**
 * A multer storage engine that streams each file straight into the content store, so a request
 * costs one chunk of memory however large it is. Files of one request arrive one after another
 * (busboy hands out a part only once the previous one is consumed), so a plain counter per request
 * is the total cap.
 *
 * Removal is deliberately a no-op. The store is content-addressed and deduplicated: the blob a failed
 * request wrote may be the very blob an earlier, accepted upload of the same bytes refers to, and
 * nothing here can tell them apart. Files completed before a request is rejected therefore stay as
 * unreferenced content blobs (harmless, never listed as documents, reclaimable by a store GC); the
 * file in progress at the moment of rejection leaves nothing, as putStream removes its temp file.
 */
export function createStreamingStorage(deps: Omit<UploadDeps, 'maxFiles'>): StreamingStorage {
  const requests = new WeakMap<Request, RequestUploads>();
  return {
    _handleFile(req, file, cb) {
      let uploads = requests.get(req);
      if (!uploads) requests.set(req, (uploads = { used: 0, writes: new Set() }));
      const write = deps.store.putStream(charged(file.stream, uploads, deps.maxUploadBytes), { maxBytes: deps.maxFileBytes }).then(
        ({ hash, size }) => {
          const info: Partial<Express.Multer.File> & { hash: string } = { hash, size };
          cb(null, info);
        },
        (err: unknown) => {
          if (err instanceof AppError && err.code === 'FILE_TOO_LARGE') {
            cb(new AppError('PAYLOAD_TOO_LARGE', `an uploaded file is larger than the limit of ${deps.maxFileBytes} bytes`, { cause: err }));
          } else {
            cb(err);
          }
        },
      );
      const writes = uploads.writes;
      writes.add(write);
      void write.finally(() => writes.delete(write));
    },
    _removeFile(_req, _file, cb) {
      cb(null);
    },
    async settled(req) {
      const uploads = requests.get(req);
      if (uploads) await Promise.allSettled([...uploads.writes]);
    },
  };
}

/**
 * `multipart/form-data` with files in the `files` field, streamed into the store. Malformed bodies
 * become 400 INVALID_INPUT, size caps 413 PAYLOAD_TOO_LARGE, too many files or parts 400; storage
 * failures pass through unchanged (500). Non-multipart requests pass straight on.
 */
export function createUploadMiddleware(deps: UploadDeps): RequestHandler {
  const storage = createStreamingStorage(deps);
  const upload = multer({
    storage,
    // No fileSize here: the storage engine enforces maxFileBytes itself, so a file is never cut short
    // and stored truncated before the request is rejected.
    limits: { files: deps.maxFiles, fields: MAX_FIELDS, fieldSize: MAX_FIELD_BYTES, parts: deps.maxFiles + MAX_FIELDS },
  }).array('files');
  return (req, res, next) => {
    upload(req, res, (err?: unknown) => {
      if (err === undefined || err === null) return next();
      // multer may answer a broken body before the file being written has noticed; wait for it to
      // remove its temp file so a rejected request leaves nothing half-written behind.
      void storage.settled(req).then(() => next(multipartError(err) ?? err));
    });
  };
}

/** The files createUploadMiddleware stored for this request, in the order they arrived. */
export function uploadedFiles(req: Request): UploadedFile[] {
  return ((req.files as (Express.Multer.File & { hash: string })[] | undefined) ?? []).map((f) => ({
    fieldname: f.fieldname,
    originalname: f.originalname,
    mimetype: f.mimetype,
    size: f.size,
    hash: f.hash,
  }));
}
