import { describe, expect, it } from 'vitest';
import { createBm25Index } from '../../src/domain/bm25.js';
import { porterStem } from '../../src/domain/porter-stemmer.js';
import { analyze } from '../../src/domain/tokenize-lexical.js';

describe('porterStem', () => {
  // Examples from Porter (1980), per step, and whole-algorithm results for familiar words.
  it.each([
    ['caresses', 'caress'], ['ponies', 'poni'], ['ties', 'ti'], ['caress', 'caress'], ['cats', 'cat'],
    ['feed', 'feed'], ['agreed', 'agre'], ['plastered', 'plaster'], ['bled', 'bled'], ['motoring', 'motor'],
    ['sing', 'sing'], ['conflated', 'conflat'], ['troubled', 'troubl'], ['sized', 'size'], ['hopping', 'hop'],
    ['tanned', 'tan'], ['falling', 'fall'], ['hissing', 'hiss'], ['fizzed', 'fizz'], ['failing', 'fail'],
    ['filing', 'file'], ['happy', 'happi'], ['sky', 'sky'], ['relational', 'relat'], ['conditional', 'condit'],
    ['valenci', 'valenc'], ['digitizer', 'digit'], ['triplicate', 'triplic'], ['hopefulness', 'hope'],
    ['revival', 'reviv'], ['allowance', 'allow'], ['adjustable', 'adjust'], ['adoption', 'adopt'],
    ['communism', 'commun'], ['effective', 'effect'], ['probate', 'probat'], ['rate', 'rate'], ['cease', 'ceas'],
    ['controlling', 'control'], ['roll', 'roll'], ['generalizations', 'gener'], ['oscillators', 'oscil'],
    ['connection', 'connect'], ['connected', 'connect'], ['connecting', 'connect'], ['is', 'is'], ['2019', '2019'],
    ['caf\u00e9', 'caf\u00e9'],
  ])('%s -> %s', (word, stem) => {
    expect(porterStem(word)).toBe(stem);
  });
});

describe('analyze', () => {
  it.each([
    ['The Cats are running!', ['cat', 'run']],
    ['Résumé of COVID-19 vaccines', ['resum', 'covid', '19', 'vaccin']],
    ['to be or not to be', []],
    ['', []],
  ])('%j', (text, terms) => {
    expect(analyze(text)).toEqual(terms);
  });
});

const corpus: [string, string][] = [
  ['cats', 'Cats are small domestic felines. A cat purrs when it is content.'],
  ['dogs', 'Dogs are loyal domestic animals; a dog barks at strangers.'],
  ['engines', 'A diesel engine ignites fuel by compression rather than a spark.'],
  ['catdog', 'Both cats and dogs can live together in one house.'],
  ['long', 'Cats. ' + 'Unrelated filler words about weather, rivers and mountains. '.repeat(20)],
];

function index() {
  const bm25 = createBm25Index();
  for (const [id, text] of corpus) bm25.add(id, text, id === 'cats' || id === 'catdog' ? 'secret' : id);
  return bm25;
}

describe('bm25 ranking', () => {
  it.each([
    ['why does a cat purr', 'cats'],
    ['dog barking at strangers', 'dogs'],
    ['diesel compression ignition', 'engines'],
    ['cats and dogs living together', 'catdog'],
  ])('%s -> %s first', (query, first) => {
    expect(index().search(query, 3)[0].id).toBe(first);
  });

  it('scores a short focused document above a long one with the same tf (length normalisation)', () => {
    const ids = index().search('cats', 5).map((h) => h.id);
    expect(ids.indexOf('cats')).toBeLessThan(ids.indexOf('long'));
  });

  it('returns nothing for unknown or stopword-only queries', () => {
    expect(index().search('quantum chromodynamics', 5)).toEqual([]);
    expect(index().search('the of and', 5)).toEqual([]);
  });

  it('honours k and sorts by score', () => {
    const hits = index().search('cats dogs domestic', 2);
    expect(hits).toHaveLength(2);
    expect(hits[0].score).toBeGreaterThanOrEqual(hits[1].score);
  });

  it('breaks ties by insertion order', () => {
    const bm25 = createBm25Index();
    for (const id of ['z', 'a', 'm']) bm25.add(id, 'identical text');
    expect(bm25.search('identical', 3).map((h) => h.id)).toEqual(['z', 'a', 'm']);
  });

  it('uses the parameters: b=0 ignores document length', () => {
    const bm25 = createBm25Index({ k1: 1.2, b: 0 });
    bm25.add('short', 'apple');
    bm25.add('long', 'apple pear plum cherry grape melon');
    const [a, b] = bm25.search('apple', 2);
    expect(a.score).toBeCloseTo(b.score, 12);
    expect(() => createBm25Index({ b: 2 })).toThrow(RangeError);
  });
});

describe('bm25 filters apply inside scoring', () => {
  it('never returns a rejected document and still fills k from accepted ones', () => {
    const bm25 = createBm25Index();
    // 50 strongly matching secret documents would fill any top-k that was filtered afterwards.
    for (let i = 0; i < 50; i++) bm25.add(`secret-${i}`, 'budget budget budget forecast', 'hr-only');
    for (let i = 0; i < 5; i++) bm25.add(`public-${i}`, `the budget was discussed in meeting ${i} with many other words`, 'public');
    const seenKeys: string[] = [];
    const hits = bm25.search('budget forecast', 5, (_id, key) => {
      seenKeys.push(key);
      return key === 'public';
    });
    expect(hits.map((h) => h.id).sort()).toEqual(['public-0', 'public-1', 'public-2', 'public-3', 'public-4']);
    // The verdict is cached per filter key: asked once per key, not once per chunk.
    expect(seenKeys.sort()).toEqual(['hr-only', 'public']);
  });

  it.each([
    ['cats', ['dogs', 'engines', 'long']],
    ['domestic', ['dogs']],
  ])('%s with the secret key rejected', (query, allowed) => {
    const hits = index().search(query, 10, (_id, key) => key !== 'secret');
    for (const h of hits) expect(allowed).toContain(h.id);
    expect(hits.some((h) => h.id === 'cats' || h.id === 'catdog')).toBe(false);
  });
});

describe('bm25 updates', () => {
  it('remove drops a document and its statistics; re-adding replaces', () => {
    const bm25 = index();
    expect(bm25.remove('engines')).toBe(true);
    expect(bm25.remove('engines')).toBe(false);
    expect(bm25.search('diesel', 5)).toEqual([]);
    expect(bm25.size).toBe(4);
    bm25.add('dogs', 'diesel engines only now');
    expect(bm25.size).toBe(4);
    expect(bm25.search('diesel', 5).map((h) => h.id)).toEqual(['dogs']);
    expect(bm25.search('barks', 5)).toEqual([]);
  });

  it('scores identically after many removals trigger compaction', () => {
    const fresh = createBm25Index();
    const churned = createBm25Index();
    for (let i = 0; i < 300; i++) churned.add(`tmp-${i}`, `temporary document ${i} about apples`);
    for (let i = 0; i < 100; i++) {
      const text = `document ${i} mentions ${i % 3 === 0 ? 'apples and pears' : 'oranges'}`;
      fresh.add(`d${i}`, text);
      churned.add(`d${i}`, text);
    }
    for (let i = 0; i < 300; i++) churned.remove(`tmp-${i}`);
    expect(churned.size).toBe(100);
    expect(churned.search('apples pears', 10)).toEqual(fresh.search('apples pears', 10));
  });
});
