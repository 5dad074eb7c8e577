/** Strict UTF-8 decoding: text formats are accepted only when every byte is valid UTF-8. */

// ignoreBOM: false makes the decoder drop a leading byte-order mark for us.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** The decoded text (BOM removed), or undefined when the bytes are not clean UTF-8 text. */
export function decodeUtf8Text(bytes: Uint8Array): string | undefined {
  if (bytes.indexOf(0) !== -1) return undefined;
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
  return hasBinaryControlChars(text) ? undefined : text;
}

/**
 * Valid UTF-8 without NUL bytes is almost always text, but a few binary formats slip through; real
 * text practically never carries C0 control characters other than tab, newline, CR, FF, VT and ESC.
 */
function hasBinaryControlChars(text: string): boolean {
  const sample = text.length > 65_536 ? text.slice(0, 65_536) : text;
  let controls = 0;
  for (let i = 0; i < sample.length; i++) {
    const c = sample.charCodeAt(i);
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0b && c !== 0x0c && c !== 0x0d && c !== 0x1b) controls++;
  }
  return controls > Math.max(8, sample.length / 100);
}

/** CRLF and lone CR become LF, so offsets do not depend on the platform the file came from. */
export function normalizeNewlines(text: string): string {
  return text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
}
