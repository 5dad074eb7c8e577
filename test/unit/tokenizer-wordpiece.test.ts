import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createWordPieceTokenizer, loadWordPieceTokenizer } from '../../src/embed/wordpiece.js';

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'un', 'unaff', '##aff', '##able', '##a', 'able', 'a', ',', 'é'];
const tiny = (over: Record<string, unknown> = {}) => ({
  added_tokens: [],
  normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
  pre_tokenizer: { type: 'BertPreTokenizer' },
  post_processor: { type: 'BertProcessing', cls: ['[CLS]', 2], sep: ['[SEP]', 3] },
  model: {
    type: 'WordPiece',
    unk_token: '[UNK]',
    continuing_subword_prefix: '##',
    max_input_chars_per_word: 9,
    vocab: Object.fromEntries(VOCAB.map((t, i) => [t, i])),
  },
  ...over,
});
const id = (t: string) => VOCAB.indexOf(t);

describe('WordPiece on a tiny vocabulary', () => {
  const tok = createWordPieceTokenizer(tiny());

  it('matches the longest piece first and continues with ## pieces', () => {
    expect(tok.tokenize('unaffable')).toEqual([id('unaff'), id('##able')]);
    expect(tok.tokenize('Unable, a')).toEqual([id('un'), id('##able'), id(','), id('a')]);
  });

  it('turns a word with an unmatchable rest, or longer than max_input_chars_per_word, into one [UNK]', () => {
    expect(tok.tokenize('unx able')).toEqual([id('[UNK]'), id('able')]);
    expect(tok.tokenize('unaaaaaaaa')).toEqual([id('[UNK]')]); // 10 chars > 9
    expect(tok.tokenize('unaaaaaaa')).toEqual([id('un'), ...Array(7).fill(id('##a'))]);
  });

  it('counts tokens without specials and encodes with them, reading ids from the post-processor', () => {
    expect(tok.countTokens('unaffable, able')).toBe(4);
    expect(tok.encode('unaffable, able').ids).toEqual([2, id('unaff'), id('##able'), id(','), id('able'), 3]);
    expect(tok.encode('unaffable, able', 4).ids).toEqual([2, id('unaff'), id('##able'), 3]);
    expect(() => tok.encode('x', 1)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(tok.padId).toBe(0);
    expect(tok.vocabSize).toBe(VOCAB.length);
  });

  it('strips accents only when the normalizer says so', () => {
    expect(tok.tokenize('É')).toEqual([id('[UNK]')]); // é -> e, not in this vocabulary
    const keep = createWordPieceTokenizer(
      tiny({ normalizer: { type: 'BertNormalizer', strip_accents: false, lowercase: true } }),
    );
    expect(keep.tokenize('É')).toEqual([id('é')]);
  });
});

describe('loading tokenizer.json', () => {
  it('reports a missing file as MODEL_NOT_FOUND and bad JSON as MODEL_ERROR', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'srag-tok-'));
    try {
      await expect(loadWordPieceTokenizer(join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
      await writeFile(join(dir, 'bad.json'), '{not json');
      await expect(loadWordPieceTokenizer(join(dir, 'bad.json'))).rejects.toMatchObject({ code: 'MODEL_ERROR' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses tokenizers it does not implement instead of producing wrong ids', () => {
    const bpe = tiny({ model: { type: 'BPE', vocab: {}, merges: [] } });
    expect(() => createWordPieceTokenizer(bpe)).toThrow(expect.objectContaining({ code: 'MODEL_ERROR' }));
    const metaspace = tiny({ pre_tokenizer: { type: 'Metaspace' } });
    expect(() => createWordPieceTokenizer(metaspace)).toThrow(expect.objectContaining({ code: 'MODEL_ERROR' }));
    const nfkc = tiny({ normalizer: { type: 'NFKC' } });
    expect(() => createWordPieceTokenizer(nfkc)).toThrow(expect.objectContaining({ code: 'MODEL_ERROR' }));
  });
});
