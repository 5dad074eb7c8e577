import type { FileHandle } from 'node:fs/promises';
import { crc32 } from './crc32.js';
import { FRAME_OVERHEAD, MAX_BODY_BYTES } from './log-format.js';

export interface ScanResult {
  /** File offset just past the last intact frame. */
  goodEnd: number;
  /** 'eof': every byte up to `end` was an intact frame; otherwise why scanning stopped at goodEnd. */
  stop: 'eof' | 'torn' | 'corrupt';
  frames: number;
}

const READ_BYTES = 4 * 1024 * 1024;

/**
 * Streams the frames in [start, end) of a file, calling `onBody` with each CRC-checked body. The body
 * is a view into a reused buffer: copy what you keep. Reads in large blocks so replaying a big log
 * costs sequential I/O, never the whole file in memory.
 */
export async function scanFrames(
  handle: FileHandle,
  start: number,
  end: number,
  onBody: (body: Buffer, offset: number) => void,
): Promise<ScanResult> {
  let buf = Buffer.allocUnsafe(Math.min(READ_BYTES, Math.max(64, end - start)));
  let bufFileOffset = start; // file offset of buf[0]
  let bufLength = 0;
  let pos = start; // file offset of the next frame
  let frames = 0;

  // Ensures at least `need` bytes from `pos` are buffered; false when the file ends first.
  const fill = async (need: number): Promise<boolean> => {
    const have = bufFileOffset + bufLength - pos;
    if (have >= need) return true;
    if (pos + need > end) return false;
    const keepFrom = pos - bufFileOffset;
    if (need > buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, Math.min(READ_BYTES, end - pos)));
      buf.copy(bigger, 0, keepFrom, bufLength);
      buf = bigger;
    } else {
      buf.copy(buf, 0, keepFrom, bufLength);
    }
    bufLength -= keepFrom;
    bufFileOffset = pos;
    while (bufLength < need) {
      const want = Math.min(buf.length - bufLength, end - (bufFileOffset + bufLength));
      const { bytesRead } = await handle.read(buf, bufLength, want, bufFileOffset + bufLength);
      if (bytesRead === 0) return false; // the file shrank under us
      bufLength += bytesRead;
    }
    return true;
  };

  while (pos < end) {
    if (!(await fill(FRAME_OVERHEAD))) return { goodEnd: pos, stop: 'torn', frames };
    const at = pos - bufFileOffset;
    const bodyLength = buf.readUInt32LE(at);
    const expected = buf.readUInt32LE(at + 4);
    if (bodyLength === 0 || bodyLength > MAX_BODY_BYTES) return { goodEnd: pos, stop: 'corrupt', frames };
    if (!(await fill(FRAME_OVERHEAD + bodyLength))) return { goodEnd: pos, stop: 'torn', frames };
    const bodyStart = pos - bufFileOffset + FRAME_OVERHEAD;
    if (crc32(buf, bodyStart, bodyStart + bodyLength) !== expected) return { goodEnd: pos, stop: 'corrupt', frames };
    onBody(buf.subarray(bodyStart, bodyStart + bodyLength), pos);
    pos += FRAME_OVERHEAD + bodyLength;
    frames++;
  }
  return { goodEnd: pos, stop: 'eof', frames };
}
