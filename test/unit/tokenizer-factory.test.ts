import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createModelTokenizer, loadModelTokenizer, type ModelTokenizer } from '../../src/embed/tokenizer.js';
import { openTokenCounterAt } from '../../src/runtime.js';
import { tinyBpe, tinyUnigram } from '../support/tiny-tokenizers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BGE_TOKENIZER = resolve(ROOT, '.cache/models/bge-small-en-v1.5-q/bge-small-en-v1.5-q-tokenizer.json');

describe('tokenizers beyond BERT WordPiece go through the library', () => {
  it('BPE: merges applied in rank order, unknown symbols become <unk>, HF truncation keeps <s> … </s>', () => {
    const tok = createModelTokenizer(tinyBpe());
    expect(tok.engine).toBe('library');
    expect(tok.modelType).toBe('BPE');
    // abc -> a b c -> ab c -> abc; ab -> ab; ba has no merge; bad: d is not in the vocabulary.
    expect(tok.encode('abc ab ba bad').ids).toEqual([1, 7, 6, 4, 3, 4, 3, 0, 2]);
    expect(tok.encode('abc ab ba bad', 4).ids).toEqual([1, 7, 6, 2]);
    expect(tok.countTokens('abc ab ba bad')).toBe(7);
    expect(() => tok.encode('abc', 1)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('Unigram: the most probable segmentation, no special tokens when there is no post-processor', () => {
    const tok = createModelTokenizer(tinyUnigram());
    expect(tok.engine).toBe('library');
    expect(tok.modelType).toBe('Unigram');
    expect(tok.encode('abc ab').ids).toEqual([2, 3, 4]);
    expect(tok.encode('abc ab x').ids).toEqual([2, 3, 4, 1, 0]);
    expect(tok.encode('abc ab', 2).ids).toEqual([2, 3]);
    expect(tok.countTokens('abc')).toBe(2);
  });

  it('reads a tokenizer.json from disk and serves as the chunker’s token counter', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'srag-tok-'));
    try {
      await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tinyUnigram()));
      const tok = await loadModelTokenizer(join(dir, 'tokenizer.json'));
      expect(tok.modelType).toBe('Unigram');
      expect((await openTokenCounterAt(dir)).countTokens('abc ab')).toBe(3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects unreadable and unsupported files with typed errors', async () => {
    await expect(loadModelTokenizer('/nonexistent/tokenizer.json')).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    expect(() => createModelTokenizer({ model: {} })).toThrow(expect.objectContaining({ code: 'MODEL_ERROR' }));
    expect(() => createModelTokenizer({ ...tinyBpe(), model: { type: 'NoSuchModel', vocab: {} } })).toThrow(
      expect.objectContaining({ code: 'MODEL_ERROR' }),
    );
  });
});

describe('BERT WordPiece: the hand-written tokenizer serves only when it gives the library’s ids', () => {
  const bge = JSON.parse(readFileSync(BGE_TOKENIZER, 'utf8')) as object;

  it('picks the hand-written WordPiece for bge-small, which agrees with the library', () => {
    expect(createModelTokenizer(bge).engine).toBe('wordpiece');
    expect(createModelTokenizer(bge, { engine: 'library' }).engine).toBe('library');
  });

  it('falls back to the library when the hand-written one gets a probe text wrong', () => {
    const library = createModelTokenizer(bge, { engine: 'library' });
    // Right on plain ASCII, wrong as soon as an accent appears: the kind of slip a corpus could hide.
    const faulty = (): ModelTokenizer => ({
      ...library,
      engine: 'wordpiece',
      encode: (text, max) => (/[^\x00-\x7f]/.test(text) ? { ids: [101, 100, 102] } : library.encode(text, max)),
    });
    const mismatches: number[] = [];
    const tok = createModelTokenizer(bge, { handWritten: faulty, onMismatch: (m) => mismatches.push(m.probe) });
    expect(tok.engine).toBe('library');
    expect(mismatches).toHaveLength(1);
  });

  it('falls back when only truncation differs', () => {
    const library = createModelTokenizer(bge, { engine: 'library' });
    const noTruncation = (): ModelTokenizer => ({ ...library, engine: 'wordpiece', encode: (text) => library.encode(text, 100_000) });
    expect(createModelTokenizer(bge, { handWritten: noTruncation }).engine).toBe('library');
  });

  it('gives the same ids as the library on real abstracts, truncated at 512 and at 64', () => {
    const lines = readFileSync(resolve(ROOT, '../shared/eval/scifact/corpus.jsonl'), 'utf8').split('\n').slice(0, 200);
    const texts = lines.filter((l) => l.trim()).map((l) => (JSON.parse(l) as { text: string }).text);
    const hand = createModelTokenizer(bge);
    const library = createModelTokenizer(bge, { engine: 'library' });
    expect(hand.engine).toBe('wordpiece');
    const differ = texts.filter(
      (t) =>
        JSON.stringify(hand.encode(t).ids) !== JSON.stringify(library.encode(t).ids) ||
        JSON.stringify(hand.encode(t, 64).ids) !== JSON.stringify(library.encode(t, 64).ids) ||
        hand.countTokens(t) !== library.countTokens(t),
    );
    expect(texts.length).toBeGreaterThan(150);
    expect(differ).toEqual([]);
  });
});
