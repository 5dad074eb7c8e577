/**
 * Text that lives in a page's annotations rather than its content stream: comments (sticky notes,
 * text boxes, remarks on highlights) and filled-in form fields. pdf.js leaves it out of the page's
 * text items, so without this a reviewer's note or a form's answers could never be found.
 */
import { normalizePageText } from './pdf-text.js';

/** The part of pdf.js's annotation data that pdf-worker.mjs sends back (strings already clipped). */
export interface PdfAnnotation {
  subtype: string;
  /** /F: annotation flags (PDF 32000 12.5.3). */
  flags?: number;
  /** /Contents, decoded. */
  contents?: string;
  /** Lines pdf.js read from a FreeText appearance stream, for boxes whose /Contents is empty. */
  appearanceText?: string[];
  fieldType?: string;
  fieldValue?: unknown;
  password?: boolean;
  options?: Array<{ exportValue?: unknown; displayValue?: unknown }>;
}

/**
 * Markup annotations (PDF 32000 12.5.6.2): their /Contents is text a person wrote. Popup is left out
 * (it repeats its parent's text), so are Link and the multimedia kinds (their /Contents is an
 * alternate description of something else).
 */
const MARKUP = new Set([
  'Text',
  'FreeText',
  'Line',
  'Square',
  'Circle',
  'Polygon',
  'PolyLine',
  'Highlight',
  'Underline',
  'Squiggly',
  'StrikeOut',
  'Stamp',
  'Caret',
  'Ink',
  'FileAttachment',
  'Redact',
]);

/** Hidden (bit 2) and NoView (bit 6): a reader never sees the annotation on the page. */
const NOT_SHOWN = 2 | 32;

/** Most annotation text a page may carry: a hostile file can hold thousands of notes. */
export const MAX_ANNOTATION_CHARS_PER_PAGE = 16_000;

/** Paragraph break between page content and each annotation, as between paragraphs on a page. */
const PARAGRAPH = '\n\n';

function asString(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** Values of a text field or list box as a reader would see them; buttons and signatures carry none. */
function fieldText(a: PdfAnnotation): string {
  // A password field's value is a secret typed into the form, not document text.
  if (a.password) return '';
  if (a.fieldType === 'Tx') return asString(a.fieldValue);
  if (a.fieldType !== 'Ch') return '';
  const values = Array.isArray(a.fieldValue) ? a.fieldValue : [a.fieldValue];
  const shown = (v: unknown) => asString(a.options?.find((o) => o.exportValue === v)?.displayValue) || asString(v);
  return values.map(shown).filter((v) => v !== '').join('\n');
}

/** At most `max` UTF-16 units, never ending on half of a surrogate pair. */
function clipUtf16(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = /[\uD800-\uDBFF]/.test(text[max - 1]) ? max - 1 : max;
  return text.slice(0, end);
}

/** The readable text of one annotation, or '' when it has none. */
export function annotationText(a: PdfAnnotation): string {
  if (((a.flags ?? 0) & NOT_SHOWN) !== 0) return '';
  if (a.subtype === 'Widget') return fieldText(a);
  if (!MARKUP.has(a.subtype)) return '';
  const contents = asString(a.contents);
  if (contents.trim() !== '' || a.subtype !== 'FreeText') return contents;
  return (a.appearanceText ?? []).filter((line) => typeof line === 'string').join('\n');
}

/**
 * The page's content followed by its annotations' text, one paragraph each, in /Annots order.
 * Appended, never interleaved: offsets into the content stay those of pdf.js's text items, and a
 * quote from a note is still a verbatim span of the page. Empty and repeated texts are skipped;
 * the total is capped at MAX_ANNOTATION_CHARS_PER_PAGE, cut at a character boundary.
 */
export function withAnnotationText(pageText: string, annotations: readonly PdfAnnotation[]): string {
  const seen = new Set<string>();
  const paragraphs: string[] = [];
  let budget = MAX_ANNOTATION_CHARS_PER_PAGE;
  for (const a of annotations) {
    if (budget <= 0) break;
    const text = normalizePageText(annotationText(a));
    if (text === '' || seen.has(text)) continue;
    seen.add(text);
    const kept = clipUtf16(text, budget).trim();
    budget -= kept.length;
    paragraphs.push(kept);
  }
  if (paragraphs.length === 0) return pageText;
  return `${pageText}${PARAGRAPH}${paragraphs.join(PARAGRAPH)}`;
}
