import { describe, expect, it } from 'vitest';
import { splitSentences } from '../../src/domain/sentence-split.js';

function sentences(text: string): string[] {
  return splitSentences(text).map((s) => text.slice(s.start, s.end));
}

describe('splitSentences', () => {
  it.each<[string, string, string[]]>([
    ['plain', 'One sentence. Another one! A third? Yes.', ['One sentence.', 'Another one!', 'A third?', 'Yes.']],
    ['e.g. and i.e.', 'Use a solvent, e.g. Water or ethanol. It works, i.e. It dissolves.', ['Use a solvent, e.g. Water or ethanol.', 'It works, i.e. It dissolves.']],
    ['et al.', 'Smith et al. Showed this in 2019. Then it was confirmed.', ['Smith et al. Showed this in 2019.', 'Then it was confirmed.']],
    ['Fig. and Dr.', 'See Fig. 3 for details. Dr. Jones agreed. Mr. Smith did not.', ['See Fig. 3 for details.', 'Dr. Jones agreed.', 'Mr. Smith did not.']],
    ['U.S.', 'Sales in the U.S. Army grew. Exports fell.', ['Sales in the U.S. Army grew.', 'Exports fell.']],
    ['decimals', 'The value rose to 3.5 percent. It was 0.25 before.', ['The value rose to 3.5 percent.', 'It was 0.25 before.']],
    ['initials', 'J. R. R. Tolkien wrote it. John F. Kennedy read it.', ['J. R. R. Tolkien wrote it.', 'John F. Kennedy read it.']],
    ['lowercase continuation', 'It costs approx. five dollars. Fine.', ['It costs approx. five dollars.', 'Fine.']],
    ['quotes and brackets', 'He said "stop." Then he left. (This was odd.) Next.', ['He said "stop."', 'Then he left.', '(This was odd.)', 'Next.']],
    ['etc. before a capital', 'Apples, pears, etc. Fruit is healthy.', ['Apples, pears, etc.', 'Fruit is healthy.']],
    ['ellipsis', 'Wait... What happened? Nothing.', ['Wait...', 'What happened?', 'Nothing.']],
    ['paragraphs', 'A heading without a period\n\nBody text here. More text', ['A heading without a period', 'Body text here.', 'More text']],
    ['hard line breaks', 'A sentence broken\nacross lines by PDF extraction. Next one.', ['A sentence broken\nacross lines by PDF extraction.', 'Next one.']],
    ['markdown', '# Title\nIntro text.\n- item one\n- item two\n1. First step\n2. Second step', ['# Title', 'Intro text.', '- item one', '- item two', '1. First step', '2. Second step']],
    ['no terminator', 'just words', ['just words']],
    ['empty', '   \n ', []],
    ['file names and versions', 'Open config.json now. Version 2.1.3 is out.', ['Open config.json now.', 'Version 2.1.3 is out.']],
  ])('%s', (_name, text, expected) => {
    expect(sentences(text)).toEqual(expected);
  });

  it('returns trimmed spans that slice the original text', () => {
    const text = '  Leading space.   Trailing space.  ';
    for (const s of splitSentences(text)) {
      const slice = text.slice(s.start, s.end);
      expect(slice).toBe(slice.trim());
      expect(slice.length).toBeGreaterThan(0);
    }
    expect(sentences(text)).toEqual(['Leading space.', 'Trailing space.']);
  });
});
