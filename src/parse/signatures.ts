/** Magic numbers of common binary formats, so an unsupported file is named in its error message. */

interface Signature {
  label: string;
  offset: number;
  bytes: number[];
  /** Formats that are valid UTF-8 text yet are markup we cannot read (indexing them raw is noise). */
  textual?: boolean;
}

const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));

const SIGNATURES: Signature[] = [
  { label: 'a ZIP archive (or DOCX/XLSX/ODT/EPUB)', offset: 0, bytes: [0x50, 0x4b, 0x03, 0x04] },
  { label: 'an empty ZIP archive', offset: 0, bytes: [0x50, 0x4b, 0x05, 0x06] },
  { label: 'a PNG image', offset: 0, bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { label: 'a JPEG image', offset: 0, bytes: [0xff, 0xd8, 0xff] },
  { label: 'a GIF image', offset: 0, bytes: ascii('GIF8') },
  { label: 'a TIFF image', offset: 0, bytes: [0x49, 0x49, 0x2a, 0x00] },
  { label: 'a TIFF image', offset: 0, bytes: [0x4d, 0x4d, 0x00, 0x2a] },
  { label: 'a WebP image', offset: 8, bytes: ascii('WEBP') },
  { label: 'a gzip archive', offset: 0, bytes: [0x1f, 0x8b] },
  { label: 'a bzip2 archive', offset: 0, bytes: ascii('BZh') },
  { label: 'an xz archive', offset: 0, bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { label: 'a 7-Zip archive', offset: 0, bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c] },
  { label: 'a RAR archive', offset: 0, bytes: ascii('Rar!') },
  { label: 'a legacy Office document (DOC/XLS/PPT)', offset: 0, bytes: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1] },
  { label: 'an RTF document', offset: 0, bytes: ascii('{\\rtf'), textual: true },
  { label: 'an ELF executable', offset: 0, bytes: [0x7f, 0x45, 0x4c, 0x46] },
  { label: 'a Windows executable', offset: 0, bytes: ascii('MZ') },
  { label: 'a PostScript file', offset: 0, bytes: ascii('%!PS'), textual: true },
];

/**
 * A short human label for a recognised format we do not parse, or undefined. With `textualOnly`, only
 * formats that are themselves text are considered (short binary magics like `MZ` would misfire on prose).
 */
export function detectUnsupportedFormat(bytes: Uint8Array, textualOnly = false): string | undefined {
  for (const sig of SIGNATURES) {
    if (textualOnly && !sig.textual) continue;
    if (bytes.length < sig.offset + sig.bytes.length) continue;
    if (sig.bytes.every((b, i) => bytes[sig.offset + i] === b)) return sig.label;
  }
  return undefined;
}
