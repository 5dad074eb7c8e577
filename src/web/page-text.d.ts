// Types for page-text.js (plain JavaScript so the browser loads it as it is; tests import it from TS).
export interface PageItem {
  str: string;
  hasEOL?: boolean;
  width: number;
  height: number;
  x: number;
  y: number;
}
export interface TrackedText {
  text: string;
  item: Int32Array;
  char: Int32Array;
}
export interface ItemRange {
  item: number;
  from: number;
  to: number;
}
export function rawPageText(items: PageItem[]): TrackedText;
export function normalizeTracked(raw: TrackedText): TrackedText;
export function trackedPageText(items: PageItem[]): TrackedText;
export function itemRanges(page: TrackedText, start: number, end: number): ItemRange[];
export function locateCitation(
  pages: Array<{ page: number; start: number; end: number }>,
  start: number,
  end: number,
  fallbackPage: number | undefined,
): { page: number; start: number; end: number };
