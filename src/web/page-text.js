/**
 * From citation offsets to pdf.js text items, with no text search: the page text is rebuilt from the
 * text items exactly as srag's extractor builds it (pdf-parse's getPageText with its default
 * parameters, then normalizePageText in src/parse/pdf-text.ts), keeping for every character the item
 * and the character inside it that it came from. A quote that occurs twice on a page is still marked
 * where the citation points. Pure: no DOM, no pdf.js; runs in the browser and under vitest.
 */

/** pdf-parse's defaults (ParseParameters.js): a new line when y moves more than this... */
const LINE_THRESHOLD = 4.6;
/** ...and a tab between items on one line that are further apart than this. */
const CELL_THRESHOLD = 7;

/**
 * @typedef {{ str: string, hasEOL?: boolean, width: number, height: number, x: number, y: number }} PageItem
 *   A pdf.js text item with `str`, its origin already in viewport space (scale 1).
 * @typedef {{ text: string, item: Int32Array, char: Int32Array }} TrackedText
 *   `item[i]`/`char[i]`: where text[i] came from; -1 for characters the extractor inserted.
 * @typedef {{ item: number, from: number, to: number }} ItemRange  characters [from, to) of items[item].str
 */

/** @returns {TrackedText} the raw page text as pdf-parse joins it, before normalisation. */
export function rawPageText(/** @type {PageItem[]} */ items) {
  let text = '';
  const item = [];
  const char = [];
  const push = (/** @type {string} */ s, /** @type {number} */ index) => {
    text += s;
    for (let k = 0; k < s.length; k++) {
      item.push(index);
      char.push(index < 0 ? -1 : k);
    }
  };
  // The last string pdf-parse pushed (undefined before the first).
  let last;
  let lastX;
  let lastY;
  let lineHeight = 0;
  items.forEach((it, index) => {
    const { x, y } = it;
    if (lastY !== undefined && Math.abs(lastY - y) > LINE_THRESHOLD) {
      const startsLine = it.str.startsWith('\n') || (it.str.trim() === '' && it.hasEOL);
      if (last !== undefined && !last.endsWith('\n') && !startsLine && Math.abs(lastY - y) - 1 > lineHeight) {
        push('\n', -1);
        last = '\n';
        lineHeight = 0;
      }
    }
    // pdf-parse prefixes the tab to the item's own string; here it is kept apart from the item.
    let piece = it.str;
    if (lastY !== undefined && Math.abs(lastY - y) < LINE_THRESHOLD && lastX !== undefined && Math.abs(lastX - x) > CELL_THRESHOLD) {
      push('\t', -1);
      piece = `\t${it.str}`;
    }
    push(it.str, index);
    last = piece;
    lastX = x + it.width;
    lastY = y;
    lineHeight = Math.max(lineHeight, it.height);
    if (it.hasEOL) {
      push('\n', -1);
      last = '\n';
    }
    if (it.hasEOL || piece.endsWith('\n')) lineHeight = 0;
  });
  return { text, item: Int32Array.from(item), char: Int32Array.from(char) };
}

/**
 * `text.replace(pattern, replacement)` that keeps the origins: each character of a replacement comes
 * from the first not yet used character of its match that equals it, else from the match's first one.
 * @returns {TrackedText}
 */
function replaceTracked(/** @type {TrackedText} */ src, /** @type {RegExp} */ pattern, /** @type {string} */ replacement) {
  let text = '';
  const item = [];
  const char = [];
  let at = 0;
  const keep = (/** @type {number} */ i, /** @type {string} */ c) => {
    text += c;
    item.push(src.item[i]);
    char.push(src.char[i]);
  };
  for (const m of src.text.matchAll(pattern)) {
    const start = m.index ?? 0;
    for (; at < start; at++) keep(at, src.text[at]);
    let used = -1;
    for (const c of replacement) {
      const found = m[0].indexOf(c, used + 1);
      if (found >= 0) used = found;
      keep(start + (found >= 0 ? found : 0), c);
    }
    at = start + m[0].length;
  }
  for (; at < src.text.length; at++) keep(at, src.text[at]);
  return { text, item: Int32Array.from(item), char: Int32Array.from(char) };
}

/**
 * normalizePageText (src/parse/pdf-text.ts), step for step, with origins. A unit test holds the two
 * to the same output.
 * @returns {TrackedText}
 */
export function normalizeTracked(/** @type {TrackedText} */ raw) {
  let t = replaceTracked(raw, /\r\n?/g, '\n');
  t = replaceTracked(t, /[\u0000-\u0008\u000e-\u001f\u007f]/g, '');
  t = replaceTracked(t, /[^\S\n]+/g, ' ');
  t = replaceTracked(t, / ?\n ?/g, '\n');
  t = replaceTracked(t, /\n{3,}/g, '\n\n');
  t = replaceTracked(t, /^\s+|\s+$/g, '');
  return t;
}

/** The page text srag indexed for these items, with the origin of every character. */
export function trackedPageText(/** @type {PageItem[]} */ items) {
  return normalizeTracked(rawPageText(items));
}

/**
 * The item ranges that make up [start, end) of the page text (offsets relative to the page's start),
 * in item order; characters the extractor inserted (line breaks, cell tabs) belong to no item.
 * @returns {ItemRange[]}
 */
export function itemRanges(/** @type {TrackedText} */ page, /** @type {number} */ start, /** @type {number} */ end) {
  /** @type {ItemRange[]} */
  const out = [];
  const from = Math.max(0, start);
  const to = Math.min(page.text.length, end);
  for (let i = from; i < to; i++) {
    const item = page.item[i];
    if (item < 0) continue;
    const c = page.char[i];
    const last = out[out.length - 1];
    if (last && last.item === item) last.to = Math.max(last.to, c + 1);
    else out.push({ item, from: c, to: c + 1 });
  }
  return out;
}

/**
 * Where a citation lands: its page (the one whose span holds `start`), and its offsets relative to
 * that page's start. `pages` are the document's spans from /content; `fallbackPage` is the citation's.
 * @param {{ page: number, start: number, end: number }[]} pages
 */
export function locateCitation(pages, /** @type {number} */ start, /** @type {number} */ end, /** @type {number | undefined} */ fallbackPage) {
  const span = pages.find((p) => p.start <= start && start < p.end) ?? pages.find((p) => p.page === fallbackPage) ?? pages[0];
  if (!span) return { page: fallbackPage ?? 1, start, end };
  return { page: span.page, start: start - span.start, end: end - span.start };
}
