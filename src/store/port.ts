/** Bytes to stream into the store: a Node readable or any async iterable of byte chunks. */
export type ByteSource = AsyncIterable<Uint8Array> | NodeJS.ReadableStream;

/**
 * The source store: system of record. Keys are slash-separated paths (`sources/ab/abcd...`).
 * Writes are atomic: a reader sees the whole old value or the whole new one, never a torn write.
 */
export interface BlobStore {
  put(key: string, data: Uint8Array | string): Promise<void>;
  get(key: string): Promise<Buffer>;
  /** undefined when absent. */
  tryGet(key: string): Promise<Buffer | undefined>;
  has(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  list(prefix: string): Promise<string[]>;
  /** Content-addressed write: stores the bytes under `sources/<sha256>` and returns the hash. */
  putContent(data: Uint8Array): Promise<{ hash: string; size: number }>;
  /**
   * Content-addressed write of a stream, hashed as it is written, never held in memory whole.
   * Past `maxBytes` the write stops, leaves nothing behind and throws DocumentError FILE_TOO_LARGE.
   */
  putStream(stream: ByteSource, opts?: { maxBytes?: number }): Promise<{ hash: string; size: number }>;
  /** Streams a file into the content-addressed area without holding it all in memory twice. */
  putFile(path: string): Promise<{ hash: string; size: number }>;
  contentKey(hash: string): string;
}
