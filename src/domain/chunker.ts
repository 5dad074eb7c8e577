import { AppError } from '../errors.js';
import type { TokenCounter } from '../embed/port.js';
import { packUnits, splitOversized, type Unit } from './chunk-pack.js';
import { sentenceSpans } from './sentences.js';
import type { ChunkDraft, ChunkSettings, HeadingSpan, PageSpan, ParsedDocument } from './types.js';

/** A stretch of text between hard boundaries (page breaks, headings): chunks never cross one. */
interface Region {
  start: number;
  end: number;
  page?: number;
  heading?: string;
}

function clamp(value: number, max: number): number {
  return Math.max(0, Math.min(max, Math.floor(value)));
}

function headingText(text: string, heading: HeadingSpan): string | undefined {
  const label = (heading.text ?? text.slice(heading.start, heading.end)).replace(/\s+/g, ' ').trim();
  return label.length > 0 ? label : undefined;
}

/**
 * Cuts the text at every page boundary and heading start. Each region carries its page and the heading
 * in force: the latest heading before it (a heading holds until the next heading, which at the same or
 * a higher level replaces it, and at a lower level is the more specific one).
 */
function regionsOf(doc: ParsedDocument): Region[] {
  const length = doc.text.length;
  const pages: PageSpan[] = doc.pages
    .map((p) => ({ page: p.page, start: clamp(p.start, length), end: clamp(p.end, length) }))
    .filter((p) => p.end > p.start)
    .sort((a, b) => a.start - b.start);
  const headings = doc.headings
    .map((h) => ({ start: clamp(h.start, length), label: headingText(doc.text, h) }))
    .sort((a, b) => a.start - b.start);
  const cuts = new Set<number>([0, length]);
  for (const p of pages) cuts.add(p.start).add(p.end);
  for (const h of headings) cuts.add(h.start);
  const sorted = [...cuts].sort((a, b) => a - b);

  const regions: Region[] = [];
  let pageIndex = 0;
  let headingIndex = 0;
  let heading: string | undefined;
  for (let i = 0; i + 1 < sorted.length; i++) {
    const start = sorted[i];
    const end = sorted[i + 1];
    while (headingIndex < headings.length && headings[headingIndex].start <= start) heading = headings[headingIndex++].label;
    while (pageIndex < pages.length && pages[pageIndex].end <= start) pageIndex++;
    const page = pageIndex < pages.length && pages[pageIndex].start <= start ? pages[pageIndex].page : undefined;
    regions.push({ start, end, page, heading });
  }
  return regions;
}

function checkSettings(settings: ChunkSettings): { maxTokens: number; overlapTokens: number } {
  const { maxTokens, overlapTokens } = settings;
  if (!Number.isInteger(maxTokens) || maxTokens < 1) {
    throw new AppError('INVALID_INPUT', 'chunk maxTokens must be a positive integer', { details: { maxTokens } });
  }
  if (!Number.isFinite(overlapTokens) || overlapTokens < 0) {
    throw new AppError('INVALID_INPUT', 'chunk overlapTokens must be zero or more', { details: { overlapTokens } });
  }
  // Overlap that fills a whole chunk would leave no room for new text.
  return { maxTokens, overlapTokens: Math.min(Math.floor(overlapTokens), maxTokens - 1) };
}

/**
 * Splits a parsed document into chunks of at most `maxTokens` (by `counter`), following its structure:
 * no chunk crosses a page break or a heading; inside a region whole sentences are packed greedily, and
 * each next chunk repeats trailing whole sentences worth at most `overlapTokens`. A sentence longer
 * than the limit is cut at word boundaries (inside a word only if the word alone is too long).
 * Every chunk's text is exactly `doc.text.slice(start, end)`, with no surrounding whitespace.
 * Pure and deterministic.
 */
export function chunkDocument(doc: ParsedDocument, settings: ChunkSettings, counter: TokenCounter): ChunkDraft[] {
  const { maxTokens, overlapTokens } = checkSettings(settings);
  const text = doc.text;
  const chunks: ChunkDraft[] = [];
  for (const region of regionsOf(doc)) {
    const units: Unit[] = [];
    for (const span of sentenceSpans(text, region.start, region.end)) {
      const unit = { ...span, tokens: counter.countTokens(text.slice(span.start, span.end)) };
      if (unit.tokens <= maxTokens) units.push(unit);
      else units.push(...splitOversized(text, unit, maxTokens, counter));
    }
    for (const group of packUnits(text, units, maxTokens, overlapTokens, counter)) {
      const start = units[group.first].start;
      const end = units[group.last].end;
      const chunk: ChunkDraft = { index: chunks.length, text: text.slice(start, end), start, end, tokens: group.tokens };
      if (region.page !== undefined) chunk.page = region.page;
      if (region.heading !== undefined) chunk.heading = region.heading;
      chunks.push(chunk);
    }
  }
  return chunks;
}
