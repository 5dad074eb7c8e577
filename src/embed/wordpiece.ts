/**
 * BERT WordPiece tokenizer read from a HF `tokenizer.json`, matching HF tokenizers' ids exactly
 * (checked against golden fixtures made by the Python package: test/unit/tokenizer-golden.test.ts).
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { splitOnAddedTokens, type AddedToken } from './added-tokens.js';
import { bertPreTokenize, createBertNormalizer, type Normalize } from './bert-normalizer.js';
import type { TokenCounter } from './port.js';

/** The longest input BERT-family models accept (position embeddings), special tokens included. */
export const MAX_MODEL_TOKENS = 512;

export interface WordPieceTokenizer extends TokenCounter {
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  readonly unkId: number;
  readonly vocabSize: number;
  /** [CLS] tokens [SEP], truncated to `maxTokens` (special tokens included; default 512). */
  encode(text: string, maxTokens?: number): { ids: number[] };
  /** Token ids without special tokens. */
  tokenize(text: string): number[];
  /** Number of tokens without special tokens; memoised per word, so cheap on repeated vocabulary. */
  countTokens(text: string): number;
}

const AddedTokenJson = z.object({
  id: z.number().int(),
  content: z.string().min(1),
  single_word: z.boolean().default(false),
  lstrip: z.boolean().default(false),
  rstrip: z.boolean().default(false),
  normalized: z.boolean().default(false),
});

const TokenizerJson = z.object({
  added_tokens: z.array(AddedTokenJson).default([]),
  normalizer: z
    .object({
      type: z.literal('BertNormalizer'),
      clean_text: z.boolean().default(true),
      handle_chinese_chars: z.boolean().default(true),
      strip_accents: z.boolean().nullable().default(null),
      lowercase: z.boolean().default(true),
    })
    .nullable()
    .default(null),
  pre_tokenizer: z.object({ type: z.literal('BertPreTokenizer') }),
  post_processor: z
    .union([
      z.object({
        type: z.literal('TemplateProcessing'),
        single: z.array(z.record(z.string(), z.object({ id: z.string() }))),
        special_tokens: z.record(z.string(), z.object({ ids: z.array(z.number().int()) })),
      }),
      z.object({
        type: z.literal('BertProcessing'),
        cls: z.tuple([z.string(), z.number().int()]),
        sep: z.tuple([z.string(), z.number().int()]),
      }),
    ])
    .nullable()
    .default(null),
  model: z.object({
    type: z.literal('WordPiece'),
    unk_token: z.string().default('[UNK]'),
    continuing_subword_prefix: z.string().default('##'),
    max_input_chars_per_word: z.number().int().positive().default(100),
    vocab: z.record(z.string(), z.number().int().nonnegative()),
  }),
});
type TokenizerJson = z.infer<typeof TokenizerJson>;

export async function loadWordPieceTokenizer(path: string): Promise<WordPieceTokenizer> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (cause) {
    throw new AppError('MODEL_NOT_FOUND', `tokenizer file not readable: ${path}`, { cause, details: { path } });
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (cause) {
    throw new AppError('MODEL_ERROR', `tokenizer file is not valid JSON: ${path}`, { cause, details: { path } });
  }
  return createWordPieceTokenizer(json, path);
}

/** Builds a tokenizer from the parsed contents of a `tokenizer.json`. */
export function createWordPieceTokenizer(json: unknown, source = 'tokenizer.json'): WordPieceTokenizer {
  const parsed = TokenizerJson.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new AppError('MODEL_ERROR', `unsupported tokenizer (only BERT WordPiece is supported): ${source}: ${issues}`, {
      details: { source },
    });
  }
  return new BertWordPiece(parsed.data, source);
}

const SURROGATE = /[\ud800-\udfff]/;
const WORD_CACHE_LIMIT = 200_000;

class BertWordPiece implements WordPieceTokenizer {
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  readonly unkId: number;
  readonly vocabSize: number;

  readonly #normalize: Normalize;
  readonly #vocab: Map<string, number>;
  readonly #continuation: Map<string, number>;
  readonly #maxPieceChars: number;
  readonly #maxContinuationChars: number;
  readonly #maxWordChars: number;
  readonly #rawSpecials: AddedToken[];
  readonly #normalizedSpecials: AddedToken[];
  readonly #words = new Map<string, number[]>();

  constructor(json: TokenizerJson, source: string) {
    const n = json.normalizer;
    this.#normalize = n
      ? createBertNormalizer({
          cleanText: n.clean_text,
          handleChineseChars: n.handle_chinese_chars,
          stripAccents: n.strip_accents,
          lowercase: n.lowercase,
        })
      : (t) => t;
    const model = json.model;
    const prefix = model.continuing_subword_prefix;
    this.#vocab = new Map();
    this.#continuation = new Map();
    let maxPiece = 0;
    let maxCont = 0;
    for (const [piece, id] of Object.entries(model.vocab)) {
      this.#vocab.set(piece, id);
      maxPiece = Math.max(maxPiece, [...piece].length);
      if (prefix !== '' && piece.startsWith(prefix)) {
        const rest = piece.slice(prefix.length);
        this.#continuation.set(rest, id);
        maxCont = Math.max(maxCont, [...rest].length);
      }
    }
    if (prefix === '') {
      this.#continuation = this.#vocab;
      maxCont = maxPiece;
    }
    this.#maxPieceChars = maxPiece;
    this.#maxContinuationChars = maxCont;
    this.#maxWordChars = model.max_input_chars_per_word;
    this.vocabSize = this.#vocab.size;

    const need = (token: string, what: string): number => {
      const id = this.#vocab.get(token) ?? json.added_tokens.find((t) => t.content === token)?.id;
      if (id === undefined) throw new AppError('MODEL_ERROR', `tokenizer has no ${what} token "${token}": ${source}`);
      return id;
    };
    this.unkId = need(model.unk_token, 'unknown');
    const pp = json.post_processor;
    if (pp?.type === 'BertProcessing') {
      this.clsId = pp.cls[1];
      this.sepId = pp.sep[1];
    } else if (pp?.type === 'TemplateProcessing') {
      const specialName = (item: Record<string, { id: string }> | undefined) => item?.SpecialToken?.id;
      const first = specialName(pp.single[0]);
      const last = specialName(pp.single[pp.single.length - 1]);
      const clsId = first === undefined ? undefined : pp.special_tokens[first]?.ids[0];
      const sepId = last === undefined ? undefined : pp.special_tokens[last]?.ids[0];
      if (clsId === undefined || sepId === undefined || pp.single.length !== 3) {
        throw new AppError('MODEL_ERROR', `unsupported post-processor template (want [CLS] A [SEP]): ${source}`);
      }
      this.clsId = clsId;
      this.sepId = sepId;
    } else {
      this.clsId = need('[CLS]', 'classifier');
      this.sepId = need('[SEP]', 'separator');
    }
    this.padId = this.#vocab.get('[PAD]') ?? 0;

    const specials = json.added_tokens.map((t) => ({
      id: t.id,
      content: t.content,
      singleWord: t.single_word,
      lstrip: t.lstrip,
      rstrip: t.rstrip,
      normalized: t.normalized,
    }));
    this.#rawSpecials = specials.filter((t) => !t.normalized);
    // HF matches "normalized" added tokens against normalized text, by their normalized form.
    this.#normalizedSpecials = specials
      .filter((t) => t.normalized)
      .map((t) => ({ ...t, content: this.#normalize(t.content) }))
      .filter((t) => t.content !== '');
  }

  encode(text: string, maxTokens = MAX_MODEL_TOKENS): { ids: number[] } {
    if (!Number.isInteger(maxTokens) || maxTokens < 2) {
      throw new AppError('INVALID_INPUT', `maxTokens must be an integer >= 2 (got ${maxTokens})`);
    }
    const ids = [this.clsId];
    const room = maxTokens - 1;
    this.#forEachWordIds(text, (wordIds) => {
      for (const id of wordIds) {
        if (ids.length >= room) return false;
        ids.push(id);
      }
      return true;
    });
    ids.push(this.sepId);
    return { ids };
  }

  tokenize(text: string): number[] {
    const ids: number[] = [];
    this.#forEachWordIds(text, (wordIds) => {
      for (const id of wordIds) ids.push(id);
      return true;
    });
    return ids;
  }

  countTokens(text: string): number {
    let count = 0;
    this.#forEachWordIds(text, (wordIds) => {
      count += wordIds.length;
      return true;
    });
    return count;
  }

  /** Feeds the ids of each word (or added token) in order; `visit` returns false to stop early. */
  #forEachWordIds(text: string, visit: (ids: readonly number[]) => boolean): void {
    let going = true;
    const onWord = (word: string) => {
      if (going) going = visit(this.#wordIds(word));
    };
    for (const raw of splitOnAddedTokens(text, this.#rawSpecials)) {
      if (!going) return;
      if (typeof raw === 'number') {
        going = visit([raw]);
        continue;
      }
      const normalized = this.#normalize(raw);
      for (const seg of splitOnAddedTokens(normalized, this.#normalizedSpecials)) {
        if (!going) return;
        if (typeof seg === 'number') going = visit([seg]);
        else bertPreTokenize(seg, onWord);
      }
    }
  }

  /** Greedy longest-match-first WordPiece; a word with any unmatchable rest becomes one [UNK]. */
  #wordIds(word: string): number[] {
    const cached = this.#words.get(word);
    if (cached) return cached;
    const ids = this.#pieces(word);
    if (this.#words.size >= WORD_CACHE_LIMIT) this.#words.clear();
    this.#words.set(word, ids);
    return ids;
  }

  #pieces(word: string): number[] {
    // Lengths and slices count code points, as HF does; only astral characters need the array form.
    const chars = SURROGATE.test(word) ? Array.from(word) : undefined;
    const length = chars ? chars.length : word.length;
    if (length > this.#maxWordChars) return [this.unkId];
    const slice = chars ? (a: number, b: number) => chars.slice(a, b).join('') : (a: number, b: number) => word.slice(a, b);
    const ids: number[] = [];
    let start = 0;
    while (start < length) {
      const vocab = start === 0 ? this.#vocab : this.#continuation;
      const longest = start === 0 ? this.#maxPieceChars : this.#maxContinuationChars;
      let end = Math.min(length, start + longest);
      let id: number | undefined;
      while (end > start) {
        id = vocab.get(slice(start, end));
        if (id !== undefined) break;
        end--;
      }
      if (id === undefined) return [this.unkId];
      ids.push(id);
      start = end;
    }
    return ids;
  }
}
