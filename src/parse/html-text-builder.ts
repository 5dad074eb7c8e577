/**
 * Accumulates readable text from HTML text nodes: whitespace collapsed, block boundaries turned into
 * line or paragraph breaks, no leading or trailing whitespace, heading spans recorded as it goes.
 */
import type { HeadingSpan } from '../domain/types.js';

/** Separators in increasing strength; the strongest one requested since the last text wins. */
export const GAP = { none: 0, space: 1, line: 2, paragraph: 3 } as const;
export type Gap = (typeof GAP)[keyof typeof GAP];

const GAP_TEXT: Record<Gap, string> = { 0: '', 1: ' ', 2: '\n', 3: '\n\n' };

export class HtmlTextBuilder {
  private out = '';
  private pending: Gap = GAP.none;
  private heading?: { level: number; start?: number };
  readonly headings: HeadingSpan[] = [];

  requestGap(gap: Gap): void {
    if (gap > this.pending) this.pending = gap;
  }

  /** Flow text: runs of whitespace become one space; edge whitespace becomes a pending gap. */
  appendText(raw: string): void {
    const collapsed = raw.replace(/\s+/g, ' ');
    const core = collapsed.trim();
    if (collapsed.startsWith(' ')) this.requestGap(GAP.space);
    if (core === '') return;
    this.emit(core);
    if (collapsed.endsWith(' ')) this.requestGap(GAP.space);
  }

  /** Text inside `<pre>`: lines and indentation kept, a blank line becomes a paragraph break. */
  appendPreformatted(raw: string): void {
    const lines = raw.replace(/\r\n?/g, '\n').split('\n');
    lines.forEach((line, i) => {
      if (i > 0) this.requestGap(this.pending >= GAP.line ? GAP.paragraph : GAP.line);
      const body = line.trimEnd();
      if (body.trim() === '') return;
      this.emit(this.out === '' ? body.trimStart() : body);
      if (body.length < line.length) this.requestGap(GAP.space);
    });
  }

  openHeading(level: number): void {
    this.heading = { level };
  }

  closeHeading(): void {
    const h = this.heading;
    this.heading = undefined;
    if (!h || h.start === undefined) return;
    const text = this.out.slice(h.start).replace(/\s+/g, ' ').trim();
    if (text !== '') this.headings.push({ start: h.start, end: this.out.length, level: h.level, text });
  }

  get text(): string {
    return this.out;
  }

  private emit(s: string): void {
    if (this.out !== '' && this.pending !== GAP.none) this.out += GAP_TEXT[this.pending];
    this.pending = GAP.none;
    if (this.heading && this.heading.start === undefined) this.heading.start = this.out.length;
    this.out += s;
  }
}
