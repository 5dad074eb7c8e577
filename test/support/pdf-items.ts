// pdf.js text items of PDF pages as the answer page sees them (page-text.js input), read in Node with
// the pdfjs-dist the page is served.
import type { PageItem } from '../../src/web/page-text.js';

export async function pdfPageItems(bytes: Uint8Array, pageNumbers: number[]): Promise<Map<number, PageItem[]>> {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  // pdf.js takes the buffer over; the caller's bytes stay usable.
  const pdf = await pdfjs.getDocument({ data: bytes.slice(), isEvalSupported: false, verbosity: 0 }).promise;
  const out = new Map<number, PageItem[]>();
  try {
    for (const n of pageNumbers) {
      const page = await pdf.getPage(n);
      const viewport = page.getViewport({ scale: 1 });
      const items: PageItem[] = [];
      for (const it of (await page.getTextContent()).items) {
        if (!('str' in it)) continue;
        const [x, y] = viewport.convertToViewportPoint(it.transform[4], it.transform[5]);
        items.push({ str: it.str, hasEOL: it.hasEOL, width: it.width, height: it.height, x, y });
      }
      out.set(n, items);
    }
  } finally {
    await pdf.destroy();
  }
  return out;
}
