/**
 * PDF parsing is bounded in memory: a decompression bomb (a 1.6 MB file whose page content inflates to
 * 1.6 GB) fails alone with RESOURCE_LIMIT, the parser process is killed near its cap, this process
 * never holds the inflated bytes, and the same extractor parses the next file.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { deflateRawSync, inflateSync, constants as zlibConstants } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { ParseResult } from '../../src/domain/types.js';
import { createPdfExtractor, parseSource } from '../../src/parse/index.js';
import { documentError } from '../fixtures/parse/errors.js';
import { evalPdf, HAS_EVAL_PDFS } from '../fixtures/parse/eval.js';

const MiB = 1024 * 1024;
const limits = { maxFileBytes: 50 * MiB, maxPages: 100 };
const MINIMAL = 'py-pdf-samples/001-trivial/minimal-document.pdf';
const HAS_PROC = existsSync('/proc/self/status');

/** Adler-32 as (a, b); combine() appends a block of known checksum, so 1.6 GB is never materialized. */
type Adler = [number, number];
const ADLER_MOD = 65521;
function adler32(bytes: Uint8Array): Adler {
  let a = 1;
  let b = 0;
  for (const x of bytes) {
    a = (a + x) % ADLER_MOD;
    b = (b + a) % ADLER_MOD;
  }
  return [a, b];
}
function combine([a1, b1]: Adler, [a2, b2]: Adler, len2: number): Adler {
  const a = (a1 + a2 - 1) % ADLER_MOD;
  const b = (b1 + ((len2 % ADLER_MOD) * ((a1 + ADLER_MOD - 1) % ADLER_MOD)) % ADLER_MOD + b2) % ADLER_MOD;
  return [a, b];
}

/**
 * A valid one-page PDF whose content stream is `BT ... (Bomb) Tj ET` followed by `inflatedMiB` MiB of
 * spaces, FlateDecode. The zlib stream repeats one sync-flushed deflate block of 1 MiB of spaces (a
 * byte-aligned, non-final block), then an empty final block and the true Adler-32: ~1 KB per MiB.
 */
const BOMB_HEAD = 'BT /F1 12 Tf 72 720 Td (Bomb) Tj ET\n';

function bombPdf(inflatedMiB: number): Buffer {
  const head = Buffer.from(BOMB_HEAD);
  const chunk = Buffer.alloc(MiB, 0x20);
  const sync = { level: 9, finishFlush: zlibConstants.Z_SYNC_FLUSH };
  const chunkBlock = deflateRawSync(chunk, sync);
  let check = adler32(head);
  const chunkCheck = adler32(chunk);
  for (let i = 0; i < inflatedMiB; i++) check = combine(check, chunkCheck, chunk.length);
  const trailer = Buffer.alloc(4);
  trailer.writeUInt32BE(((check[1] << 16) | check[0]) >>> 0);
  const stream = Buffer.concat([
    Buffer.from([0x78, 0xda]),
    deflateRawSync(head, sync),
    ...new Array<Buffer>(inflatedMiB).fill(chunkBlock),
    deflateRawSync(Buffer.alloc(0)),
    trailer,
  ]);
  const objects = [
    Buffer.from('<< /Type /Catalog /Pages 2 0 R >>'),
    Buffer.from('<< /Type /Pages /Kids [3 0 R] /Count 1 >>'),
    Buffer.from('<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>'),
    Buffer.concat([Buffer.from(`<< /Length ${stream.length} /Filter /FlateDecode >>\nstream\n`), stream, Buffer.from('\nendstream')]),
    Buffer.from('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'),
  ];
  const parts = [Buffer.from('%PDF-1.4\n')];
  let offset = parts[0].length;
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    const obj = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`), body, Buffer.from('\nendobj\n')]);
    offsets.push(offset);
    parts.push(obj);
    offset += obj.length;
  });
  const xref = [`xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`, ...offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`)];
  parts.push(Buffer.from(`${xref.join('')}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${offset}\n%%EOF\n`));
  return Buffer.concat(parts);
}

/** Pids of this process's PDF parser children (Linux). */
function parserPids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const ppid = /^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
        return Number(ppid) === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('pdf-worker.mjs');
      } catch {
        return false; // exited while we looked
      }
    })
    .map(Number);
}

/** Polls `check` until it holds: a killed process takes a moment to be reaped. */
async function eventually(check: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

function documentText(result: ParseResult): string {
  if (result.kind !== 'document') throw new Error(`expected a document, got ${result.kind}`);
  return result.document.text;
}

const mb = (bytes: number) => Math.round(bytes / MiB);

describe.skipIf(!HAS_EVAL_PDFS)('PDF decompression bomb', () => {
  // Small enough that the test is quick; the 768 MB default behaves the same, only later.
  const maxBytes = 256 * MiB;
  const extractor = createPdfExtractor({ threads: 1, maxBytes });
  afterAll(() => extractor.close());
  const parse = (bytes: Uint8Array) => parseSource(bytes, { filename: 'x.pdf', limits, timeoutMs: 120_000, pdfExtractor: extractor });

  it('builds a bomb that really inflates to 1.6 GB', () => {
    const bomb = bombPdf(1600);
    expect(bomb.length).toBeLessThan(2 * MiB);
    // The small variant inflates with zlib's own checks (Adler-32 included) and holds the text.
    const small = bombPdf(2);
    const body = small.subarray(small.indexOf('stream\n') + 7, small.lastIndexOf('\nendstream'));
    const inflated = inflateSync(body);
    expect(inflated.length).toBe(BOMB_HEAD.length + 2 * MiB);
    expect(inflated.subarray(0, BOMB_HEAD.length).toString()).toBe(BOMB_HEAD);
  });

  it('fails a bomb with RESOURCE_LIMIT, keeps this process small, and parses the next file', { timeout: 180_000 }, async () => {
    // Warm up: the parser process is started and this process has loaded what it needs.
    expect(documentText(await parse(evalPdf(MINIMAL)))).toContain('Lorem ipsum');
    const before = HAS_PROC ? parserPids() : [];
    const baseline = process.memoryUsage.rss();

    const bomb = bombPdf(1600);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
    let err;
    try {
      err = await documentError(parse(bomb));
    } finally {
      clearInterval(sampler);
    }
    expect(err.code).toBe('RESOURCE_LIMIT');
    expect(err.message).toMatch(/more memory than the parser may use/);
    const killedAt = Number(err.details?.rssBytes);
    expect(err.details?.maxBytes).toBe(maxBytes);
    // Killed once over the cap, long before the 1.6 GB the stream would reach (or the ~2.7 GB unbounded).
    expect(killedAt).toBeGreaterThan(maxBytes);
    expect(killedAt).toBeLessThan(maxBytes + 256 * MiB);

    // The same extractor goes on with a fresh process.
    expect(documentText(await parse(evalPdf(MINIMAL)))).toContain('Lorem ipsum');
    const after = process.memoryUsage.rss();
    console.log(
      `pdf bomb (1.6 MB file, 1.6 GB inflated, cap ${mb(maxBytes)} MB): child killed at ${mb(killedAt)} MB, ` +
        `parent baseline ${mb(baseline)} MB, parent peak RSS ${mb(peak)} MB, after ${mb(after)} MB`,
    );
    // The inflated bytes never reach this process; only the 1.6 MB file and its copy to the child do.
    expect(peak - baseline).toBeLessThan(128 * MiB);
    expect(after - baseline).toBeLessThan(64 * MiB);

    if (HAS_PROC) {
      // The killed process is gone (its memory returned); one fresh parser is left, of normal size.
      expect(before).toHaveLength(1);
      expect(await eventually(() => !existsSync(`/proc/${before[0]}`))).toBe(true);
      const now = parserPids();
      expect(now).toHaveLength(1);
      expect(now[0]).not.toBe(before[0]);
    }
  });

  it.skipIf(!HAS_PROC)('retires a parser process that stays above the threshold after a parse', async () => {
    const retiring = createPdfExtractor({ threads: 1, maxBytes, retireAboveBytes: 1 });
    const keeping = createPdfExtractor({ threads: 1, maxBytes, retireAboveBytes: maxBytes });
    // The bomb test's extractor has a parser of its own: count only the processes these two add.
    const others = new Set(parserPids());
    const added = () => parserPids().filter((pid) => !others.has(pid));
    try {
      for (let i = 0; i < 2; i++) {
        expect(documentText(await parseSource(evalPdf(MINIMAL), { limits, pdfExtractor: retiring }))).toContain('Lorem ipsum');
        expect(await eventually(() => added().length === 0)).toBe(true);
      }
      const kept: number[][] = [];
      for (let i = 0; i < 2; i++) {
        expect(documentText(await parseSource(evalPdf(MINIMAL), { limits, pdfExtractor: keeping }))).toContain('Lorem ipsum');
        kept.push(added());
      }
      expect(kept[0]).toHaveLength(1);
      expect(kept[1]).toEqual(kept[0]);
    } finally {
      await Promise.all([retiring.close(), keeping.close()]);
    }
  });
});
