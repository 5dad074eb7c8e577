import { describe, expect, it } from 'vitest';
import { rrf } from '../../src/domain/fusion.js';

const ids = (...xs: string[]) => xs.map((id) => ({ id }));

describe('rrf', () => {
  it.each<[string, { id: string }[][], string[]]>([
    ['one list keeps its order', [ids('a', 'b', 'c')], ['a', 'b', 'c']],
    ['agreement wins', [ids('a', 'b', 'c'), ids('c', 'b', 'a'), ids('b', 'x')], ['b', 'a', 'c', 'x']],
    ['an id in both lists beats ids in one', [ids('a', 'b'), ids('c', 'b')], ['b', 'a', 'c']],
    ['ties break by best rank, then earlier list', [ids('a', 'b'), ids('c', 'd')], ['a', 'c', 'b', 'd']],
    ['empty lists', [[], []], []],
    ['duplicates inside a list count once, at the best rank', [ids('a', 'a', 'b'), ids('b', 'a')], ['a', 'b']],
  ])('%s', (_name, lists, expected) => {
    expect(rrf(lists).map((h) => h.id)).toEqual(expected);
  });

  it('computes sum of 1/(k + rank)', () => {
    const [top] = rrf([ids('a'), ids('x', 'a')], 60);
    expect(top.id).toBe('a');
    expect(top.score).toBeCloseTo(1 / 61 + 1 / 62, 15);
    expect(rrf([ids('a')], { k: 0 })[0].score).toBe(1);
  });

  it('is symmetric: swapping lists with mirrored ranks keeps the tie order deterministic', () => {
    const a = rrf([ids('p', 'q'), ids('q', 'p')]).map((h) => h.id);
    const b = rrf([ids('q', 'p'), ids('p', 'q')]).map((h) => h.id);
    expect(a).toEqual(['p', 'q']);
    expect(b).toEqual(['q', 'p']);
  });

  it('supports per-list weights and validates options', () => {
    expect(rrf([ids('a', 'b'), ids('b', 'a')], { weights: [1, 3] }).map((h) => h.id)).toEqual(['b', 'a']);
    expect(() => rrf([ids('a')], { weights: [1, 2] })).toThrow(RangeError);
    expect(() => rrf([ids('a')], -1)).toThrow(RangeError);
  });
});
