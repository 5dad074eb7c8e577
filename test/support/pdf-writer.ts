/**
 * Small PDFs written byte by byte, so parser tests can describe exactly the font, encoding and
 * annotations a case needs: objects numbered from 1 in the order given, a cross-reference table with
 * real offsets, the first object as the catalog. Bodies are written as Latin-1 (one byte a char).
 */

/** A stream object body; `content` is ASCII (use hex strings for other bytes). */
export function stream(dict: string, content: string): string {
  return `<< ${dict} /Length ${content.length} >>\nstream\n${content}\nendstream`;
}

/** PDF hex string of some bytes given as hex digits, e.g. encoded text: `<93FA967B>`. */
export function hexString(hex: string): string {
  return `<${hex.replace(/\s+/g, '').toUpperCase()}>`;
}

/** A text string in UTF-16BE with its byte-order mark, as /Contents, /V and /T take non-Latin text. */
export function utf16String(text: string): string {
  let hex = 'FEFF';
  for (let i = 0; i < text.length; i++) hex += text.charCodeAt(i).toString(16).padStart(4, '0');
  return hexString(hex);
}

export function writePdf(objects: string[]): Uint8Array {
  let out = '%PDF-1.7\n%\u00e2\u00e3\u00cf\u00d3\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) out += `${String(offset).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Uint8Array.from(out, (c) => c.charCodeAt(0));
}

/** One page (object 3) holding `pageBody` (resources, annotations) with `extra` objects from 4 on. */
export function onePagePdf(pageBody: string, extra: string[], catalogExtra = ''): Uint8Array {
  return writePdf([
    `<< /Type /Catalog /Pages 2 0 R ${catalogExtra} >>`,
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] ${pageBody} >>`,
    ...extra,
  ]);
}

export interface CidFontCase {
  /** Predefined CMap named by /Encoding. */
  encoding: string;
  /** Adobe character collection of the CIDFont: Japan1, GB1, CNS1 or Korea1. */
  ordering: string;
  /** One of the CJK fonts readers are expected to have (never embedded here). */
  baseFont: string;
  /** The text drawn, and its bytes in `encoding` as hex digits. */
  text: string;
  bytes: string;
}

/**
 * A page with a Latin line in Helvetica, then `text` drawn in a Type0 font whose encoding is a
 * predefined CMap over a non-embedded CIDFontType0: the PDF carries no ToUnicode map, so the reader
 * needs the CMap to split the bytes into CIDs and Adobe's CID-to-Unicode map to read them.
 */
export function cidFontPdf(c: CidFontCase, latinLine = 'CJK sample'): Uint8Array {
  const content = `BT /F1 14 Tf 72 720 Td (${latinLine}) Tj ET\nBT /F2 14 Tf 72 690 Td ${hexString(c.bytes)} Tj ET`;
  return onePagePdf('/Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> /Contents 4 0 R', [
    stream('', content),
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
    `<< /Type /Font /Subtype /Type0 /BaseFont /${c.baseFont} /Encoding /${c.encoding} /DescendantFonts [7 0 R] >>`,
    `<< /Type /Font /Subtype /CIDFontType0 /BaseFont /${c.baseFont} /CIDSystemInfo << /Registry (Adobe) /Ordering (${c.ordering}) /Supplement 2 >> /FontDescriptor 8 0 R /DW 1000 >>`,
    `<< /Type /FontDescriptor /FontName /${c.baseFont} /Flags 6 /FontBBox [0 -120 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 700 /StemV 80 >>`,
  ]);
}
