/**
 * The model's tokenizer, read from any HF `tokenizer.json` (WordPiece, BPE, Unigram) through
 * `@huggingface/tokenizers`. For BERT WordPiece files the hand-written tokenizer (wordpiece.ts) may
 * serve instead, and only after it has given the library's ids on a probe set at load time.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { AppError } from '../errors.js';
import type { TokenCounter } from './port.js';
import { createWordPieceTokenizer, MAX_MODEL_TOKENS } from './wordpiece.js';

export interface ModelTokenizer extends TokenCounter {
  /** Which implementation serves: the library, or the hand-written BERT WordPiece. */
  readonly engine: 'library' | 'wordpiece';
  /** The tokenizer.json model type (WordPiece, BPE, Unigram...). */
  readonly modelType: string;
  readonly padId: number;
  /** Ids with the post-processor's special tokens, truncated to `maxTokens` as HF does (default 512). */
  encode(text: string, maxTokens?: number): { ids: number[] };
  /** Number of tokens without special tokens. */
  countTokens(text: string): number;
}

export interface TokenizerChoice {
  /**
   * `auto`: the hand-written WordPiece for BERT WordPiece files when it agrees with the library on
   * the probe texts, the library otherwise. `library` always uses the library.
   */
  engine?: 'auto' | 'library';
  /** Builds the hand-written tokenizer; tests pass a faulty one to prove the check rejects it. */
  handWritten?: (json: unknown, source: string) => ModelTokenizer;
  /** Called when a hand-written tokenizer was rejected, with the first text it got wrong. */
  onMismatch?: (info: { probe: number; source: string }) => void;
}

interface TokenizerFileShape {
  model?: { type?: unknown; vocab?: unknown };
  pre_tokenizer?: { type?: unknown } | null;
  normalizer?: { type?: unknown } | null;
}

/** Texts that exercise what differs between tokenizers: case, accents, CJK, punctuation, long words, specials. */
export const PROBE_TEXTS: readonly string[] = [
  '',
  'Hello, World! The quick brown fox jumps over the lazy dog.',
  'Interleukin-6 (IL-6) levels rose 3.5-fold (p<0.001) after 24h; see Fig. 2B.',
  'Café naïve résumé Ångström façade São Paulo Straße ÉCOLE',
  '北京大学 東京 서울 ありがとう 中文字符 mixed with English',
  'emoji 😀👍🏽 and symbols ™ © ® ∑ ∫ √ ≈ ≠ ≤ ≥ → ← ↔',
  'tabs\tand\nnewlines\r\nand  multiple   spaces\u00a0nbsp\u200bzero-width',
  'supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis',
  'x'.repeat(120) + ' ' + 'ab'.repeat(40),
  'A [SEP] inside text, [CLS] and [MASK] and [PAD] [UNK] tokens.',
  'Ελληνικά Русский текст العربية עברית हिन्दी ไทย',
  '\u0000control\u0007chars\u001f and combining e\u0301 a\u0308 o\u0303',
  "don't won't it's O'Neill's rock'n'roll e-mail http://example.org/a?b=c&d=e#f",
  ('The mitochondrial genome encodes thirteen proteins of the respiratory chain. ').repeat(12),
];

export async function loadModelTokenizer(path: string, choice: TokenizerChoice = {}): Promise<ModelTokenizer> {
  const json = await readJson(path, 'MODEL_NOT_FOUND', 'tokenizer file');
  // tokenizer_config.json is optional: its few settings (remove_space, lowercasing) are off by default.
  const configPath = join(dirname(path), 'tokenizer_config.json');
  const config = await readJson(configPath, null, 'tokenizer config').catch(() => ({}));
  return createModelTokenizer(json, { ...choice, config, source: path });
}

export function createModelTokenizer(
  json: unknown,
  opts: TokenizerChoice & { config?: unknown; source?: string } = {},
): ModelTokenizer {
  const source = opts.source ?? 'tokenizer.json';
  const library = createLibraryTokenizer(json, opts.config ?? {}, source);
  if ((opts.engine ?? 'auto') === 'library' || !isBertWordPiece(json)) return library;
  let handWritten: ModelTokenizer;
  try {
    handWritten = (opts.handWritten ?? handWrittenWordPiece)(json, source);
  } catch {
    // A BERT-shaped file the hand-written reader does not accept (an unusual post-processor): the library reads it.
    return library;
  }
  const probe = firstMismatch(handWritten, library);
  if (probe === undefined) return handWritten;
  opts.onMismatch?.({ probe, source });
  return library;
}

/** Index of the first probe text on which the two disagree (ids, truncated ids or counts). */
export function firstMismatch(a: ModelTokenizer, b: ModelTokenizer, texts: readonly string[] = PROBE_TEXTS): number | undefined {
  for (let i = 0; i < texts.length; i++) {
    const t = texts[i];
    if (!sameIds(a.encode(t, 100_000).ids, b.encode(t, 100_000).ids)) return i;
    if (!sameIds(a.encode(t, 16).ids, b.encode(t, 16).ids)) return i;
    if (a.countTokens(t) !== b.countTokens(t)) return i;
  }
  return undefined;
}

export function sameIds(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function isBertWordPiece(json: unknown): boolean {
  const j = json as TokenizerFileShape;
  return j?.model?.type === 'WordPiece' && j.pre_tokenizer?.type === 'BertPreTokenizer' && (j.normalizer == null || j.normalizer.type === 'BertNormalizer');
}

function handWrittenWordPiece(json: unknown, source: string): ModelTokenizer {
  const wp = createWordPieceTokenizer(json, source);
  return {
    engine: 'wordpiece',
    modelType: 'WordPiece',
    padId: wp.padId,
    encode: (text, maxTokens) => wp.encode(text, maxTokens),
    countTokens: (text) => wp.countTokens(text),
  };
}

const LIBRARY_MODELS = new Set(['WordPiece', 'BPE', 'Unigram']);

/** The library's tokenizer, with HF's truncation: the text's tokens are cut so the special tokens still fit. */
export function createLibraryTokenizer(json: unknown, config: unknown, source = 'tokenizer.json'): ModelTokenizer {
  const modelType = (json as TokenizerFileShape)?.model?.type;
  if (typeof modelType !== 'string' || !LIBRARY_MODELS.has(modelType)) {
    // The library would quietly build a fallback model for an unknown type and give wrong ids.
    throw new AppError(
      'MODEL_ERROR',
      `unsupported tokenizer model ${JSON.stringify(modelType)} (want one of ${[...LIBRARY_MODELS].join(', ')}): ${source}`,
      { details: { source } },
    );
  }
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(json as object, (config ?? {}) as object);
  } catch (cause) {
    throw new AppError('MODEL_ERROR', `unsupported tokenizer ${modelType}: ${source}: ${(cause as Error).message}`, {
      cause,
      details: { source, modelType },
    });
  }
  const { prefix, suffix } = specialTokens(tok);
  const added = prefix.length + suffix.length;
  const padId = tok.token_to_id('[PAD]') ?? tok.token_to_id('<pad>') ?? 0;
  return {
    engine: 'library',
    modelType,
    padId,
    encode(text, maxTokens = MAX_MODEL_TOKENS) {
      if (!Number.isInteger(maxTokens) || maxTokens < added) {
        throw new AppError('INVALID_INPUT', `maxTokens must be an integer >= ${added} (got ${maxTokens})`);
      }
      const body = tok.encode(text, { add_special_tokens: false }).ids;
      const room = maxTokens - added;
      return { ids: [...prefix, ...(body.length > room ? body.slice(0, room) : body), ...suffix] };
    },
    countTokens: (text) => tok.encode(text, { add_special_tokens: false }).ids.length,
  };
}

/**
 * The special tokens the post-processor puts before and after a single text ([CLS] … [SEP], <s> … </s>,
 * or none), found by where a probe's own ids sit inside its full encoding.
 */
function specialTokens(tok: Tokenizer): { prefix: number[]; suffix: number[] } {
  for (const probe of ['a', 'hello', 'x']) {
    const body = tok.encode(probe, { add_special_tokens: false }).ids;
    const full = tok.encode(probe).ids;
    if (body.length === 0) continue;
    for (let at = 0; at + body.length <= full.length; at++) {
      if (sameIds(full.slice(at, at + body.length), body)) {
        return { prefix: full.slice(0, at), suffix: full.slice(at + body.length) };
      }
    }
  }
  const empty = tok.encode('').ids;
  return { prefix: empty, suffix: [] };
}

async function readJson(path: string, missingCode: 'MODEL_NOT_FOUND' | null, what: string): Promise<unknown> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (cause) {
    if (missingCode === null) throw cause;
    throw new AppError(missingCode, `${what} not readable: ${path}`, { cause, details: { path } });
  }
  try {
    return JSON.parse(raw);
  } catch (cause) {
    throw new AppError('MODEL_ERROR', `${what} is not valid JSON: ${path}`, { cause, details: { path } });
  }
}
