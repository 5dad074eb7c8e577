/** Added tokens (BERT's [CLS], [SEP], [MASK]...) found verbatim in input text, as HF tokenizers finds them. */

export interface AddedToken {
  id: number;
  content: string;
  /** Matches only when not inside a word. */
  singleWord: boolean;
  /** Swallows whitespace on its left / right. */
  lstrip: boolean;
  rstrip: boolean;
}

/** A run of text to tokenize, or the id of an added token found in the text. */
export type Segment = string | number;

const WORD_CHAR = /[\p{L}\p{N}_]/u;
const WHITESPACE = /\s/u;

/**
 * Splits `text` around added tokens (leftmost, then longest match), as HF's AddedVocabulary does
 * before normalisation: a literal "[SEP]" in a document is the separator token, exactly as in HF.
 */
export function splitOnAddedTokens(text: string, specials: readonly AddedToken[]): Segment[] {
  if (specials.length === 0 || text === '') return [text];
  // One scan per distinct first character (all of BERT's start with "[") before any per-token search.
  if (!specials.some((s) => text.includes(s.content[0]))) return [text];
  const out: Segment[] = [];
  let from = 0;
  let emittedTo = 0;
  for (;;) {
    let best: AddedToken | undefined;
    let bestAt = -1;
    for (const s of specials) {
      let at = text.indexOf(s.content, from);
      while (at >= 0 && s.singleWord && !isWholeWord(text, at, at + s.content.length)) {
        at = text.indexOf(s.content, at + 1);
      }
      if (at >= 0 && (bestAt < 0 || at < bestAt || (at === bestAt && s.content.length > best!.content.length))) {
        best = s;
        bestAt = at;
      }
    }
    if (!best) break;
    let start = bestAt;
    let end = bestAt + best.content.length;
    if (best.lstrip) while (start > emittedTo && WHITESPACE.test(text[start - 1])) start--;
    if (best.rstrip) while (end < text.length && WHITESPACE.test(text[end])) end++;
    if (start > emittedTo) out.push(text.slice(emittedTo, start));
    out.push(best.id);
    emittedTo = end;
    from = end;
  }
  if (emittedTo === 0) return [text];
  if (emittedTo < text.length) out.push(text.slice(emittedTo));
  return out;
}

function isWholeWord(text: string, start: number, end: number): boolean {
  return (start === 0 || !WORD_CHAR.test(text[start - 1])) && (end === text.length || !WORD_CHAR.test(text[end]));
}
