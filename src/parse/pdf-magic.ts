/** Finding a PDF by its bytes. pdf.js, like Acrobat, accepts the header anywhere in the first 1024 bytes. */

const MAGIC = [0x25, 0x50, 0x44, 0x46, 0x2d]; // "%PDF-"
const HEADER_WINDOW = 1024;
const TRAILER_WINDOW = 2048;

function indexOfBytes(bytes: Uint8Array, needle: number[], from: number, to: number): number {
  const last = Math.min(to, bytes.length) - needle.length;
  outer: for (let i = Math.max(0, from); i <= last; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Offset of `%PDF-` within the header window, or -1. */
export function findPdfHeader(bytes: Uint8Array): number {
  return indexOfBytes(bytes, MAGIC, 0, HEADER_WINDOW);
}

/** True when the tail carries `startxref` or `%%EOF`, the marks every complete PDF ends with. */
export function hasPdfTrailer(bytes: Uint8Array): boolean {
  const from = bytes.length - TRAILER_WINDOW;
  const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
  return (
    indexOfBytes(bytes, ascii('startxref'), from, bytes.length) !== -1 ||
    indexOfBytes(bytes, ascii('%%EOF'), from, bytes.length) !== -1
  );
}
