/**
 * The answer as DOM, built from text nodes only (answers quote documents: never parsed as HTML).
 * `[n]` markers with a citation become buttons; others stay text until their citation arrives.
 */

/** @typedef {{ n: number, documentId: string, title: string, source: string, page?: number, start: number, end: number, quote: string, score: number, relevance?: number }} Citation */

export function citationLabel(/** @type {Citation} */ c) {
  const where = c.page ? `${c.title}, page ${c.page}` : c.title;
  return c.relevance === undefined ? where : `${where} (relevance ${Math.round(c.relevance * 100)} %)`;
}

/**
 * @param {HTMLElement} container
 * @param {string} text
 * @param {Map<number, Citation>} citations
 * @param {(c: Citation, button: HTMLElement) => void} open
 */
export function renderAnswer(container, text, citations, open) {
  const nodes = [];
  let at = 0;
  for (const m of text.matchAll(/\[(\d+)\]/g)) {
    const c = citations.get(Number(m[1]));
    if (!c) continue;
    if (m.index > at) nodes.push(document.createTextNode(text.slice(at, m.index)));
    nodes.push(citeButton(c, `[${c.n}]`, open));
    at = m.index + m[0].length;
  }
  if (at < text.length) nodes.push(document.createTextNode(text.slice(at)));
  container.replaceChildren(...nodes);
}

function citeButton(/** @type {Citation} */ c, /** @type {string} */ text, /** @type {(c: Citation, b: HTMLElement) => void} */ open) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'cite';
  b.textContent = text;
  b.dataset.n = String(c.n);
  b.setAttribute('aria-label', `Source ${c.n}: ${citationLabel(c)}`);
  b.addEventListener('click', () => open(c, b));
  return b;
}

/** The numbered source list under the answer: title, page and the quoted words. */
export function renderCitations(/** @type {HTMLOListElement} */ list, /** @type {Citation[]} */ citations, /** @type {(c: Citation, b: HTMLElement) => void} */ open) {
  list.replaceChildren(
    ...citations.map((c) => {
      const li = document.createElement('li');
      li.value = c.n;
      const b = citeButton(c, citationLabel(c), open);
      b.classList.add('cite-title');
      const q = document.createElement('q');
      q.textContent = c.quote;
      li.append(b, q);
      return li;
    }),
  );
}
