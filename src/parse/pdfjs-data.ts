/**
 * The data files pdf.js needs to read text it cannot decode alone: predefined CMaps (CJK encodings
 * such as 90ms-RKSJ-H or GBK-EUC-H, and the Adobe-*-UCS2 maps from CIDs to Unicode) and the standard
 * font programs used when a PDF does not embed one of the base fonts. Both ship inside pdfjs-dist and
 * are read from disk; pdf.js never fetches them from the network in Node.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ConfigError } from '../errors.js';

export interface PdfjsData {
  /** Directory of packed `.bcmap` files, with a trailing slash (pdf.js appends file names to it). */
  cMapDir: string;
  /** Directory of standard font programs, with a trailing slash. */
  standardFontDir: string;
}

/**
 * The pdfjs-dist that pdf-parse itself loads: the data must come from the very pdf.js version that
 * reads it (packed CMaps and font lists change between versions).
 */
export function installedPdfjsRoot(): string {
  const pdfParse = createRequire(import.meta.url).resolve('pdf-parse');
  return dirname(createRequire(pdfParse).resolve('pdfjs-dist/package.json'));
}

/** A file each directory must hold: present only when the package was installed whole. */
const MARKERS = {
  cMapDir: ['cmaps', 'Adobe-Japan1-UCS2.bcmap'],
  standardFontDir: ['standard_fonts', 'FoxitSerif.pfb'],
} as const;

/**
 * Locates and checks the data directories. Without them pdf.js does not fail: it returns CJK text
 * as nothing or as Latin-1 garbage, so a missing directory must stop the parser rather than let
 * every such document be indexed wrongly.
 */
export function pdfjsData(root: string = installedPdfjsRoot()): PdfjsData {
  const dirs = {} as Record<keyof PdfjsData, string>;
  for (const key of Object.keys(MARKERS) as Array<keyof PdfjsData>) {
    const [name, marker] = MARKERS[key];
    const dir = join(root, name);
    if (!existsSync(join(dir, marker))) {
      throw new ConfigError(`pdf.js data directory ${dir} is missing or incomplete (no ${marker}); reinstall the npm packages (npm ci)`, {
        details: { dir, marker },
      });
    }
    // A forward slash: pdf.js checks for it, and Node's fs accepts it on every platform.
    dirs[key] = `${dir}/`;
  }
  return dirs;
}
