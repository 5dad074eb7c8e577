/**
 * Readable text from HTML with htmlparser2's streaming parser (entities decoded by it).
 *
 * Two texts are built in one pass: the content of `<main>`/`<article>` (or role="main"), minus nav and
 * aside inside it, and the whole body minus page chrome (nav, header, footer, aside). The first wins
 * when it has any text; headers and footers inside an article are kept, as they hold its title and notes.
 * Never text: head, script, style, noscript, template, svg, math, iframe, object, canvas, `hidden`.
 */
import { Parser } from 'htmlparser2';
import type { ParsedDocument } from '../domain/types.js';
import { GAP, type Gap, HtmlTextBuilder } from './html-text-builder.js';

const SKIPPED = new Set(['script', 'style', 'noscript', 'template', 'svg', 'math', 'iframe', 'object', 'canvas']);
const MAIN = new Set(['main', 'article']);
const CHROME = new Set(['nav', 'header', 'footer', 'aside']);
const CHROME_ROLES = new Set(['navigation', 'banner', 'contentinfo', 'complementary']);
/** Chrome that is noise even inside the main content. */
const NOISE = new Set(['nav', 'aside']);
const NOISE_ROLES = new Set(['navigation', 'complementary']);

const PARAGRAPH_BLOCKS = new Set([
  'p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'pre', 'section', 'article', 'main', 'header',
  'footer', 'nav', 'aside', 'figure', 'table', 'ul', 'ol', 'dl', 'form', 'fieldset', 'hr', 'address',
  'details', 'body', 'html',
]);
const LINE_BLOCKS = new Set([
  'div', 'li', 'tr', 'br', 'dt', 'dd', 'figcaption', 'caption', 'summary', 'option', 'legend', 'thead',
  'tbody', 'tfoot', 'center',
]);
const CELLS = new Set(['td', 'th']);
/** What may sit in <head>; any other element means the head ended without its closing tag. */
const HEAD_CONTENT = new Set(['title', 'meta', 'link', 'style', 'script', 'base', 'noscript', 'template']);

interface Frame {
  name: string;
  skip: boolean;
  head: boolean;
  main: boolean;
  chrome: boolean;
  noise: boolean;
  pre: boolean;
  title: boolean;
  heading: number;
}

function gapFor(name: string): Gap {
  if (PARAGRAPH_BLOCKS.has(name)) return GAP.paragraph;
  if (LINE_BLOCKS.has(name)) return GAP.line;
  if (CELLS.has(name)) return GAP.space;
  return GAP.none;
}

function frameFor(name: string, attribs: Record<string, string>): Frame {
  const role = (attribs.role ?? '').toLowerCase();
  return {
    name,
    skip: SKIPPED.has(name) || 'hidden' in attribs || attribs['aria-hidden'] === 'true',
    head: name === 'head',
    main: MAIN.has(name) || role === 'main',
    chrome: CHROME.has(name) || CHROME_ROLES.has(role),
    noise: NOISE.has(name) || NOISE_ROLES.has(role),
    pre: name === 'pre',
    title: name === 'title',
    heading: /^h[1-6]$/.test(name) ? Number(name[1]) : 0,
  };
}

class HtmlReader {
  readonly main = new HtmlTextBuilder();
  readonly page = new HtmlTextBuilder();
  private readonly stack: Frame[] = [];
  private readonly depth = { skip: 0, head: 0, main: 0, chrome: 0, noise: 0, pre: 0, title: 0 };
  private titleText = '';
  private titleDone = false;

  open(name: string, attribs: Record<string, string>): void {
    if (this.stack.at(-1)?.head && !HEAD_CONTENT.has(name)) this.close('head');
    const frame = frameFor(name, attribs);
    this.stack.push(frame);
    this.count(frame, 1);
    this.gap(gapFor(name));
    if (frame.heading) {
      if (this.mainActive()) this.main.openHeading(frame.heading);
      if (this.pageActive()) this.page.openHeading(frame.heading);
    }
  }

  close(name: string): void {
    const at = this.stack.map((f) => f.name).lastIndexOf(name);
    if (at === -1) return;
    while (this.stack.length > at) {
      const frame = this.stack.pop() as Frame;
      if (frame.heading) {
        this.main.closeHeading();
        this.page.closeHeading();
      }
      if (frame.title && this.titleText.trim() !== '') this.titleDone = true;
      this.count(frame, -1);
      this.gap(gapFor(frame.name));
    }
  }

  text(data: string): void {
    if (this.stack.at(-1)?.head && data.trim() !== '') this.close('head');
    if (this.depth.title > 0) {
      if (!this.titleDone && this.depth.skip === 0) this.titleText += data;
      return;
    }
    for (const [builder, active] of [
      [this.main, this.mainActive()],
      [this.page, this.pageActive()],
    ] as const) {
      if (!active) continue;
      if (this.depth.pre > 0) builder.appendPreformatted(data);
      else builder.appendText(data);
    }
  }

  get title(): string | undefined {
    const t = this.titleText.replace(/\s+/g, ' ').trim();
    return t === '' ? undefined : t;
  }

  private mainActive(): boolean {
    return this.depth.skip === 0 && this.depth.head === 0 && this.depth.main > 0 && this.depth.noise === 0;
  }

  private pageActive(): boolean {
    return this.depth.skip === 0 && this.depth.head === 0 && this.depth.chrome === 0;
  }

  private gap(gap: Gap): void {
    if (gap === GAP.none) return;
    this.main.requestGap(gap);
    this.page.requestGap(gap);
  }

  private count(frame: Frame, delta: 1 | -1): void {
    for (const key of Object.keys(this.depth) as Array<keyof typeof this.depth>) {
      if (frame[key]) this.depth[key] += delta;
    }
  }
}

export function parseHtml(html: string): ParsedDocument {
  const reader = new HtmlReader();
  const parser = new Parser(
    {
      onopentag: (name, attribs) => reader.open(name, attribs),
      onclosetag: (name) => reader.close(name),
      ontext: (data) => reader.text(data),
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  const chosen = reader.main.text.trim() !== '' ? reader.main : reader.page;
  return { type: 'html', text: chosen.text, title: reader.title, pages: [], headings: chosen.headings };
}
