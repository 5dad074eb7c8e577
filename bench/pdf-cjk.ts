// How much of a folder of PDFs srag's parser reads, measured against an independent extractor
// (poppler's pdftotext, else pdfminer.six's pdf2txt.py, whichever is on PATH). Made for CJK PDFs whose
// fonts need pdf.js's predefined CMaps: each file is also parsed without pdf.js's data ("before").
// Per file: pages, non-blank characters, CJK characters, and the similarity to the reference: the
// multiset Jaccard of character bigrams after NFKC and removing whitespace (1 = same characters in
// the same local order; line and column order matter little). Annotation text srag adds after the
// page content counts against the similarity, as the reference leaves it out.
// Usage: npx tsx bench/pdf-cjk.ts <dir-of-pdfs> [--json]
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isAppError } from '../src/errors.js';
import { createPdfExtractor, type PdfExtractor } from '../src/parse/pdf-extractor.js';
import { parsePdf } from '../src/parse/pdf.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const dir = args.find((a) => !a.startsWith('--'));
if (!dir) {
  console.error('usage: npx tsx bench/pdf-cjk.ts <dir-of-pdfs> [--json]');
  process.exit(2);
}
const root = resolve(process.env.INIT_CWD ?? process.cwd(), dir);

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu;

function onPath(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const reference: { name: string; read: (file: string) => string } | undefined = onPath('pdftotext')
  ? { name: 'pdftotext', read: (file) => execFileSync('pdftotext', ['-q', '-enc', 'UTF-8', file, '-'], { encoding: 'utf8', maxBuffer: 256e6 }) }
  : onPath('pdf2txt.py')
    ? { name: 'pdf2txt.py', read: (file) => execFileSync('pdf2txt.py', [file], { encoding: 'utf8', maxBuffer: 256e6 }) }
    : undefined;

/** The reference's text, or undefined where it refuses the file (empty, encrypted, broken). */
function readReference(file: string): string | undefined {
  try {
    return reference?.read(file);
  } catch {
    return undefined;
  }
}

const compact = (text: string) => text.normalize('NFKC').replace(/\s+/gu, '');

function bigrams(text: string): Map<string, number> {
  const chars = Array.from(compact(text));
  const counts = new Map<string, number>();
  for (let i = 0; i + 1 < chars.length; i++) {
    const key = chars[i] + chars[i + 1];
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

function similarity(a: string, b: string): number {
  const x = bigrams(a);
  const y = bigrams(b);
  let min = 0;
  let max = 0;
  for (const key of new Set([...x.keys(), ...y.keys()])) {
    min += Math.min(x.get(key) ?? 0, y.get(key) ?? 0);
    max += Math.max(x.get(key) ?? 0, y.get(key) ?? 0);
  }
  return max === 0 ? 1 : min / max;
}

interface Reading {
  text: string;
  pages: number;
  error?: string;
}

async function read(extractor: PdfExtractor, bytes: Uint8Array): Promise<Reading> {
  try {
    const doc = await parsePdf(bytes.slice(), { maxPages: 2000, timeoutMs: 120_000, extractor });
    return { text: doc.text, pages: doc.pages.length };
  } catch (err) {
    if (!isAppError(err)) throw err;
    return { text: '', pages: 0, error: err.code };
  }
}

interface Stats {
  chars: number;
  cjk: number;
  similarity: number | null;
  error?: string;
}

interface Row {
  file: string;
  pages: number;
  after: Stats;
  before: Stats;
  reference: { chars: number; cjk: number } | null;
}

const stats = (r: Reading, ref: string | undefined): Stats => ({
  chars: compact(r.text).length,
  cjk: r.text.match(CJK)?.length ?? 0,
  similarity: ref === undefined ? null : +similarity(r.text, ref).toFixed(3),
  ...(r.error ? { error: r.error } : {}),
});

const withData = createPdfExtractor();
const without = createPdfExtractor({ pdfjsData: null });
const files = readdirSync(root)
  .filter((f) => f.toLowerCase().endsWith('.pdf'))
  .sort();
if (!json) {
  console.log(`${files.length} PDFs in ${root}; reference: ${reference?.name ?? 'none on PATH (install poppler-utils or pdfminer.six)'}`);
  console.log(`${'file'.padEnd(28)} pages   chars    cjk  sim | before: chars    cjk  sim | ref: chars    cjk`);
}
const rows: Row[] = [];
try {
  for (const file of files) {
    const bytes = new Uint8Array(readFileSync(join(root, file)));
    const ref = readReference(join(root, file));
    const after = await read(withData, bytes);
    const before = await read(without, bytes);
    const row: Row = {
      file,
      pages: after.pages,
      after: stats(after, ref),
      before: stats(before, ref),
      reference: ref === undefined ? null : { chars: compact(ref).length, cjk: ref.match(CJK)?.length ?? 0 },
    };
    rows.push(row);
    if (json) {
      console.log(JSON.stringify(row));
      continue;
    }
    const cell = (s: Stats) =>
      `${String(s.chars).padStart(6)} ${String(s.cjk).padStart(6)} ${s.error ?? (s.similarity?.toFixed(2) ?? '-').padStart(4)}`;
    const refCell = row.reference ? `${String(row.reference.chars).padStart(6)} ${String(row.reference.cjk).padStart(6)}` : '-';
    console.log(`${file.slice(0, 28).padEnd(28)} ${String(row.pages).padStart(5)} ${cell(row.after)} | ${cell(row.before)} | ${refCell}`);
  }
} finally {
  await Promise.all([withData.close(), without.close()]);
}
if (!json && reference) {
  // Over the files the reference could read; a file srag fails counts as 0.
  const compared = rows.filter((r) => r.reference !== null);
  const mean = (pick: (r: Row) => number | null) => compared.reduce((n, r) => n + (pick(r) ?? 0), 0) / Math.max(1, compared.length);
  const total = (pick: (r: Row) => number) => rows.reduce((n, r) => n + pick(r), 0);
  console.log(
    `mean similarity ${mean((r) => r.after.similarity).toFixed(3)} (before ${mean((r) => r.before.similarity).toFixed(3)}); ` +
      `CJK characters ${total((r) => r.after.cjk)} (before ${total((r) => r.before.cjk)}, reference ${total((r) => r.reference?.cjk ?? 0)})`,
  );
}
