/** Pure helpers that turn pdf.js page texts into one text with page spans. */
import type { PageSpan } from '../domain/types.js';

/** Between pages; it belongs to the span of the page before it, so spans stay contiguous. */
export const PAGE_SEPARATOR = '\n\n';

/**
 * Minimal clean-up of one page: control characters dropped, runs of horizontal whitespace (pdf-parse
 * puts tabs between table cells) made one space, spaces at line edges trimmed, blank-line runs capped.
 */
export function normalizePageText(raw: string): string {
  return raw
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000e-\u001f\u007f]/g, '')
    .replace(/[^\S\n]+/g, ' ')
    .replace(/ ?\n ?/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/**
 * Joins page texts with PAGE_SEPARATOR (only between pages that have text) and records 1-based spans
 * that cover the text without gaps: a page with text spans its text plus the separator after it; a
 * page without text is an empty span where the next text begins.
 */
export function layoutPages(pageTexts: string[]): { text: string; pages: PageSpan[] } {
  let text = '';
  const contentStart: Array<number | undefined> = [];
  for (const page of pageTexts) {
    if (page === '') {
      contentStart.push(undefined);
      continue;
    }
    if (text !== '') text += PAGE_SEPARATOR;
    contentStart.push(text.length);
    text += page;
  }
  const starts = new Array<number>(pageTexts.length);
  let next = text.length;
  for (let i = pageTexts.length - 1; i >= 0; i--) {
    next = contentStart[i] ?? next;
    starts[i] = next;
  }
  starts[0] = 0;
  const pages = starts.map((start, i) => ({ page: i + 1, start, end: i + 1 < starts.length ? starts[i + 1] : text.length }));
  return { text, pages };
}

const OFFICE_PREFIX = /^Microsoft (?:Word|PowerPoint|Excel) - /i;
const DOC_EXTENSION = /\.(?:docx?|pptx?|xlsx?|odt|odp|rtf|pdf|txt|indd|qxd|tex|dvi)$/i;
const PLACEHOLDER = /^(?:untitled|title|document|unknown|none|null|undefined|default|\(anonymous\))$/i;
const BARE_FILENAME = /^[^\s/\\]+\.[a-z0-9]{2,4}$/i;
/** `issue-987-test`, `905_Precinct_NoOU`: file-name slugs, not titles. */
const SLUG = /^[\p{L}\p{N}]+(?:[-_][\p{L}\p{N}]+)+$/u;

/**
 * A document title from PDF metadata when it reads like one. Producers fill the field with file names
 * ("Microsoft Word - report.doc", "10811.exe", "issue-987-test"), placeholders and junk; those give no
 * title (the caller falls back to the file name anyway).
 */
export function cleanPdfTitle(candidates: unknown[]): string | undefined {
  for (const raw of candidates) {
    if (typeof raw !== 'string') continue;
    let t = raw.replace(/[\u0000-\u001f\u007f\ufffd]/g, ' ').replace(/\s+/g, ' ').trim();
    t = t.replace(OFFICE_PREFIX, '').replace(DOC_EXTENSION, '').trim();
    if (t.length < 2 || t.length > 300) continue;
    if (!/\p{L}/u.test(t) || PLACEHOLDER.test(t) || BARE_FILENAME.test(t) || SLUG.test(t)) continue;
    return t;
  }
  return undefined;
}

const MIN_TEXT_TO_JUDGE_TITLE = 200;

/** Lower case without diacritics, so "Récréatif" on the cover matches "recreatif" in the metadata. */
function foldForMatch(s: string): string {
  return s.normalize('NFD').replace(/\p{M}+/gu, '').toLowerCase();
}

/**
 * Whether a metadata title belongs to this document: at least half of its words (three letters or
 * more) occur in the opening text. Producers copy metadata from a template or an earlier document, so
 * a cover page reading "Plan directeur de transport actif" can carry the title of another plan; a
 * title that fails gives way to the file name. Substring matching keeps plurals and scripts written
 * without spaces (Chinese, Japanese) matching. An opening too short to judge by keeps the title.
 */
export function titleFitsText(title: string, openingText: string): boolean {
  const words = [...new Set(foldForMatch(title).split(/[^\p{L}\p{N}]+/u).filter((w) => w.length >= 3))];
  if (words.length === 0 || openingText.length < MIN_TEXT_TO_JUDGE_TITLE) return true;
  const text = foldForMatch(openingText);
  const found = words.filter((w) => text.includes(w)).length;
  return found * 2 >= words.length;
}

