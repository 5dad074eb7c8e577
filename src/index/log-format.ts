import { randomBytes } from 'node:crypto';
import { endianness } from 'node:os';
import { AppError } from '../errors.js';
import type { ChunkPayload } from '../domain/types.js';
import { crc32 } from './crc32.js';

/*
 * Binary layout (all integers little-endian).
 *
 * File header, 32 bytes:
 *   magic[8] ("SRAGLOG1" for a collection log, "SRAGSNP1" for a snapshot) | u32 format version
 *   | u32 dimension | extra[12] (log: random file id; snapshot: f64 createdAt ms + u32 0) | u32 crc32(bytes 0..28)
 *
 * Then frames: u32 bodyLength | u32 crc32(body) | body. Body, by its first byte:
 *   1 UPSERT  u16 idLength | id utf8 | u32 payloadLength | payload JSON utf8 | f32[dimension] vector
 *   2 DELETE  u32 count | count x (u16 idLength | id utf8)
 *   3 END     u32 points (snapshots only: the last frame, proves the file is complete)
 *
 * A frame is written with one write call; a process killed mid-write leaves a frame whose length runs
 * past the end of the file or whose CRC fails: the torn tail that the next writer truncates.
 */

const LITTLE_ENDIAN = endianness() === 'LE';

export const HEADER_BYTES = 32;
export const FRAME_OVERHEAD = 8;
export const FORMAT_VERSION = 1;
export const LOG_MAGIC = 'SRAGLOG1';
export const SNAPSHOT_MAGIC = 'SRAGSNP1';
/** Refuse absurd lengths early: a torn length field must not make us allocate gigabytes. */
export const MAX_BODY_BYTES = 256 * 1024 * 1024;
export const MAX_DIMENSION = 65536;
export const MAX_ID_BYTES = 1024;
/** Delete frames are capped so one huge deleteWhere never builds one giant body. */
export const MAX_IDS_PER_DELETE = 8192;

export const RecordType = { Upsert: 1, Delete: 2, End: 3 } as const;

export interface FileHeader {
  magic: string;
  version: number;
  dimension: number;
  /** Log: hex file id (changes whenever the file is rewritten). Snapshot: creation time. */
  fileId?: string;
  createdAtMs?: number;
}

export function encodeHeader(magic: string, dimension: number, createdAtMs?: number): Buffer {
  const buf = Buffer.alloc(HEADER_BYTES);
  buf.write(magic, 0, 8, 'latin1');
  buf.writeUInt32LE(FORMAT_VERSION, 8);
  buf.writeUInt32LE(dimension, 12);
  if (magic === SNAPSHOT_MAGIC) buf.writeDoubleLE(createdAtMs ?? Date.now(), 16);
  else randomBytes(12).copy(buf, 16);
  buf.writeUInt32LE(crc32(buf, 0, 28), 28);
  return buf;
}

/** Parses and checks a header; returns undefined when it is not a valid header of the expected kind. */
export function decodeHeader(buf: Uint8Array, expectedMagic: string): FileHeader | undefined {
  if (buf.length < HEADER_BYTES) return undefined;
  const b = Buffer.from(buf.buffer, buf.byteOffset, HEADER_BYTES);
  if (b.toString('latin1', 0, 8) !== expectedMagic) return undefined;
  if (b.readUInt32LE(28) !== crc32(b, 0, 28)) return undefined;
  const version = b.readUInt32LE(8);
  const dimension = b.readUInt32LE(12);
  if (version !== FORMAT_VERSION || dimension < 1 || dimension > MAX_DIMENSION) return undefined;
  if (expectedMagic === SNAPSHOT_MAGIC) return { magic: expectedMagic, version, dimension, createdAtMs: b.readDoubleLE(16) };
  return { magic: expectedMagic, version, dimension, fileId: b.toString('hex', 16, 28) };
}

function frame(body: Buffer): Buffer {
  body.writeUInt32LE(body.length - FRAME_OVERHEAD, 0);
  body.writeUInt32LE(crc32(body, FRAME_OVERHEAD, body.length), 4);
  return body;
}

/** Encodes one upsert frame; `payloadJson` is the already-serialised payload. */
export function encodeUpsert(id: string, payloadJson: string, vector: Float32Array): Buffer {
  const idLength = Buffer.byteLength(id, 'utf8');
  const payloadLength = Buffer.byteLength(payloadJson, 'utf8');
  const bodyLength = 1 + 2 + idLength + 4 + payloadLength + vector.length * 4;
  const buf = Buffer.allocUnsafe(FRAME_OVERHEAD + bodyLength);
  let o = FRAME_OVERHEAD;
  buf[o++] = RecordType.Upsert;
  buf.writeUInt16LE(idLength, o);
  o += 2;
  o += buf.write(id, o, idLength, 'utf8');
  buf.writeUInt32LE(payloadLength, o);
  o += 4;
  o += buf.write(payloadJson, o, payloadLength, 'utf8');
  if (LITTLE_ENDIAN && vector instanceof Float32Array) {
    buf.set(new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength), o);
  } else {
    for (let j = 0; j < vector.length; j++, o += 4) buf.writeFloatLE(vector[j], o);
  }
  return frame(buf);
}

export function encodeDelete(ids: string[]): Buffer {
  let bodyLength = 1 + 4;
  for (const id of ids) bodyLength += 2 + Buffer.byteLength(id, 'utf8');
  const buf = Buffer.allocUnsafe(FRAME_OVERHEAD + bodyLength);
  let o = FRAME_OVERHEAD;
  buf[o++] = RecordType.Delete;
  buf.writeUInt32LE(ids.length, o);
  o += 4;
  for (const id of ids) {
    const n = buf.write(id, o + 2, 'utf8');
    buf.writeUInt16LE(n, o);
    o += 2 + n;
  }
  return frame(buf);
}

export function encodeEnd(points: number): Buffer {
  const buf = Buffer.allocUnsafe(FRAME_OVERHEAD + 5);
  buf[FRAME_OVERHEAD] = RecordType.End;
  buf.writeUInt32LE(points, FRAME_OVERHEAD + 1);
  return frame(buf);
}

export type DecodedRecord =
  | { type: typeof RecordType.Upsert; id: string; payload: ChunkPayload; vectorOffset: number }
  | { type: typeof RecordType.Delete; ids: string[] }
  | { type: typeof RecordType.End; points: number };

function malformed(reason: string): AppError {
  return new AppError('INDEX_ERROR', `index record is malformed: ${reason}`);
}

/**
 * Decodes a CRC-checked body. The upsert vector is not copied: `vectorOffset` points into `body` so the
 * caller can copy it straight into its matrix.
 */
export function decodeBody(body: Buffer, dimension: number): DecodedRecord {
  if (body.length < 1) throw malformed('empty body');
  const type = body[0];
  let o = 1;
  if (type === RecordType.Upsert) {
    if (body.length < 3) throw malformed('short upsert');
    const idLength = body.readUInt16LE(o);
    o += 2;
    if (o + idLength + 4 > body.length) throw malformed('id overruns body');
    const id = body.toString('utf8', o, o + idLength);
    o += idLength;
    const payloadLength = body.readUInt32LE(o);
    o += 4;
    if (o + payloadLength + dimension * 4 !== body.length) throw malformed('upsert length does not match the dimension');
    let payload: ChunkPayload;
    try {
      payload = JSON.parse(body.toString('utf8', o, o + payloadLength)) as ChunkPayload;
    } catch (err) {
      throw new AppError('INDEX_ERROR', 'index record payload is not JSON', { cause: err });
    }
    return { type, id, payload, vectorOffset: o + payloadLength };
  }
  if (type === RecordType.Delete) {
    if (body.length < 5) throw malformed('short delete');
    const count = body.readUInt32LE(o);
    o += 4;
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      if (o + 2 > body.length) throw malformed('delete overruns body');
      const n = body.readUInt16LE(o);
      o += 2;
      if (o + n > body.length) throw malformed('delete id overruns body');
      ids.push(body.toString('utf8', o, o + n));
      o += n;
    }
    if (o !== body.length) throw malformed('trailing bytes in delete');
    return { type, ids };
  }
  if (type === RecordType.End) {
    if (body.length !== 5) throw malformed('bad end record');
    return { type, points: body.readUInt32LE(1) };
  }
  throw malformed(`unknown record type ${type}`);
}
