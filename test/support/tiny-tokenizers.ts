/** Tiny tokenizer.json files of the non-WordPiece kinds, with segmentations worked out by hand. */

const special = (id: number, content: string) => ({
  id,
  content,
  special: true,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized: false,
});

/** Byte-pair merges over a five-symbol vocabulary, wrapped as <s> … </s> like RoBERTa-style models. */
export function tinyBpe(): object {
  return {
    added_tokens: [special(0, '<unk>'), special(1, '<s>'), special(2, '</s>')],
    normalizer: null,
    pre_tokenizer: { type: 'WhitespaceSplit' },
    model: {
      type: 'BPE',
      unk_token: '<unk>',
      vocab: { '<unk>': 0, '<s>': 1, '</s>': 2, a: 3, b: 4, c: 5, ab: 6, abc: 7 },
      merges: ['a b', 'ab c'],
    },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] }, '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] } },
    },
    decoder: null,
  };
}

/**
 * A SentencePiece-style Unigram model whose best segmentation of "▁abc" is ▁a + bc (log-prob -2),
 * not the greedy longest match ▁ab + c (-5.5): only a real Viterbi search finds it.
 */
export function tinyUnigram(): object {
  return {
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    model: {
      type: 'Unigram',
      unk_id: 0,
      vocab: [['<unk>', 0], ['▁', -3], ['▁a', -1], ['bc', -1], ['▁ab', -0.5], ['a', -4], ['b', -4], ['c', -5]],
    },
    post_processor: null,
    decoder: null,
  };
}
